/**
 * `--registry-mirror SOURCE:TARGET[,…]`: registries that serve an ACR registry's content under
 * another name (`mcr.microsoft.com:myregistry.azurecr.io` for an ACR cache of MCR). An image on
 * SOURCE gets the credentials of the login server TARGET, keyed under both.
 *
 * Unlike the Go plugin, a malformed entry is a usage error rather than skipped, and SOURCE must
 * equal the image's registry (the Go plugin matches it as a string prefix of the image).
 */
import {
  type RegistryMirrors as Mirrors,
  parseRegistryMirrors as parseMirrors,
} from "@kubelet-credential-provider/core";
import type { LoginServer } from "./hosts.ts";
import { parseLoginServer } from "./hosts.ts";

/** Registry host → the login server whose credentials it gets. */
export type RegistryMirrors = Mirrors<LoginServer>;

/**
 * Parses the flag's values (core's `parseRegistryMirrors` rules). Empty input gives an empty map.
 *
 * @throws CredentialProviderError `USAGE`, naming the entry and what is wrong with it.
 */
export function parseRegistryMirrors(entries: readonly string[]): RegistryMirrors {
  return parseMirrors(entries, {
    parseTarget: parseLoginServer,
    targetKind: "an ACR login server (<name>.azurecr.io)",
    example: "mcr.microsoft.com:myregistry.azurecr.io",
  });
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
