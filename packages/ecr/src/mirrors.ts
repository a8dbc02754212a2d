/**
 * `--registry-mirror SOURCE:TARGET[,…]`: registries that serve ECR content under another name
 * (an ECR pull-through cache in front of Docker Hub, a containerd mirror, a registry proxy). An
 * image on SOURCE gets the credentials of the ECR registry TARGET.
 *
 * SOURCE is a registry host, optionally with a port (`mirror.example.com`, `registry.local:5000`,
 * `docker.io`); TARGET is an ECR registry host. They are split at the last colon, since TARGET
 * never has a port. Both are lower-cased. A malformed entry is a usage error that names it.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { EcrHost } from "./hosts.ts";
import { parseEcrHost } from "./hosts.ts";

/** Registry host → the ECR registry whose credentials it gets. */
export type RegistryMirrors = ReadonlyMap<string, EcrHost>;

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const SOURCE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`);
const EXAMPLE = "mirror.example.com:123456789012.dkr.ecr.us-west-2.amazonaws.com";

/**
 * Parses the flag's values (already split on commas). Empty input gives an empty map.
 *
 * @throws CredentialProviderError `USAGE`, naming the entry and what is wrong with it.
 */
export function parseRegistryMirrors(entries: readonly string[]): RegistryMirrors {
  const mirrors = new Map<string, EcrHost>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    const fail = (reason: string) =>
      new CredentialProviderError(
        "USAGE",
        `--registry-mirror entry ${JSON.stringify(entry)}: ${reason} (expected SOURCE:TARGET, e.g. ${EXAMPLE})`,
      );
    const colon = entry.lastIndexOf(":");
    if (colon <= 0 || colon === entry.length - 1) throw fail("missing SOURCE or TARGET");
    const source = entry.slice(0, colon).toLowerCase();
    const target = entry.slice(colon + 1);
    const ecr = parseEcrHost(target);
    if (!ecr) throw fail(`TARGET ${JSON.stringify(target)} is not an Amazon ECR registry host`);
    const sourceMatch = SOURCE.exec(source);
    if (!sourceMatch) throw fail(`SOURCE ${JSON.stringify(source)} is not a registry host[:port]`);
    const port = sourceMatch[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw fail(`SOURCE port ${port} is out of range`);
    }
    if (parseEcrHost(source)) throw fail(`SOURCE ${source} is an ECR registry itself`);
    const previous = mirrors.get(source);
    if (previous && previous.host !== ecr.host) {
      throw fail(`SOURCE ${source} is already mapped to ${previous.host}`);
    }
    mirrors.set(source, ecr);
  }
  return mirrors;
}

/** The ECR registry a (lower-case) registry host is a mirror of, if any. */
export function lookupMirror(mirrors: RegistryMirrors, host: string): EcrHost | undefined {
  return mirrors.get(host.toLowerCase());
}
