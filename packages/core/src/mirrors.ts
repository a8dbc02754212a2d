/**
 * `--registry-mirror SOURCE:TARGET[,…]`, the flag every cloud provider offers: registries that
 * serve a cloud registry's content under another name (a pull-through cache, a containerd mirror,
 * a registry proxy). An image on SOURCE gets the credentials of the cloud registry TARGET.
 *
 * SOURCE is a registry `host[:port]`; TARGET is one of the provider's own registry hosts, which
 * the provider parses. They are split at the last colon (a TARGET never has a port), white space
 * is ignored (as the Go ACR plugin does) and both are lower-cased. A malformed entry is a usage
 * error that names it, never silently skipped.
 */
import { CredentialProviderError } from "./errors.ts";

/** Registry host (lower case) → the provider's registry whose credentials it gets. */
export type RegistryMirrors<T> = ReadonlyMap<string, T>;

/** Options of `parseRegistryMirrors`: how to tell a TARGET that is the provider's own registry, and words for its errors. */
export interface RegistryMirrorOptions<T extends { host: string }> {
  /** The provider's own registry for a TARGET host, or undefined when it is not one. */
  parseTarget(host: string): T | undefined;
  /** What a TARGET must be, for messages: "an Amazon ECR registry host". */
  targetKind: string;
  /** A valid entry, for messages. */
  example: string;
}

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const SOURCE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`);

/**
 * Parses the flag's values (each may hold several comma-separated entries).
 *
 * @throws CredentialProviderError `USAGE`, naming the entry and what is wrong with it.
 */
export function parseRegistryMirrors<T extends { host: string }>(
  values: readonly string[],
  options: RegistryMirrorOptions<T>,
): RegistryMirrors<T> {
  const mirrors = new Map<string, T>();
  for (const raw of values.flatMap((value) => value.split(","))) {
    const entry = raw.replace(/\s+/g, "");
    if (entry === "") continue;
    const fail = (reason: string) =>
      new CredentialProviderError(
        "USAGE",
        `--registry-mirror entry ${JSON.stringify(entry.slice(0, 200))}: ${reason} (expected SOURCE:TARGET, e.g. ${options.example})`,
      );
    const colon = entry.lastIndexOf(":");
    if (colon <= 0 || colon === entry.length - 1) throw fail("missing SOURCE or TARGET");
    const source = entry.slice(0, colon).toLowerCase();
    const target = entry.slice(colon + 1);
    const registry = options.parseTarget(target);
    if (!registry) throw fail(`TARGET ${JSON.stringify(target)} is not ${options.targetKind}`);
    const sourceMatch = SOURCE.exec(source);
    if (!sourceMatch) throw fail(`SOURCE ${JSON.stringify(source)} is not a registry host[:port]`);
    const port = sourceMatch[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw fail(`SOURCE port ${port} is out of range`);
    }
    if (options.parseTarget(source)) throw fail(`SOURCE ${source} is itself ${options.targetKind}`);
    const previous = mirrors.get(source);
    if (previous && previous.host !== registry.host) {
      throw fail(`SOURCE ${source} is already mapped to ${previous.host}`);
    }
    mirrors.set(source, registry);
  }
  return mirrors;
}
