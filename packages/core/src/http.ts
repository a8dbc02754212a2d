/**
 * The one outbound path for calls we write by hand (the SDKs have their own): a timeout per
 * attempt, the run's deadline, retries with exponential backoff and full jitter on throttling,
 * 5xx and dropped connections (honouring Retry-After), a response size limit, the proxy settings
 * of the environment, and logs that show no body or header (where the secrets are). Redirects are not followed, so a
 * credential is never carried to a host the caller did not name.
 *
 * Node's http modules load on the first request, so a provider that never calls out does not pay
 * for them at start-up. NODE_EXTRA_CA_CERTS is applied by Node itself to every TLS connection.
 */
import type { IncomingHttpHeaders } from "node:http";
import { CredentialProviderError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { SecretRegistry } from "./secrets.ts";

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Default 1 MiB. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  text(): string;
  /** Parses the body as JSON; a body that is not JSON is a cloud error, not a crash. */
  json(): unknown;
}

export interface HttpClient {
  request(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
}

export interface HttpClientOptions {
  userAgent: string;
  signal?: AbortSignal;
  log?: Logger;
  secrets?: SecretRegistry;
  env?: Readonly<Record<string, string | undefined>>;
  /** First backoff step; doubled per retry, capped at 2 s, then jittered. Default 200 ms. */
  retryBaseMs?: number;
  random?: () => number;
}

const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "ATTEMPT_TIMEOUT",
]);
const MAX_BACKOFF_MS = 2_000;

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const env = options.env ?? process.env;
  const random = options.random ?? Math.random;
  const baseMs = options.retryBaseMs ?? 200;
  const log = options.log;

  return {
    async request(input, requestOptions = {}) {
      const url = typeof input === "string" ? new URL(input) : input;
      const method = (requestOptions.method ?? "GET").toUpperCase();
      const retries = requestOptions.retries ?? 3;
      const what = `${method} ${url.origin}${url.pathname}`;
      for (let attempt = 0; ; attempt++) {
        options.signal?.throwIfAborted();
        const started = Date.now();
        let response: HttpResponse;
        try {
          response = await _attempt(url, method, requestOptions, options.userAgent, env, options.signal);
        } catch (error) {
          if (options.signal?.aborted) throw options.signal.reason;
          const code = (error as { code?: string }).code ?? "";
          if (attempt < retries && RETRYABLE_NETWORK_CODES.has(code)) {
            const delay = _backoff(attempt, baseMs, random);
            log?.v(
              4,
              `${what}: ${(error as Error).message}; retry ${attempt + 1} of ${retries} in ${delay} ms`,
            );
            await _sleep(delay, options.signal);
            continue;
          }
          if (error instanceof CredentialProviderError) throw error;
          throw new CredentialProviderError("CLOUD_UNAVAILABLE", `${what}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        // Never the body: an auth endpoint's answer is the secret, and it is logged before the
        // provider could register what it holds.
        log?.v(
          6,
          `${what} -> ${response.status}, ${response.body.length} bytes in ${Date.now() - started} ms`,
        );
        const throttled = response.status === 429;
        const unavailable = response.status >= 500 && response.status !== 501;
        if (!throttled && !unavailable) return response;
        const summary = `${what} answered ${response.status}${_bodySnippet(response)}`;
        if (attempt >= retries) {
          throw new CredentialProviderError(throttled ? "CLOUD_THROTTLED" : "CLOUD_UNAVAILABLE", summary);
        }
        const retryAfter = _retryAfterMs(response.headers["retry-after"]);
        const delay = retryAfter ?? _backoff(attempt, baseMs, random);
        log?.v(4, `${summary}; retry ${attempt + 1} of ${retries} in ${delay} ms`);
        await _sleep(delay, options.signal);
      }
    },
  };
}

async function _attempt(
  url: URL,
  method: string,
  options: HttpRequestOptions,
  userAgent: string,
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  // Built-ins through getBuiltinModule, not import(): Node's ESM facade for node:http reads every
  // export, which loads undici and http2 (~60 ms of a provider's start, see docs/performance.md).
  const http = process.getBuiltinModule("node:http");
  const https = process.getBuiltinModule("node:https");
  const [{ proxyForUrl }, { EnvProxyAgent }] = await Promise.all([
    import("./proxy.ts"),
    import("./proxy-agent.ts"),
  ]);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CredentialProviderError("INTERNAL", `cannot call ${url.protocol} URLs`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const headers: Record<string, string> = { "user-agent": userAgent, ...options.headers };
  const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body;
  if (body) headers["content-length"] = String(body.length);

  const proxy = proxyForUrl(url, env);
  let request: import("node:http").ClientRequest;
  if (url.protocol === "https:") {
    request = https.request(url, {
      method,
      headers,
      agent: proxy ? new EnvProxyAgent({ env, keepAlive: false }) : undefined,
    });
  } else if (proxy) {
    // A plain-http request through a proxy names the absolute URL in the request line.
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    request = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      method,
      path: url.href,
      headers: { host: url.host, ...headers },
    });
  } else {
    request = http.request(url, { method, headers });
  }

  return new Promise<HttpResponse>((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason ?? new Error("aborted"));
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`) as Error & { code: string };
      error.code = "ATTEMPT_TIMEOUT";
      fail(error);
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    request.once("error", fail);
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(
            new CredentialProviderError(
              "CLOUD_UNAVAILABLE",
              `${method} ${url.origin}${url.pathname}: response larger than ${maxBytes} bytes`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.once("error", fail);
      response.once("end", () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const bytes = Buffer.concat(chunks);
        resolve(
          _response(
            response.statusCode ?? 0,
            response.headers,
            bytes,
            `${method} ${url.origin}${url.pathname}`,
          ),
        );
      });
    });
    request.end(body);
  });
}

function _response(status: number, headers: IncomingHttpHeaders, body: Buffer, what: string): HttpResponse {
  return {
    status,
    headers,
    body,
    text: () => body.toString("utf8"),
    json: () => {
      try {
        return JSON.parse(body.toString("utf8"));
      } catch {
        throw new CredentialProviderError(
          "CLOUD_UNAVAILABLE",
          `${what} answered ${status} with a body that is not JSON`,
        );
      }
    },
  };
}

function _backoff(attempt: number, baseMs: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
  return Math.round(ceiling * random());
}

/** Retry-After in seconds or as an HTTP date; capped so one answer cannot eat the deadline. */
function _retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = /^\d+$/.test(text.trim()) ? Number(text.trim()) : (Date.parse(text) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(0, Math.round(seconds * 1000)), 10_000);
}

function _bodySnippet(response: HttpResponse): string {
  const text = response.text().replace(/\s+/g, " ").trim();
  if (!text) return "";
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function _sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
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
