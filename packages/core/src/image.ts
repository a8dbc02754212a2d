/**
 * Image references as the kubelet and container runtimes read them: distribution/reference's
 * `ParseNormalizedNamed` followed by the kubelet's `parsers.ParseImageName`.
 *
 * One deliberate difference from distribution: upper-case letters are accepted in the
 * repository path and kept as written. The kubelet matches patterns case-sensitively, so a
 * provider must see the case the user wrote rather than a rejection or a lower-cased copy.
 */

import { CredentialProviderError } from "./errors.ts";

/** An image reference split into the parts the kubelet and registries care about. */
export interface ImageReference {
  /** The registry `host[:port]` exactly as written, or `docker.io` for Docker Hub. */
  registry: string;
  /** The registry without its port; an IPv6 literal keeps its brackets (`[::1]`). */
  hostname: string;
  /** The registry's port, when one is written. */
  port?: string;
  /** The repository path without the registry, e.g. `library/nginx`. */
  path: string;
  /** The tag, when one is written. (The kubelet pulls `latest` when neither tag nor digest is.) */
  tag?: string;
  /** The digest (`algorithm:hex`), when one is written. */
  digest?: string;
  /** `registry/path`: the normalised name the kubelet sends to a provider as `request.image`. */
  repository: string;
}

const _DEFAULT_DOMAIN = "docker.io";
const _LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const _OFFICIAL_REPO_PREFIX = "library/";
// distribution's NameTotalLengthMax, applied to the normalised name.
const _NAME_TOTAL_LENGTH_MAX = 255;
const _QUOTE_LIMIT = 200;

// distribution/reference's grammar (regexp.go).
const _DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const _DOMAIN_NAME = `${_DOMAIN_COMPONENT}(?:\\.${_DOMAIN_COMPONENT})*`;
const _IPV6_ADDRESS = "\\[(?:[a-fA-F0-9:]+)\\]";
const _DOMAIN_AND_PORT = new RegExp(`^(${_DOMAIN_NAME}|${_IPV6_ADDRESS})(?::([0-9]+))?$`);
// Upper case is accepted here on purpose (see the module comment); distribution allows [a-z0-9].
const _PATH_COMPONENT = /^[a-zA-Z0-9]+(?:(?:[._]|__|[-]+)[a-zA-Z0-9]+)*$/;
const _TAG = /^[\w][\w.-]{0,127}$/;
const _DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
// A bare image ID; distribution refuses it as a name so it cannot be mistaken for one.
const _IDENTIFIER = /^[a-f0-9]{64}$/;

// go-digest only accepts algorithms it has registered, with lower-case hex of the exact size.
const _DIGEST_HEX_LENGTHS: ReadonlyMap<string, number> = new Map([
  ["sha256", 64],
  ["sha384", 96],
  ["sha512", 128],
]);

/** JSON-quotes untrusted text for a message, cut short so one bad input cannot flood a log. */
function _quote(text: string): string {
  if (text.length <= _QUOTE_LIMIT) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, _QUOTE_LIMIT))}... (${text.length} characters)`;
}

function _invalid(reference: string, reason: string): CredentialProviderError {
  return new CredentialProviderError(
    "BAD_REQUEST",
    `invalid image reference ${_quote(reference)}: ${reason}`,
  );
}

/** Why a digest is refused, or undefined when go-digest would accept it. */
function _digestProblem(digest: string): string | undefined {
  if (!_DIGEST.test(digest)) return "it must be algorithm:hex, e.g. sha256: and 64 hex digits";
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = _DIGEST_HEX_LENGTHS.get(algorithm);
  if (length === undefined) return `unsupported digest algorithm ${_quote(algorithm)}`;
  if (hex.length !== length) return `${algorithm} needs ${length} hex digits, not ${hex.length}`;
  if (!/^[a-f0-9]+$/.test(hex)) return "the hex digits must be lower case";
  return undefined;
}

/** Names a control or non-ASCII character, which no part of the grammar allows. */
function _characterProblem(reference: string): string | undefined {
  for (let i = 0; i < reference.length; i++) {
    const code = reference.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return "contains a control character";
    if (code > 0x7f) return "contains a non-ASCII character";
  }
  return undefined;
}

/** distribution's splitDockerDomain: the registry, and the path with its tag. */
function _splitDockerDomain(name: string): { domain: string; remainder: string; explicit: boolean } {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  // Only a first component that looks like a host is one; otherwise this is a Docker Hub path.
  const looksLikeHost =
    slash !== -1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first.toLowerCase() !== first);
  let domain = looksLikeHost ? first : _DEFAULT_DOMAIN;
  let remainder = looksLikeHost ? name.slice(slash + 1) : name;
  if (domain === _LEGACY_DEFAULT_DOMAIN) domain = _DEFAULT_DOMAIN;
  if (domain === _DEFAULT_DOMAIN && !remainder.includes("/")) remainder = _OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder, explicit: looksLikeHost };
}

/**
 * Parses an image reference as the kubelet does (`ParseNormalizedNamed` + `ParseImageName`).
 *
 * A first component is a registry only when a `/` follows it and it contains `.` or `:`, is
 * `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub: `docker.io/` is
 * prefixed and a single-component path gets `library/` (`nginx` → `docker.io/library/nginx`,
 * and `prefix.kubernetes.io` alone → `docker.io/library/prefix.kubernetes.io`).
 * `index.docker.io` becomes `docker.io`. The tag follows the `:` after the path, the digest
 * follows `@`. Case is kept as written.
 *
 * @throws CredentialProviderError `BAD_REQUEST` with a one-line message naming the problem
 *   (empty, whitespace, invalid registry host, invalid path component, invalid tag, invalid
 *   digest, too long).
 */
export function parseImage(reference: string): ImageReference {
  if (typeof reference !== "string") {
    throw new CredentialProviderError(
      "BAD_REQUEST",
      `image reference must be a string, not ${typeof reference}`,
    );
  }
  if (reference === "") throw _invalid(reference, "empty reference");
  if (/\s/.test(reference)) throw _invalid(reference, "contains whitespace");
  const characterProblem = _characterProblem(reference);
  if (characterProblem !== undefined) throw _invalid(reference, characterProblem);
  if (_IDENTIFIER.test(reference)) {
    throw _invalid(reference, "a 64-character hexadecimal string is an image ID, not a repository name");
  }

  const at = reference.indexOf("@");
  const name = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? undefined : reference.slice(at + 1);

  const { domain, remainder, explicit } = _splitDockerDomain(name);
  const colon = remainder.indexOf(":");
  const path = colon === -1 ? remainder : remainder.slice(0, colon);
  const tag = colon === -1 ? undefined : remainder.slice(colon + 1);

  const host = _DOMAIN_AND_PORT.exec(domain);
  if (explicit && host === null) throw _invalid(reference, `invalid registry host ${_quote(domain)}`);
  for (const component of path.split("/")) {
    if (!_PATH_COMPONENT.test(component)) {
      throw _invalid(reference, `invalid path component ${_quote(component)}`);
    }
  }
  if (tag !== undefined && !_TAG.test(tag)) {
    throw _invalid(
      reference,
      `invalid tag ${_quote(tag)}: up to 128 of [A-Za-z0-9_.-], not starting with . or -`,
    );
  }
  if (digest !== undefined) {
    const problem = _digestProblem(digest);
    if (problem !== undefined) throw _invalid(reference, `invalid digest ${_quote(digest)}: ${problem}`);
  }
  const repository = `${domain}/${path}`;
  if (repository.length > _NAME_TOTAL_LENGTH_MAX) {
    throw _invalid(
      reference,
      `repository name too long: ${repository.length} characters, at most ${_NAME_TOTAL_LENGTH_MAX}`,
    );
  }

  const image: ImageReference = { registry: domain, hostname: host?.[1] ?? domain, path, repository };
  const port = host?.[2];
  if (port !== undefined) image.port = port;
  if (tag !== undefined) image.tag = tag;
  if (digest !== undefined) image.digest = digest;
  return image;
}

/**
 * {@link parseImage} without the throw, for callers that branch on validity.
 *
 * @returns `{ ok: true, image }`, or `{ ok: false, error }` with the `BAD_REQUEST` error
 *   {@link parseImage} would throw. Never throws.
 */
export function safeParseImage(
  reference: string,
): { ok: true; image: ImageReference } | { ok: false; error: CredentialProviderError } {
  try {
    return { ok: true, image: parseImage(reference) };
  } catch (error) {
    if (error instanceof CredentialProviderError) return { ok: false, error };
    return {
      ok: false,
      error: new CredentialProviderError(
        "BAD_REQUEST",
        `invalid image reference ${_quote(String(reference))}`,
        {
          cause: error,
        },
      ),
    };
  }
}

/**
 * The kubelet's normalised repository for an image, tag and digest dropped:
 * `nginx:1.25` → `docker.io/library/nginx`. This is what the kubelet sends as `request.image`.
 *
 * @throws CredentialProviderError `BAD_REQUEST` as {@link parseImage} does.
 */
export function normalizeImage(reference: string): string {
  return parseImage(reference).repository;
}

/**
 * The registry `host[:port]` of an image, lower-cased, for providers that compare hosts
 * case-insensitively (DNS names are): `MyRegistry.azurecr.io/app` → `myregistry.azurecr.io`.
 *
 * @throws CredentialProviderError `BAD_REQUEST` as {@link parseImage} does.
 */
export function registryHostOf(reference: string): string {
  return parseImage(reference).registry.toLowerCase();
}
