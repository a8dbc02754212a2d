/**
 * The login server's `Www-Authenticate` challenge, parsed defensively. The Go plugin splits the
 * header on the first space and indexes the result, so a header without a space makes it panic;
 * here any input, however malformed, gives either the challenge or a `CredentialProviderError`.
 *
 * The grammar is RFC 9110's: challenges separated by commas, each an auth-scheme followed by
 * auth-params (`name=token` or `name="quoted string"` with backslash escapes) or a token68. Node
 * joins repeated headers with ", ", so one string may carry several challenges. A challenge counts
 * only with auth-params; exactly one Bearer challenge must have a non-empty `realm` and `service`.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";

export interface BearerChallenge {
  realm: string;
  service: string;
  /** Every auth-param of the Bearer challenge, names lower-cased. */
  params: Readonly<Record<string, string>>;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Longer headers are refused unparsed. */
export const MAX_CHALLENGE_LENGTH = 8192;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

class ParseError extends Error {}

/**
 * Parses a header value into its challenges.
 *
 * @throws CredentialProviderError `INVALID_RESPONSE` when the value is not a challenge list.
 */
export function parseChallenges(header: string): Challenge[] {
  try {
    return _parse(header);
  } catch (error) {
    if (error instanceof ParseError) {
      throw new CredentialProviderError(
        "INVALID_RESPONSE",
        `malformed Www-Authenticate header: ${error.message}`,
      );
    }
    throw error;
  }
}

/**
 * The Bearer challenge of a `GET /v2/` answer.
 *
 * @param status The answer's status: only 401 carries a challenge.
 * @param header The `Www-Authenticate` header(s), as Node gives them.
 * @throws CredentialProviderError `INVALID_RESPONSE`: "no valid challenge", "no Www-Authenticate
 *   header", "scheme is not Bearer", "realm missing", "service missing", or a parse error.
 */
export function parseBearerChallenge(
  status: number,
  header: string | readonly string[] | undefined,
): BearerChallenge {
  const fail = (reason: string) => new CredentialProviderError("INVALID_RESPONSE", reason);
  if (status !== 401) throw fail(`no valid challenge: expected 401 with a Bearer challenge, got ${status}`);
  const values = header === undefined ? [] : typeof header === "string" ? [header] : [...header];
  if (values.length === 0) throw fail("no Www-Authenticate header in the 401 answer");
  const joined = values.join(", ");
  if (joined.length > MAX_CHALLENGE_LENGTH) {
    throw fail(`malformed Www-Authenticate header: longer than ${MAX_CHALLENGE_LENGTH} characters`);
  }
  let challenges: Challenge[];
  try {
    challenges = _parse(joined).filter((c) => Object.keys(c.params).length > 0);
  } catch (error) {
    if (error instanceof ParseError) throw fail(`no valid challenge: ${error.message}`);
    throw error;
  }
  if (challenges.length === 0) throw fail("no valid challenge in the Www-Authenticate header");
  const bearer = challenges.filter((c) => c.scheme.toLowerCase() === "bearer");
  if (bearer.length === 0) {
    const schemes = [...new Set(challenges.map((c) => c.scheme))]
      .slice(0, 5)
      .map((s) => JSON.stringify(s.slice(0, 40)));
    throw fail(`Www-Authenticate scheme is not Bearer (${schemes.join(", ")})`);
  }
  if (bearer.length > 1) throw fail("no valid challenge: more than one Bearer challenge");
  const params = (bearer[0] as Challenge).params;
  const realm = params.realm ?? "";
  const service = params.service ?? "";
  if (realm === "") throw fail("Www-Authenticate Bearer challenge: realm missing");
  if (service === "") throw fail("Www-Authenticate Bearer challenge: service missing");
  return { realm, service, params };
}

function _parse(input: string): Challenge[] {
  if (typeof input !== "string") throw new ParseError("not a string");
  if (input.length > MAX_CHALLENGE_LENGTH)
    throw new ParseError(`longer than ${MAX_CHALLENGE_LENGTH} characters`);
  const challenges: Challenge[] = [];
  let at = 0;
  const isSpace = (c: string | undefined) => c === " " || c === "\t";
  const skipSpaces = () => {
    while (isSpace(input[at])) at++;
  };
  const skipListSeparators = () => {
    while (isSpace(input[at]) || input[at] === ",") at++;
  };
  const token = (): string => {
    const start = at;
    while (at < input.length && TCHAR.test(input[at] as string)) at++;
    return input.slice(start, at);
  };
  const quoted = (): string => {
    at++; // the opening quote
    let value = "";
    for (;;) {
      const c = input[at];
      if (c === undefined) throw new ParseError("unterminated quoted string");
      if (c === '"') {
        at++;
        return value;
      }
      if (c === "\\") {
        const next = input[at + 1];
        if (next === undefined) throw new ParseError("unterminated quoted string");
        value += next;
        at += 2;
        continue;
      }
      if ((c < " " && c !== "\t") || c === "\u007f")
        throw new ParseError("control character in a quoted string");
      value += c;
      at++;
    }
  };
  /** Whether a `name =` starts at the cursor (an auth-param rather than the next challenge's scheme). */
  const paramAhead = (): boolean => {
    const save = at;
    const name = token();
    skipSpaces();
    const result = name !== "" && input[at] === "=";
    at = save;
    return result;
  };

  skipListSeparators();
  while (at < input.length) {
    const scheme = token();
    if (scheme === "") throw new ParseError(`unexpected character at offset ${at}`);
    const challenge: Challenge = { scheme, params: Object.create(null) as Record<string, string> };
    challenges.push(challenge);
    if (at < input.length && !isSpace(input[at]) && input[at] !== ",") {
      throw new ParseError(`unexpected character after the scheme at offset ${at}`);
    }
    skipSpaces();
    // token68: the rest of this challenge is one opaque credential.
    const end = input.indexOf(",", at);
    const rest = input.slice(at, end === -1 ? input.length : end).trim();
    if (rest !== "" && TOKEN68.test(rest) && (rest.endsWith("=") || !paramAhead())) {
      at = end === -1 ? input.length : end;
      skipListSeparators();
      continue;
    }
    // auth-params, until the end or the next challenge's scheme.
    while (at < input.length && input[at] !== "," && paramAhead()) {
      const name = token().toLowerCase();
      skipSpaces();
      at++; // "="
      skipSpaces();
      let value: string;
      if (input[at] === '"') value = quoted();
      else {
        value = token();
        if (value === "")
          throw new ParseError(`auth-param ${JSON.stringify(name.slice(0, 40))} has no value`);
      }
      if (Object.hasOwn(challenge.params, name)) {
        throw new ParseError(`auth-param ${JSON.stringify(name.slice(0, 40))} appears twice`);
      }
      challenge.params[name] = value;
      skipSpaces();
      if (at >= input.length) break;
      if (input[at] !== ",") throw new ParseError(`expected a comma at offset ${at}`);
      skipListSeparators();
    }
    if (at < input.length && input[at] === ",") skipListSeparators();
    else if (
      at < input.length &&
      Object.keys(challenge.params).length === 0 &&
      !TCHAR.test(input[at] as string)
    ) {
      throw new ParseError(`unexpected character at offset ${at}`);
    }
  }
  return challenges;
}
