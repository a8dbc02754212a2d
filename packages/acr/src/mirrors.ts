/**
 * `--registry-mirror SOURCE:TARGET[,…]`: registries that serve an ACR registry's content under
 * another name (`mcr.microsoft.com:myregistry.azurecr.io` for an ACR cache of MCR). An image on
 * SOURCE gets the credentials of the login server TARGET, keyed under both.
 *
 * Spaces are ignored, as the Go plugin ignores them. SOURCE is a registry `host[:port]`; TARGET
 * must be a login server. They are split at the last colon (TARGET never has a port) and
 * lower-cased. Unlike the Go plugin, a malformed entry is a usage error rather than skipped, and
 * SOURCE must equal the image's registry (the Go plugin matches it as a string prefix of the image).
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { LoginServer } from "./hosts.ts";
import { parseLoginServer } from "./hosts.ts";

/** Registry host → the login server whose credentials it gets. */
export type RegistryMirrors = ReadonlyMap<string, LoginServer>;

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const SOURCE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`);
const EXAMPLE = "mcr.microsoft.com:myregistry.azurecr.io";

/**
 * Parses the flag's values (already split on commas). Empty input gives an empty map.
 *
 * @throws CredentialProviderError `USAGE`, naming the entry and what is wrong with it.
 */
export function parseRegistryMirrors(entries: readonly string[]): RegistryMirrors {
  const mirrors = new Map<string, LoginServer>();
  for (const raw of entries.flatMap((value) => value.split(","))) {
    const entry = raw.replace(/\s+/g, "");
    if (entry === "") continue;
    const fail = (reason: string) =>
      new CredentialProviderError(
        "USAGE",
        `--registry-mirror entry ${JSON.stringify(entry.slice(0, 200))}: ${reason} (expected SOURCE:TARGET, e.g. ${EXAMPLE})`,
      );
    const colon = entry.lastIndexOf(":");
    if (colon <= 0 || colon === entry.length - 1) throw fail("missing SOURCE or TARGET");
    const source = entry.slice(0, colon).toLowerCase();
    const target = entry.slice(colon + 1);
    const server = parseLoginServer(target);
    if (!server)
      throw fail(`TARGET ${JSON.stringify(target)} is not an ACR login server (<name>.azurecr.io)`);
    const sourceMatch = SOURCE.exec(source);
    if (!sourceMatch) throw fail(`SOURCE ${JSON.stringify(source)} is not a registry host[:port]`);
    const port = sourceMatch[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw fail(`SOURCE port ${port} is out of range`);
    }
    if (parseLoginServer(source)) throw fail(`SOURCE ${source} is an ACR login server itself`);
    const previous = mirrors.get(source);
    if (previous && previous.host !== server.host) {
      throw fail(`SOURCE ${source} is already mapped to ${previous.host}`);
    }
    mirrors.set(source, server);
  }
  return mirrors;
}

/**
 * The login server for an image's registry host: the host itself when it is one, else the
 * TARGET of the mirror whose SOURCE it is. `source` is set for a mirror.
 */
export function resolveLoginServer(
  host: string,
  mirrors: RegistryMirrors,
): { server: LoginServer; source?: string } | undefined {
  const direct = parseLoginServer(host);
  if (direct) return { server: direct };
  const lower = host.toLowerCase();
  const mirrored = mirrors.get(lower);
  return mirrored ? { server: mirrored, source: lower } : undefined;
}
