/**
 * The kubelet's keyring for one image (`providersDockerKeyring.Lookup` and `BasicDockerKeyring` in
 * k8s.io/kubernetes pkg/credentialprovider/keyring.go): every provider's auth map is added to one
 * keyring, in config order; its index is every normalised key, sorted in reverse byte order, so
 * more specific paths come before their host whichever provider gave them; a key that several
 * providers gave lists their credentials in config order. The lookup returns every credential
 * whose key matches the image, and, when none does and the image is on Docker Hub, the credentials
 * stored for `index.docker.io`.
 */
import { lookupAuth, normalizeAuthKey } from "@kubelet-credential-provider/core";
import type { PluginAuth } from "./decode.ts";

/** One provider's answer (from its plugin or its cache) for the image. */
export interface ProviderAuth {
  provider: string;
  auth: Readonly<Record<string, PluginAuth>>;
}

/** A credential the kubelet would hand to the container runtime, in the order it would try them. */
export interface MatchedCredential {
  provider: string;
  /** The auth map key as the plugin wrote it. */
  key: string;
  username: string;
  password: string;
}

const _DEFAULT_REGISTRY_HOST = "index.docker.io";

/** Every credential for `image` (normalised, as the kubelet looks it up), in the kubelet's order. */
export function mergeCredentials(image: string, answers: readonly ProviderAuth[]): MatchedCredential[] {
  const found: { credential: MatchedCredential; index: Buffer }[] = [];
  for (const { provider, auth } of answers) {
    for (const { key, value } of lookupAuth(auth as Record<string, PluginAuth>, image)) {
      found.push({
        credential: { provider, key, username: value.username, password: value.password },
        index: Buffer.from(normalizeAuthKey(key) ?? ""),
      });
    }
  }
  // Stable: equal keys keep config order, then the order within one answer.
  found.sort((a, b) => Buffer.compare(b.index, a.index));
  if (found.length > 0) return found.map((entry) => entry.credential);

  if (!isDefaultRegistryMatch(image)) return [];
  const fallback: MatchedCredential[] = [];
  for (const { provider, auth } of answers) {
    for (const [key, value] of Object.entries(auth)) {
      if (normalizeAuthKey(key) === _DEFAULT_REGISTRY_HOST) {
        fallback.push({ provider, key, username: value.username, password: value.password });
      }
    }
  }
  return fallback;
}

/** The kubelet's isDefaultRegistryMatch: whether an image name pulls from Docker Hub. */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf("/");
  const first = slash === -1 ? image : image.slice(0, slash);
  if (first === "") return false;
  if (slash === -1) return true;
  if (first === "docker.io" || first === _DEFAULT_REGISTRY_HOST) return true;
  return !/[.:]/.test(first);
}
