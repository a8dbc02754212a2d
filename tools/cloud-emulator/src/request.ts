/**
 * What a route handler sees and returns: the request already read and parsed, and a plain reply
 * value, so an endpoint reads as the cloud's documentation does.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

export type Scheme = "https" | "http";

export interface EmulatorRequest {
  method: string;
  scheme: Scheme;
  /** Absolute, as the client addressed it: `https://myregistry.azurecr.io/v2/`. */
  url: URL;
  /** Lower case, without the port. */
  host: string;
  /** The Host header as sent (with a port if there was one), for URLs that point back at it. */
  authority: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as JSON; a body that is not JSON answers 400. */
  json(): unknown;
  /** The body as application/x-www-form-urlencoded. */
  form(): URLSearchParams;
  /** The token of `Authorization: Bearer …`. */
  bearer(): string | undefined;
  /** The credentials of `Authorization: Basic …`. */
  basic(): { username: string; password: string } | undefined;
}

export interface Reply {
  status: number;
  headers?: OutgoingHttpHeaders;
  /** Sent as is; a string is UTF-8. */
  body?: string | Uint8Array;
}

/** Throw from a handler to answer with `status` and a text body. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;

  constructor(status: number, message: string, headers: OutgoingHttpHeaders = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

export function json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): Reply {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(value) };
}

export function text(status: number, body: string, headers: OutgoingHttpHeaders = {}): Reply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body };
}

export function _parseRequest(
  method: string,
  scheme: Scheme,
  authority: string,
  target: string,
  headers: IncomingHttpHeaders,
  body: string,
): EmulatorRequest {
  const url = new URL(target, `${scheme}://${authority}`);
  const authorization = headers.authorization ?? "";
  return {
    method,
    scheme,
    url,
    // A fully qualified name (`metadata.google.internal.`, as Google's Go plugin asks) is the name.
    host: url.hostname
      .replace(/^\[|\]$/g, "")
      .replace(/\.$/, "")
      .toLowerCase(),
    authority,
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    json() {
      try {
        return JSON.parse(body);
      } catch {
        throw new HttpError(400, "the request body is not JSON");
      }
    },
    form: () => new URLSearchParams(body),
    bearer() {
      const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
      return m?.[1];
    },
    basic() {
      const m = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
      if (!m) return undefined;
      const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return undefined;
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    },
  };
}
