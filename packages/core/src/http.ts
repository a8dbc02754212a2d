/**
 * The one outbound path: every request any provider makes, its cloud SDKs' included, goes
 * through this client. It gives each call a timeout per attempt taken from the time left to the
 * run's deadline, retries throttling, 5xx answers, dropped and refused connections, timeouts,
 * truncated answers and failed proxy tunnels with the one retry policy (retry.ts) for as long as
 * the deadline allows, caps every answer's size, applies the environment's proxy settings, and
 * logs no body and no header (where the secrets are). Redirects are not followed, so a credential
 * is never carried to a host the caller did not name. Failures are `CloudCallError`s that name
 * the endpoint and the fault, and never quote a response body.
 *
 * Node's http modules load on the first request, so a provider that never calls out does not pay
 * for them at start-up. NODE_EXTRA_CA_CERTS is applied by the runtime itself to every TLS
 * connection; a file it cannot read, Node warns about in its own words and Bun not at all, so the
 * client says so itself, once, before its first HTTPS request.
 */
import type { IncomingHttpHeaders } from "node:http";
import { DEFAULT_DEADLINE_MS } from "./args.ts";
import type { CloudFault } from "./errors.ts";
import { CloudCallError, CredentialProviderError, tlsErrorCodes } from "./errors.ts";
import type { Logger } from "./log.ts";
import {
  attemptTimeoutMs,
  DEADLINE_MARGIN_MS,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  parseRetryAfter,
  planRetry,
} from "./retry.ts";
import type { SecretRegistry } from "./secrets.ts";

/** The default cap on a response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Options of one request: method, headers, body, and how to time, retry and name it. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * The endpoint in words, for logs and errors: `ECR GetAuthorizationToken (us-west-2)`. Default:
   * the method and the URL without its query.
   */
  endpoint?: string;
  /** The longest one attempt may take; the time left to the deadline may cut it. Default 10 s. */
  timeoutMs?: number;
  /** At most this many attempts; default as many as the deadline allows. */
  maxAttempts?: number;
  /** Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * Marks an answer that is not a 429 or 5xx as retryable (AWS answers throttling with a 400
   * whose error type says so). Return the fault and, for the message, the cloud's error code.
   */
  classify?: (response: HttpResponse) => { fault: "throttled" | "server-error"; cause?: string } | undefined;
  /**
   * Connect to this IP or host name instead of the URL's host, which stays the TLS server name
   * and the Host header; no proxy is used. For an endpoint reached by a name DNS does not know,
   * at an address the caller was given (AKS identity bindings: the API server's).
   */
  connectTo?: string;
  /**
   * Trust only these PEM certificates for this call, instead of the system's CAs and
   * NODE_EXTRA_CA_CERTS (an endpoint whose certificate a private CA signs, such as a cluster's).
   */
  ca?: string | Uint8Array;
  /**
   * A client certificate and its private key (PEM), presented in the TLS handshake to an
   * endpoint that authenticates clients by certificate (a kubeconfig's client-certificate).
   */
  clientCertificate?: { cert: string | Uint8Array; key: string | Uint8Array };
}

/**
 * An answer of any status: the client returns 4xx answers for the provider to judge, and retries or
 * fails on 429 and 5xx itself.
 */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  /** The endpoint in words, as the request named it. */
  endpoint: string;
  text(): string;
  /** Parses the body as JSON; a body that is not JSON is a `malformed` CloudCallError, not a crash. */
  json(): unknown;
}

/**
 * The outbound HTTP client (see `createHttpClient`): one `request` method, retries and timeouts
 * included.
 */
export interface HttpClient {
  request(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
}

/** Options of `createHttpClient`. */
export interface HttpClientOptions {
  userAgent: string;
  signal?: AbortSignal;
  /** The run's deadline, in ms since the epoch; default 50 s from each request's start. */
  deadline?: number;
  log?: Logger;
  secrets?: SecretRegistry;
  env?: Readonly<Record<string, string | undefined>>;
  random?: () => number;
  /** Waits between attempts; tests pass one that returns at once. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface _Failure {
  fault: CloudFault;
  detail: string;
  status?: number;
  cause?: string;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  error?: unknown;
}

const _CONNECTION_CODES: Record<string, string> = {
  ECONNRESET: "dropped the connection",
  ECONNREFUSED: "refused the connection",
  ECONNABORTED: "dropped the connection",
  EPIPE: "dropped the connection",
  ETIMEDOUT: "did not accept the connection in time",
  EAI_AGAIN: "could not be resolved",
  ENOTFOUND: "could not be resolved",
  ENETUNREACH: "is unreachable",
  ENETDOWN: "is unreachable",
  EHOSTUNREACH: "is unreachable",
  EPROTO: "broke the TLS handshake",
  UND_ERR_SOCKET: "dropped the connection",
};
// Our words, not the runtime's: Node's own suggest flags our executables do not take.
const _TLS_PROBLEMS: Record<string, string> = {
  CERT_HAS_EXPIRED: "the certificate has expired (or the node's clock is wrong)",
  CERT_NOT_YET_VALID: "the certificate is not valid yet (or the node's clock is wrong)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the certificate does not match the host name",
};
/** A NODE_EXTRA_CA_CERTS the process cannot read: its CAs are not trusted, which TLS errors will not say. */
function _warnUnreadableExtraCa(env: NodeJS.ProcessEnv, log: Logger | undefined): void {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file || !log) return;
  const fs = process.getBuiltinModule("node:fs");
  try {
    fs.closeSync(fs.openSync(file, "r"));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    log.warn(
      `NODE_EXTRA_CA_CERTS=${file} cannot be read (${typeof code === "string" ? code : "unreadable"}): the CAs in it are not trusted`,
    );
  }
}

// A name that does not resolve will not resolve a second later either.
const _FINAL_CONNECTION_CODES = new Set(["ENOTFOUND"]);

/**
 * The outbound HTTP client a provider is given as `context.http`, for tests and for tools: every
 * request with a timeout, retries of throttling and server errors inside the deadline, the proxy
 * settings of the environment, a size cap on answers, and errors that name the endpoint.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const env = options.env ?? process.env;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? _sleep;
  const { log, signal } = options;
  let caChecked = false;

  return {
    async request(input, requestOptions = {}) {
      const url = typeof input === "string" ? new URL(input) : input;
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new CredentialProviderError("INTERNAL", `cannot call ${url.protocol} URLs`);
      }
      if (url.protocol === "https:" && !caChecked) {
        caChecked = true;
        _warnUnreadableExtraCa(env, log);
      }
      const method = (requestOptions.method ?? "GET").toUpperCase();
      const endpoint = requestOptions.endpoint ?? `${method} ${url.origin}${url.pathname}`;
      const capMs = requestOptions.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
      const started = Date.now();
      const deadline = options.deadline ?? started + DEFAULT_DEADLINE_MS;
      for (let attempts = 1; ; attempts++) {
        signal?.throwIfAborted();
        const attemptStart = Date.now();
        // The first attempt always runs, however little time is left: a call is never skipped.
        const timeoutMs =
          attemptTimeoutMs({ now: attemptStart, deadline }, capMs) ?? _lastChance(deadline, capMs);
        let failure: _Failure;
        try {
          const response = await _attempt(
            url,
            method,
            endpoint,
            requestOptions,
            timeoutMs,
            options.userAgent,
            env,
            signal,
          );
          log?.v(
            6,
            `${endpoint}: attempt ${attempts}: HTTP ${response.status}, ${response.body.length} bytes in ${Date.now() - attemptStart} ms`,
          );
          const verdict = _verdict(response, requestOptions);
          if (!verdict) return response;
          failure = verdict;
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (error instanceof CredentialProviderError) throw error;
          failure = _failureOf(error, requestOptions);
        }
        const now = Date.now();
        const plan = failure.retryable
          ? planRetry({
              attempts,
              now,
              deadline,
              retryAfterMs: failure.retryAfterMs,
              maxAttempts: requestOptions.maxAttempts,
              attemptCapMs: capMs,
              random,
            })
          : undefined;
        if (!plan) {
          throw new CloudCallError(
            {
              endpoint,
              fault: failure.fault,
              detail: failure.detail,
              status: failure.status,
              cause: failure.cause,
              attempts,
              elapsedMs: now - started,
            },
            { cause: failure.error },
          );
        }
        log?.v(4, `${endpoint} ${failure.detail}; attempt ${attempts}, retrying in ${plan.delayMs} ms`);
        await sleep(plan.delayMs, signal);
      }
    },
  };
}

/** A failure made of an answer: 429, 5xx, or what the caller's `classify` calls retryable. */
function _verdict(response: HttpResponse, options: HttpRequestOptions): _Failure | undefined {
  const retryAfterMs = parseRetryAfter(response.headers["retry-after"], Date.now());
  const status = response.status;
  if (status === 429) {
    return { fault: "throttled", detail: "throttled (HTTP 429)", status, retryable: true, retryAfterMs };
  }
  // 501 Not Implemented will not be implemented on the next attempt.
  if (status >= 500 && status !== 501) {
    return {
      fault: "server-error",
      detail: `answered HTTP ${status}`,
      status,
      retryable: true,
      retryAfterMs,
    };
  }
  const classified = options.classify?.(response);
  if (!classified) return undefined;
  const what = classified.cause ? `${classified.cause}, HTTP ${status}` : `HTTP ${status}`;
  return {
    fault: classified.fault,
    detail: classified.fault === "throttled" ? `throttled (${what})` : `failed (${what})`,
    status,
    cause: classified.cause,
    retryable: true,
    retryAfterMs,
  };
}

/** A failure made of an error: the connection, the tunnel, TLS, the timeout, the size cap. */
function _failureOf(error: unknown, options: HttpRequestOptions): _Failure {
  if (error instanceof _AttemptError) return error.failure;
  const code = (error as { code?: unknown }).code;
  const text = typeof code === "string" ? code : "";
  if ((error as { name?: unknown }).name === "ProxyTunnelError") {
    const tunnel = error as Error & { status?: number };
    // A proxy that refuses by policy (4xx) will refuse again; one that is down or busy may not.
    const retryable = tunnel.status === undefined || tunnel.status >= 500;
    return { fault: "proxy", detail: `failed: ${tunnel.message}`, cause: text, retryable, error };
  }
  if (tlsErrorCodes.has(text)) {
    return {
      fault: "tls",
      detail: `failed TLS verification: ${_TLS_PROBLEMS[text] ?? "the certificate is not trusted"} (${text}; ${options.ca ? "only the CA given for this endpoint is trusted" : "a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS"})`,
      cause: text,
      retryable: false,
      error,
    };
  }
  const phrase = _CONNECTION_CODES[text];
  if (phrase) {
    return {
      fault: "connection",
      detail: `${phrase} (${text})`,
      cause: text,
      retryable: !_FINAL_CONNECTION_CODES.has(text),
      error,
    };
  }
  return {
    fault: "connection",
    detail: `failed (${text || (error as Error).name || "error"})`,
    cause: text,
    retryable: false,
    error,
  };
}

class _AttemptError extends Error {
  readonly failure: _Failure;
  constructor(failure: _Failure) {
    super(failure.detail);
    this.failure = failure;
  }
}

async function _attempt(
  url: URL,
  method: string,
  endpoint: string,
  options: HttpRequestOptions,
  timeoutMs: number,
  userAgent: string,
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  // Built-ins through getBuiltinModule, not import(): Node's ESM facade for node:http reads every
  // export, which loads undici and http2 (~60 ms of a provider's start, see docs/performance.md).
  const http = process.getBuiltinModule("node:http");
  const https = process.getBuiltinModule("node:https");
  const { isIP } = process.getBuiltinModule("node:net");
  const [{ proxyForUrl }, { EnvProxyAgent }] = await Promise.all([
    import("./proxy.ts"),
    import("./proxy-agent.ts"),
  ]);
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const headers: Record<string, string> = { "user-agent": userAgent, ...options.headers };
  const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body;
  if (body) headers["content-length"] = String(body.length);

  let proxy: URL | undefined;
  try {
    if (options.connectTo === undefined) proxy = proxyForUrl(url, env);
  } catch (error) {
    throw new CredentialProviderError("CONFIG_INVALID", (error as Error).message);
  }
  let request: import("node:http").ClientRequest;
  if (options.connectTo !== undefined) {
    // The URL's host names the server (SNI, Host, the certificate's name); connectTo is where it is.
    const client = url.protocol === "https:" ? https : http;
    const servername = isIP(url.hostname.replace(/^\[|\]$/g, "")) ? undefined : url.hostname;
    request = client.request({
      protocol: url.protocol,
      hostname: options.connectTo,
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method,
      headers: { host: url.host, ...headers },
      ...(servername && { servername }),
      ...(options.ca && { ca: _pem(options.ca) }),
      ...(options.clientCertificate && _clientCertificate(options.clientCertificate)),
      agent: false,
    });
  } else if (url.protocol === "https:") {
    request = https.request(url, {
      method,
      headers,
      ...(options.ca && { ca: _pem(options.ca) }),
      ...(options.clientCertificate && _clientCertificate(options.clientCertificate)),
      agent: proxy ? new EnvProxyAgent({ env, keepAlive: false, connectTimeoutMs: timeoutMs }) : false,
    });
  } else if (proxy) {
    // A plain-http request through a proxy names the absolute URL in the request line.
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    request = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: proxy.port || 80,
      method,
      path: url.href,
      headers: { host: url.host, ...headers },
      agent: false,
    });
  } else {
    request = http.request(url, { method, headers, agent: false });
  }

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settle();
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason ?? new Error("aborted"));
    let answered = false;
    const timer = setTimeout(() => {
      const seconds = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 100) / 10} s` : `${timeoutMs} ms`;
      fail(
        new _AttemptError({
          fault: "timeout",
          detail: answered
            ? `did not finish its answer within ${seconds}`
            : `did not answer within ${seconds}`,
          retryable: true,
        }),
      );
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    request.once("error", fail);
    request.once("response", (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      const truncated = () =>
        fail(new _AttemptError({ fault: "truncated", detail: "sent a truncated answer", retryable: true }));
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(
            new _AttemptError({
              fault: "too-large",
              detail: `sent an answer larger than ${_bytes(maxBytes)}`,
              status: response.statusCode,
              retryable: false,
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      // An answer cut off mid-body ends in an error, or in a close without a complete message.
      response.once("error", truncated);
      response.once("close", () => {
        if (!response.complete) truncated();
      });
      response.once("end", () => {
        if (!response.complete) return truncated();
        if (settled) return;
        settle();
        resolve(
          createHttpResponse(response.statusCode ?? 0, Buffer.concat(chunks), response.headers, endpoint),
        );
      });
    });
    request.end(body);
  });
}

function _pem(ca: string | Uint8Array): string {
  return typeof ca === "string" ? ca : Buffer.from(ca).toString("utf8");
}

function _clientCertificate(pair: NonNullable<HttpRequestOptions["clientCertificate"]>) {
  return { cert: _pem(pair.cert), key: _pem(pair.key) };
}

/** Keeps a byte order mark, as the bytes have it: `json()` of such a body is malformed, as it is. */
const _UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * An answer as the client gives it, for the client itself and for a provider's unit tests with a
 * fake `context.http`: `json()` of a body that is not JSON is the client's `malformed`
 * CloudCallError naming `endpoint`, never a SyntaxError.
 */
export function createHttpResponse(
  status: number,
  body: Uint8Array | string = "",
  headers: IncomingHttpHeaders = {},
  endpoint = "",
): HttpResponse {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const text = () => (typeof body === "string" ? body : _UTF8.decode(bytes));
  return {
    status,
    headers,
    body: bytes,
    endpoint,
    text,
    json: () => {
      try {
        return JSON.parse(text());
      } catch {
        throw new CloudCallError({
          endpoint,
          fault: "malformed",
          status,
          detail: `answered HTTP ${status} with a body that is not JSON`,
        });
      }
    },
  };
}

/** What an attempt that no longer fits the policy may still take: the time left, margin first. */
function _lastChance(deadline: number, capMs: number): number {
  const left = deadline - Date.now();
  const withMargin = left - DEADLINE_MARGIN_MS;
  return Math.max(1, Math.min(capMs, withMargin > 0 ? withMargin : left));
}

function _bytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

function _sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
