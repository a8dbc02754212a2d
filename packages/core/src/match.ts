/**
 * The kubelet's image pattern matching, ported from k8s.io/kubernetes pkg/credentialprovider
 * (`ParseSchemelessURL`, `SplitURL`, `URLsMatch`, `URLsMatchStr`, and `BasicDockerKeyring`'s key
 * normalisation and `Lookup`). The Go library code it relies on is ported alongside:
 * `net/url.Parse` in _go-url.ts and `path/filepath.Match` in _go-glob.ts, both on byte strings
 * (see _go-bytes.ts) so that every byte-level quirk is Go's.
 */

import { _fromBytes, _toBytes } from "./_go-bytes.ts";
import { _filepathMatch } from "./_go-glob.ts";
import { _GoError, type _GoUrl, _parseUrl, _splitHostPort } from "./_go-url.ts";
import { CredentialProviderError } from "./errors.ts";

export { goFilepathMatch, isValidGlob } from "./_go-glob.ts";

/** A pattern or image parsed as the kubelet parses it: `url.Parse("https://" + value)`. */
export interface SchemelessUrl {
  /** Go's `URL.Host`: host and optional `:port`, userinfo dropped, percent-escapes decoded. */
  host: string;
  /**
   * The host as the kubelet splits it into labels (`SplitURL`): `net.SplitHostPort`'s host when
   * a port is present (brackets of an IPv6 literal removed), otherwise the whole `host` (so an
   * IPv6 literal without a port keeps its brackets).
   */
  hostname: string;
  /** The port as `net.SplitHostPort` finds it, or "" when there is none. */
  port: string;
  /** Go's `URL.Path`: percent-decoded, query and fragment removed; "" when there is no path. */
  path: string;
}

/** The kubelet's SplitURL: host labels and port, the whole host when it has no valid port. */
function _splitUrl(host: string): { hostname: string; port: string } {
  const split = _splitHostPort(host);
  return split === undefined ? { hostname: host, port: "" } : { hostname: split.host, port: split.port };
}

/** The kubelet's URLsMatch on two parsed byte-string URLs. */
function _urlsMatch(glob: _GoUrl, target: _GoUrl): boolean {
  const globSplit = _splitUrl(glob.host);
  const targetSplit = _splitUrl(target.host);
  if (globSplit.port !== targetSplit.port) return false;
  const globParts = globSplit.hostname.split(".");
  const targetParts = targetSplit.hostname.split(".");
  if (globParts.length !== targetParts.length) return false;
  // A plain string prefix, not per path segment: "/foo" covers "/foobar".
  if (!target.path.startsWith(glob.path)) return false;
  return globParts.every((part, index) => _filepathMatch(part, targetParts[index] ?? "") === true);
}

function _parseSchemeless(value: string): _GoUrl {
  return _parseUrl(`https://${value}`);
}

/**
 * Parses a scheme-less pattern or image as the kubelet does (`ParseSchemelessURL`, which is
 * Go's `url.Parse("https://" + value)`, then `SplitURL`): `#fragment` and `?query` are
 * dropped, the authority runs to the first `/`, userinfo before the last `@` is dropped, and the
 * port is split off with `net.SplitHostPort`.
 *
 * @throws CredentialProviderError `BAD_REQUEST` with Go's message for what `url.Parse` rejects,
 *   e.g. `parse "https://a b": invalid character " " in host name`.
 */
export function parseSchemelessUrl(value: string): SchemelessUrl {
  let url: _GoUrl;
  try {
    url = _parseSchemeless(_toBytes(value));
  } catch (error) {
    if (error instanceof _GoError) throw new CredentialProviderError("BAD_REQUEST", error.message);
    throw error;
  }
  const { hostname, port } = _splitUrl(url.host);
  return {
    host: _fromBytes(url.host),
    hostname: _fromBytes(hostname),
    port: _fromBytes(port),
    path: _fromBytes(url.path),
  };
}

/**
 * The kubelet's `URLsMatchStr`: whether an image matches a pattern (a `matchImages` entry or a
 * key of a response's `auth` map). Both are parsed as scheme-less URLs; the ports must be equal
 * (a pattern without a port does not match an image with one); the hosts must have the same
 * number of dot-separated labels, each label matched with {@link goFilepathMatch} (so `*` never
 * crosses a dot); and the pattern's path must be a plain string prefix of the image's path.
 * Case-sensitive.
 *
 * @returns `false` for any pattern or image that Go fails to parse or a malformed glob.
 *   Never throws.
 */
export function urlsMatch(pattern: string, image: string): boolean {
  if (typeof pattern !== "string" || typeof image !== "string") return false;
  try {
    return _urlsMatch(_parseSchemeless(_toBytes(pattern)), _parseSchemeless(_toBytes(image)));
  } catch {
    return false;
  }
}

/** BasicDockerKeyring.Add's key normalisation on a byte string; undefined if unparsable. */
function _normalizeKeyBytes(key: string): string | undefined {
  const value = key.startsWith("https://") || key.startsWith("http://") ? key : `https://${key}`;
  let url: _GoUrl;
  try {
    url = _parseUrl(value);
  } catch (error) {
    if (error instanceof _GoError) return undefined;
    throw error;
  }
  // Docker treats /v1/ and /v2/ as the registry itself (ResolveAuthConfig); the kubelet follows.
  let path = url.path;
  if (path.startsWith("/v2/") || path.startsWith("/v1/")) path = path.slice(3);
  return path.length > 0 && path !== "/" ? url.host + path : url.host;
}

/**
 * How the kubelet stores a key of a response's `auth` map (`BasicDockerKeyring.Add`): an
 * `https://` prefix is added unless the key starts with `http://` or `https://`, the result is
 * parsed with Go's `url.Parse`, a path starting `/v1/` or `/v2/` loses those first three
 * characters, and a path of "" or "/" means the host alone.
 *
 * @returns host plus effective path, e.g. `https://quay.io/v1/` → `quay.io`; `undefined` when Go
 *   cannot parse the key (the kubelet logs and ignores such an entry). Never throws.
 */
export function normalizeAuthKey(key: string): string | undefined {
  if (typeof key !== "string") return undefined;
  const normalized = _normalizeKeyBytes(_toBytes(key));
  return normalized === undefined ? undefined : _fromBytes(normalized);
}

/**
 * The kubelet's keyring `Lookup` over an `auth` map: every entry whose normalised key (see
 * {@link normalizeAuthKey}) matches `image` (see {@link urlsMatch}), in the kubelet's order:
 * normalised keys in reverse byte-wise lexicographic order (Go's
 * `sort.Reverse(sort.StringSlice)`), so longer, more specific paths come before their host.
 * Entries that normalise to the same key are kept together, in the map's insertion order (Go
 * ranges over a map, so its order among them is unspecified). Unparsable keys are skipped.
 *
 * @returns the matching entries, each with its original (un-normalised) key. Never throws.
 */
export function lookupAuth<T>(auth: Record<string, T>, image: string): Array<{ key: string; value: T }> {
  if (auth === null || typeof auth !== "object" || typeof image !== "string") return [];
  let target: _GoUrl;
  try {
    target = _parseSchemeless(_toBytes(image));
  } catch {
    return [];
  }
  const groups = new Map<string, Array<{ key: string; value: T }>>();
  for (const [key, value] of Object.entries(auth)) {
    const normalized = _normalizeKeyBytes(_toBytes(key));
    if (normalized === undefined) continue;
    const group = groups.get(normalized);
    if (group === undefined) groups.set(normalized, [{ key, value }]);
    else group.push({ key, value });
  }
  // Byte strings compare by UTF-16 unit, which here is Go's byte order.
  const index = [...groups.keys()].sort().reverse();
  const found: Array<{ key: string; value: T }> = [];
  for (const normalized of index) {
    let glob: _GoUrl;
    try {
      glob = _parseSchemeless(normalized);
    } catch {
      continue;
    }
    if (_urlsMatch(glob, target)) found.push(...(groups.get(normalized) ?? []));
  }
  return found;
}
