/**
 * Which registry hosts are ACR login servers. A login server is `<name>.azurecr.<suffix>`, where
 * the name is letters and digits, optionally followed by a hyphen and a hash (registries with a
 * domain name label scope, `demo-abc123.azurecr.io`), or the regional endpoint
 * `<name>.<region>.geo.azurecr.<suffix>`. The suffixes are `io` (public), `cn` (China), `us` (US
 * Government) and `de` (the retired Germany cloud, recognised but never served).
 *
 * The match is exact after lower-casing: a port, a data endpoint (`<name>.<region>.data.azurecr.io`),
 * or any host that merely contains a login server (`foo.azurecr.io.example`,
 * `foo.azurecr.io.azurecr.cn`) is not a login server. No Entra token is ever sent to, and no
 * credential ever handed out for, a host this module does not recognise.
 */

export type AcrSuffix = "azurecr.io" | "azurecr.cn" | "azurecr.us" | "azurecr.de";

export interface LoginServer {
  /** The login server, lower-cased: where the token exchange goes and the answer's key. */
  host: string;
  /** The registry name (without the hash). */
  registry: string;
  /** The domain name label hash, for `<name>-<hash>` login servers. */
  hash?: string;
  /** The region of a regional (`.geo.`) endpoint. */
  region?: string;
  suffix: AcrSuffix;
}

const LOGIN_SERVER = /^([a-z0-9]+)(?:-([a-z0-9]+))?(?:\.([a-z0-9]+)\.geo)?\.(azurecr\.(?:io|cn|us|de))$/;

/**
 * Parses a registry host (`host[:port]` as in an image reference) into a login server, or
 * undefined when it is not one. Case is ignored; the returned `host` is lower-case.
 *
 * ```ts
 * parseLoginServer("Demo-abc123.azurecr.io")      // { host: "demo-abc123.azurecr.io", registry: "demo", hash: "abc123", suffix: "azurecr.io" }
 * parseLoginServer("foo.eastus2.geo.azurecr.io")   // { ..., region: "eastus2" }
 * parseLoginServer("foo.eastus2.data.azurecr.io")  // undefined: a data endpoint
 * parseLoginServer("foo.azurecr.io:443")           // undefined: login servers have no port
 * ```
 */
export function parseLoginServer(host: string): LoginServer | undefined {
  if (typeof host !== "string" || host.length > 253) return undefined;
  const lower = host.toLowerCase();
  const match = LOGIN_SERVER.exec(lower);
  if (!match) return undefined;
  const [, registry, hash, region, suffix] = match as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    AcrSuffix,
  ];
  // Every DNS label at most 63 characters.
  if (lower.split(".").some((label) => label.length > 63)) return undefined;
  return {
    host: lower,
    registry,
    ...(hash !== undefined && { hash }),
    ...(region !== undefined && { region }),
    suffix,
  };
}

/**
 * The registry host of an image as the kubelet matches it: everything before the first `/`,
 * lower-cased (`foo.azurecr.io` alone is a host, as in the kubelet's matchImages).
 */
export function registryOfImage(image: string): string {
  const slash = image.indexOf("/");
  return (slash === -1 ? image : image.slice(0, slash)).toLowerCase();
}

/**
 * The login server of an image, or "" when its registry is not one (the Go plugin's
 * `parseACRLoginServerFromImage`, made strict).
 */
export function loginServerFromImage(image: string): string {
  return parseLoginServer(registryOfImage(image))?.host ?? "";
}

/** A one-line description for logs. */
export function describeLoginServer(server: LoginServer): string {
  const parts = [
    `registry ${server.registry}`,
    server.hash && `hash ${server.hash}`,
    server.region && `regional endpoint in ${server.region}`,
  ].filter(Boolean);
  return `ACR login server ${server.host} (${parts.join(", ")})`;
}
