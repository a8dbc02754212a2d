/**
 * Service account token mode (a provider with `tokenAttributes`), as the kubelet runs it
 * (`pluginProvider.provide` and `serviceAccountProvider` in plugin.go, kubelet 1.34; 1.33 has no
 * cacheType and no echo guard, see kubelet-versions.ts):
 *
 * - a pod without a service account: the plugin is not run when `requireServiceAccount` is true,
 *   and runs without a token when it is false;
 * - every `requiredServiceAccountAnnotationKeys` entry must be an annotation of the service
 *   account, or the plugin is not run; `optionalServiceAccountAnnotationKeys` are passed when
 *   present; no other annotation is passed;
 * - the cache key gains the service account's namespace, name, UID and passed annotations, and, with
 *   `cacheType: Token`, the token's hash;
 * - the echo guard: unless `cacheType` is Token, a response whose password is the token itself is
 *   refused.
 *
 * The simulator cannot ask an API server for a token: the token, the service account's name and its
 * annotations are given (`--service-account-token`, `--service-account`,
 * `--service-account-annotation`); a given token is what stands for "the pod has a service account".
 */
import { createHash } from "node:crypto";
import type { CredentialProvider } from "@kubelet-credential-provider/config";

/** The pod's service account, as the kubelet would find it. */
export interface ServiceAccount {
  namespace: string;
  name: string;
  /** The service account's UID; part of the cache key. Default "". */
  uid?: string;
  /** The token the kubelet would request for the provider's audience. */
  token: string;
  /** Every annotation on the service account; the kubelet passes only the configured keys. */
  annotations: Readonly<Record<string, string>>;
}

/** What the kubelet does with one provider for one pod, before looking at its cache. */
export type ServiceAccountDecision =
  | { run: false; error: string }
  | {
      run: true;
      /** The token for the request, when in service account mode with a service account. */
      token?: string;
      /** The annotations for the request (only configured keys that are present). */
      annotations?: Record<string, string>;
      /** The service account part of the cache key; "" when not in service account mode. */
      cacheKey: string;
      /** Whether the echo guard applies to the answer. */
      echoGuard: boolean;
    };

/** Applies the provider's tokenAttributes to the pod's service account (or its absence). */
export function serviceAccountDecision(
  provider: CredentialProvider,
  serviceAccount: ServiceAccount | undefined,
): ServiceAccountDecision {
  const attributes = provider.tokenAttributes;
  // The kubelet enters service account mode only with an audience (validation requires one).
  if (attributes === undefined || attributes.serviceAccountTokenAudience === "") {
    return { run: true, cacheKey: "", echoGuard: false };
  }
  if (serviceAccount === undefined) {
    if (attributes.requireServiceAccount === true) {
      return {
        run: false,
        error:
          "not run: tokenAttributes.requireServiceAccount is true and the pod has no service account (no --service-account-token given); the kubelet logs this only at -v=5",
      };
    }
    return { run: true, cacheKey: "", echoGuard: false };
  }

  const { namespace, name } = serviceAccount;
  const annotations: Record<string, string> = {};
  for (const key of attributes.requiredServiceAccountAnnotationKeys ?? []) {
    if (!Object.hasOwn(serviceAccount.annotations, key)) {
      return {
        run: false,
        error: `not run: Failed to get service account data ${namespace}/${name}: required annotation ${key} not found`,
      };
    }
    annotations[key] = serviceAccount.annotations[key] as string;
  }
  for (const key of attributes.optionalServiceAccountAnnotationKeys ?? []) {
    if (Object.hasOwn(serviceAccount.annotations, key)) {
      annotations[key] = serviceAccount.annotations[key] as string;
    }
  }
  const byToken = attributes.cacheType === "Token";
  const cacheKey = JSON.stringify([
    namespace,
    name,
    serviceAccount.uid ?? "",
    Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ...(byToken ? ["token", tokenHash(serviceAccount.token)] : []),
  ]);
  return { run: true, token: serviceAccount.token, annotations, cacheKey, echoGuard: !byToken };
}

/** The kubelet's getHashIfNotEmpty. */
export function tokenHash(token: string): string {
  return token === "" ? "" : `sha256:${createHash("sha256").update(token).digest("hex")}`;
}

/**
 * The echo guard: the kubelet's error when a password in `auth` is the service account token and
 * the cacheType is not Token, or undefined.
 */
export function echoGuardError(
  auth: Readonly<Record<string, { password: string }>>,
  token: string | undefined,
  image: string,
): string | undefined {
  if (!token) return undefined;
  for (const entry of Object.values(auth)) {
    if (entry.password === token) {
      return `Credential provider plugin returned the service account token as the password for image ${JSON.stringify(image)}, which is not allowed when service account cache type is not set to 'Token'`;
    }
  }
  return undefined;
}
