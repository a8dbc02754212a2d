/**
 * Trying credentials against a registry as a container runtime does before a pull (the
 * distribution token flow): `GET https://<registry>/v2/`; on a 401, follow its WWW-Authenticate
 * challenge: for Bearer, fetch a token from the realm with the credentials as Basic auth and the
 * repository's pull scope, then `GET /v2/` again with the token; for Basic, `GET /v2/` again with
 * the credentials. A 2xx answer means the registry accepted them.
 *
 * The registry host is the image's, as written (`docker.io` for Docker Hub images; no mirror or
 * `registry-1.docker.io` rewriting). Requests go through core's HTTP client, so HTTPS_PROXY,
 * NO_PROXY and NODE_EXTRA_CA_CERTS apply; the client is injectable for tests. Redirects are not
 * followed, and credentials are sent to a realm only over https (or plain http on loopback).
 */
import type { HttpClient, HttpResponse } from "@kubelet-credential-provider/core";
import { createHttpClient, parseImage, SecretRegistry } from "@kubelet-credential-provider/core";
import type { ImageReport } from "./lookup.ts";
import { messageOf } from "./text.ts";
import { NAME, VERSION } from "./version.ts";

/** Options for {@link verifyCredentials}. */
export interface VerifyOptions {
  /** An image reference: the registry and repository to try the credentials on. */
  image: string;
  username: string;
  password: string;
  /** Default: core's client, configured by the environment. */
  http?: HttpClient;
  /** The password, the Basic header and the registry token are registered here. */
  secrets?: SecretRegistry;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Retries per request (throttling, 5xx, dropped connections). Default 2. */
  retries?: number;
}

/** What the registry said. */
export interface VerifyResult {
  /** accepted: 2xx; rejected: 401 or 403 for these credentials; error: anything else. */
  outcome: "accepted" | "rejected" | "error";
  registry: string;
  /** The last HTTP status, when there was one. */
  status?: number;
  /** How the registry asked for credentials. */
  scheme?: "none" | "basic" | "bearer";
  /** One line for people. May quote a registry's error text; secrets are masked. */
  message: string;
}

/** One WWW-Authenticate challenge: the scheme (lower case) and its parameters (names lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Tries `username`/`password` on the image's registry. Never rejects. */
export async function verifyCredentials(options: VerifyOptions): Promise<VerifyResult> {
  const secrets = options.secrets ?? new SecretRegistry();
  secrets.add(options.password);
  let registry = "";
  let path: string;
  try {
    const image = parseImage(options.image);
    registry = image.registry;
    path = image.path;
  } catch (error) {
    return { outcome: "error", registry, message: messageOf(error) };
  }
  const http = options.http ?? createHttpClient({ userAgent: `${NAME}/${VERSION}`, secrets });
  const requestOptions = { timeoutMs: options.timeoutMs ?? 10_000, retries: options.retries ?? 2 };
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
  secrets.add(basic.slice("Basic ".length));
  const hasCredentials = options.username !== "" || options.password !== "";
  const ping = `https://${registry}/v2/`;
  const result = (outcome: VerifyResult["outcome"], message: string, extra: Partial<VerifyResult> = {}) => ({
    outcome,
    registry,
    ...extra,
    message: secrets.redact(message),
  });

  try {
    const first = await http.request(ping, requestOptions);
    if (_ok(first)) {
      return result("accepted", `GET ${ping} answered ${first.status} without asking for credentials`, {
        status: first.status,
        scheme: "none",
      });
    }
    if (first.status !== 401) {
      return result("error", `GET ${ping} answered ${first.status}${_snippet(first)}`, {
        status: first.status,
      });
    }
    const challenges = parseWwwAuthenticate(first.headers["www-authenticate"]);
    const bearer = challenges.find((challenge) => challenge.scheme === "bearer");
    const basicChallenge = challenges.find((challenge) => challenge.scheme === "basic");

    if (bearer !== undefined) {
      const token = await _bearerToken(
        http,
        bearer,
        path,
        hasCredentials ? basic : undefined,
        requestOptions,
      );
      if (typeof token !== "string")
        return result(token.outcome, token.message, { ...token.extra, scheme: "bearer" });
      secrets.add(token);
      const second = await http.request(ping, {
        ...requestOptions,
        headers: { authorization: `Bearer ${token}` },
      });
      return _final(result, second, `GET ${ping} with a Bearer token`, "bearer");
    }
    if (basicChallenge !== undefined) {
      const second = await http.request(ping, {
        ...requestOptions,
        headers: hasCredentials ? { authorization: basic } : {},
      });
      return _final(result, second, `GET ${ping} with Basic credentials`, "basic");
    }
    const offered = challenges.map((challenge) => challenge.scheme).join(", ");
    return result(
      "error",
      offered === ""
        ? `GET ${ping} answered 401 without a usable WWW-Authenticate challenge`
        : `GET ${ping} answered 401 with an unsupported challenge (${offered})`,
      { status: 401 },
    );
  } catch (error) {
    return result("error", messageOf(error));
  }
}

type _Result = (
  outcome: VerifyResult["outcome"],
  message: string,
  extra?: Partial<VerifyResult>,
) => VerifyResult;

function _final(
  result: _Result,
  response: HttpResponse,
  what: string,
  scheme: "basic" | "bearer",
): VerifyResult {
  const extra = { status: response.status, scheme };
  if (_ok(response)) return result("accepted", `${what} answered ${response.status}`, extra);
  const outcome = response.status === 401 || response.status === 403 ? "rejected" : "error";
  return result(outcome, `${what} answered ${response.status}${_snippet(response)}`, extra);
}

async function _bearerToken(
  http: HttpClient,
  challenge: Challenge,
  path: string,
  authorization: string | undefined,
  requestOptions: { timeoutMs: number; retries: number },
): Promise<string | { outcome: "rejected" | "error"; message: string; extra: Partial<VerifyResult> }> {
  const realm = challenge.params.realm;
  let url: URL;
  try {
    if (realm === undefined || realm === "") throw new Error("no realm");
    url = new URL(realm);
  } catch {
    return { outcome: "error", message: "the registry's Bearer challenge has no usable realm", extra: {} };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && _isLoopback(url.hostname))) {
    return {
      outcome: "error",
      message: `refusing to send credentials to the token realm ${url.origin}: not https`,
      extra: {},
    };
  }
  if (challenge.params.service !== undefined) url.searchParams.append("service", challenge.params.service);
  url.searchParams.append("scope", `repository:${path}:pull`);
  const what = `GET ${url.origin}${url.pathname} (token)`;
  const response = await http.request(url, {
    ...requestOptions,
    headers: authorization === undefined ? {} : { authorization },
  });
  if (!_ok(response)) {
    const rejected = response.status === 401 || response.status === 403;
    return {
      outcome: rejected ? "rejected" : "error",
      message: `${what} answered ${response.status}${_snippet(response)}`,
      extra: { status: response.status },
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text());
  } catch {
    return {
      outcome: "error",
      message: `${what} answered ${response.status} with a body that is not JSON`,
      extra: {},
    };
  }
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const token = typeof record.token === "string" && record.token !== "" ? record.token : record.access_token;
  if (typeof token !== "string" || token === "") {
    return { outcome: "error", message: `${what} answered without a token or access_token`, extra: {} };
  }
  return token;
}

function _ok(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function _isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}

function _snippet(response: HttpResponse): string {
  const text = response.text().replace(/\s+/g, " ").trim();
  if (text === "") return "";
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

const _TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses WWW-Authenticate header values (RFC 7235: comma-separated challenges, each a scheme
 * followed by a token68 or by `name=value` parameters, values tokens or quoted strings). Garbage
 * is skipped; whatever parses is returned.
 *
 * @returns the challenges in order. Never throws.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  const challenges: Challenge[] = [];
  for (const value of values) {
    if (typeof value === "string") challenges.push(..._parseHeader(value));
  }
  return challenges;
}

function _parseHeader(text: string): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  const space = () => {
    while (at < text.length && (text[at] === " " || text[at] === "\t")) at++;
  };
  const token = (): string => {
    const start = at;
    while (at < text.length && _TCHAR.test(text[at] as string)) at++;
    return text.slice(start, at);
  };
  const quoted = (): string => {
    at++; // "
    let out = "";
    while (at < text.length && text[at] !== '"') {
      if (text[at] === "\\" && at + 1 < text.length) at++;
      out += text[at];
      at++;
    }
    at++; // closing quote (or past the end)
    return out;
  };
  /** Whether a `name =` parameter starts here (as opposed to the next challenge's scheme). */
  const paramAhead = (): boolean => {
    const saved = at;
    const name = token();
    space();
    const isParam = name !== "" && text[at] === "=";
    at = saved;
    return isParam;
  };

  while (at < text.length) {
    space();
    if (text[at] === ",") {
      at++;
      continue;
    }
    const scheme = token();
    if (scheme === "") {
      // Not a challenge: skip to the next comma.
      while (at < text.length && text[at] !== ",") at++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    space();
    if (!paramAhead()) {
      // A token68 (or nothing): keep it, then move on to the next challenge.
      const start = at;
      while (at < text.length && text[at] !== ",") at++;
      const token68 = text.slice(start, at).trim();
      if (token68 !== "") challenge.params.token68 = token68;
      continue;
    }
    while (at < text.length) {
      space();
      if (!paramAhead()) break;
      const name = token().toLowerCase();
      space();
      at++; // =
      space();
      const value = text[at] === '"' ? quoted() : token();
      if (!Object.hasOwn(challenge.params, name)) challenge.params[name] = value;
      space();
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (at < text.length) {
        // Garbage after a value: skip to the next comma.
        while (at < text.length && text[at] !== ",") at++;
      }
    }
  }
  return challenges;
}

/** Tries an image's credentials in the kubelet's order until the registry accepts one. */
export async function verifyEntry(
  entry: Pick<ImageReport, "image" | "credentials">,
  http: HttpClient,
  secrets: SecretRegistry,
): Promise<{ verified: boolean; verifyError?: string; verifyMessage: string }> {
  const failures: string[] = [];
  for (const credential of entry.credentials) {
    const result = await verifyCredentials({
      image: entry.image,
      username: credential.username,
      password: credential.password,
      http,
      secrets,
    });
    const what = `credential ${credential.key} from ${credential.provider}`;
    if (result.outcome === "accepted") {
      // Who accepted what, once: `r.io accepted example's credential for r.io (GET ... answered 200)`.
      return {
        verified: true,
        verifyMessage: `${result.registry} accepted ${credential.provider}'s credential for ${credential.key} (${result.message})`,
      };
    }
    failures.push(`${what}: ${result.outcome}: ${result.message}`);
  }
  const verifyError = failures.join("; ");
  return { verified: false, verifyError, verifyMessage: verifyError };
}
