/**
 * A client for tests in the emulator's own process, which cannot take NODE_EXTRA_CA_CERTS after
 * start: it dials the listener on 127.0.0.1, sends the URL's name as SNI and Host, and trusts the
 * emulator's CA; so no name is ever resolved.
 */
import type { IncomingHttpHeaders } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { loopback } from "./listeners.ts";

export interface ClientRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): unknown;
}

export function _request(
  target: { httpsPort: number; httpPort: number; caPem: string },
  url: string | URL,
  init: ClientRequestInit = {},
): Promise<ClientResponse> {
  const parsed = new URL(url);
  const tls = parsed.protocol === "https:";
  if (!tls && parsed.protocol !== "http:")
    return Promise.reject(new Error(`cannot request ${parsed.protocol}`));
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const options = {
    host: loopback,
    port: tls ? target.httpsPort : target.httpPort,
    method: init.method ?? "GET",
    path: `${parsed.pathname}${parsed.search}`,
    headers: {
      host: parsed.host,
      ...(body ? { "content-length": String(body.length) } : {}),
      ...init.headers,
    },
    // A fresh connection per request: no pooled socket outlives the test.
    agent: false as const,
  };
  return new Promise((resolve, reject) => {
    const req = tls
      ? httpsRequest({
          ...options,
          ca: target.caPem,
          ...(isIP(hostname) ? {} : { servername: hostname }),
        })
      : httpRequest(options);
    const timer = setTimeout(() => {
      req.destroy(
        Object.assign(new Error(`no answer within ${init.timeoutMs ?? 10_000} ms`), { code: "ETIMEDOUT" }),
      );
    }, init.timeoutMs ?? 10_000);
    req.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.once("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          json: () => JSON.parse(text),
        });
      });
    });
    req.end(body);
  });
}
