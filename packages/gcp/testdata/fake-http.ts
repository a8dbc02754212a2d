/**
 * A recording fake of core's HttpClient for unit tests: answers by URL from a table, records every
 * call (URL, method, endpoint in words, headers, body). What a call is answered with is built by
 * `answer`, which parses JSON as core's client does (a body that is not JSON is a `malformed`
 * CloudCallError naming the endpoint).
 */
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { CloudCallError, createLogger, SecretRegistry } from "@kubelet-credential-provider/core";

export interface RecordedCall {
  url: string;
  method: string;
  endpoint: string | undefined;
  headers: Record<string, string>;
  body: string;
  options: HttpRequestOptions;
}

export type Answer = HttpResponse | Error | ((call: RecordedCall) => HttpResponse | Error);

export const GOOGLE_FLAVOR = { "metadata-flavor": "Google" } as const;

/** An answer with `body` (JSON unless a string) and `headers`. */
export function answer(
  status: number,
  body: unknown = "",
  headers: Record<string, string> = {},
): HttpResponse {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const bytes = new TextEncoder().encode(text);
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: bytes,
    endpoint: "",
    text: () => text,
    json: () => {
      try {
        return JSON.parse(text);
      } catch {
        throw new CloudCallError({ endpoint: "", fault: "malformed", status, detail: "not JSON" });
      }
    },
  };
}

/**
 * A client answering from `routes`: a key is a URL (matched with or without its query) or a part
 * of one; the first key that matches wins, in the table's order. Unmatched calls throw.
 */
export function recordingHttp(routes: Record<string, Answer>): { http: HttpClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      const href = String(url);
      const body = options.body;
      const call: RecordedCall = {
        url: href,
        method: options.method ?? "GET",
        endpoint: options.endpoint,
        headers: { ...options.headers },
        body: typeof body === "string" ? body : body ? new TextDecoder().decode(body) : "",
        options,
      };
      calls.push(call);
      const keys = Object.keys(routes);
      const key =
        keys.find((k) => k === href || k === href.split("?")[0]) ?? keys.find((k) => href.includes(k));
      if (key === undefined) throw new Error(`fake http: no route for ${href}`);
      const route = routes[key] as Answer;
      const result = typeof route === "function" ? route(call) : route;
      if (result instanceof Error) throw result;
      return { ...result, endpoint: options.endpoint ?? "" };
    },
  };
  return { http, calls };
}

/** A quiet logger, its lines, and the registry it redacts with. */
export function quietLog(verbosity = 10) {
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const log = createLogger({
    name: "test",
    verbosity,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  return { log, lines, secrets };
}
