/**
 * A SigV4 signer for tests, written from the AWS documentation apart from the emulator's verifier
 * (a shared bug would pass both): it signs every header it sends, as a client may. Checked against
 * the documentation's worked example before it checks anything else.
 */
import { createHash, createHmac } from "node:crypto";
import type { ClientResponse, Emulator } from "../index.ts";

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignOptions {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** The credential scope: what the client claims, right or wrong. */
  region: string;
  service: string;
  /** Default now. */
  date?: Date;
}

/** The headers to send: the given ones plus host, x-amz-date, the session token and authorization. */
export function signV4(keys: AwsKeys, options: SignOptions): Record<string, string> {
  const url = new URL(options.url);
  const amzDate = (options.date ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  headers.host = url.host;
  headers["x-amz-date"] = amzDate;
  if (keys.sessionToken !== undefined) headers["x-amz-security-token"] = keys.sessionToken;
  const names = Object.keys(headers).sort();
  const query = [...url.searchParams]
    .map(([k, v]) => `${_encode(k)}=${_encode(v)}`)
    .sort()
    .join("&");
  const canonical = [
    options.method,
    url.pathname,
    query,
    names.map((n) => `${n}:${(headers[n] as string).trim()}\n`).join(""),
    names.join(";"),
    _sha256(options.body ?? ""),
  ].join("\n");
  const scope = `${day}/${options.region}/${options.service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${_sha256(canonical)}`;
  let key: Buffer = Buffer.from(`AWS4${keys.secretAccessKey}`);
  for (const part of [day, options.region, options.service, "aws4_request"]) {
    key = createHmac("sha256", key).update(part).digest();
  }
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

const _sha256 = (data: string) => createHash("sha256").update(data).digest("hex");
const _encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A JSON 1.1 call, signed, to `https://host/`, as the SDK makes ECR's and ECR Public's. */
export function callJson(
  emulator: Emulator,
  host: string,
  keys: AwsKeys,
  options: {
    target: string;
    region: string;
    service: string;
    body?: string;
    date?: Date;
    headers?: Record<string, string>;
  },
): Promise<ClientResponse> {
  const url = `https://${host}/`;
  const body = options.body ?? "{}";
  const headers = signV4(keys, {
    method: "POST",
    url,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": options.target,
      ...options.headers,
    },
    body,
    region: options.region,
    service: options.service,
    ...(options.date ? { date: options.date } : {}),
  });
  return emulator.request(url, { method: "POST", headers, body });
}
