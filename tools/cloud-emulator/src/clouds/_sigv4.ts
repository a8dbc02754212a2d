/**
 * AWS Signature Version 4, the server's half: read the Authorization header and recompute the
 * signature from the request as it arrived, so the emulator accepts exactly what AWS would. Pure
 * crypto and parsing; which key and scope a request must carry is the caller's business.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const sigv4Algorithm = "AWS4-HMAC-SHA256";

export interface SigV4Authorization {
  accessKeyId: string;
  /** The credential scope: `yyyymmdd/region/service/aws4_request`. */
  date: string;
  region: string;
  service: string;
  /** Lower case, in the order the client listed them (which the canonical request keeps). */
  signedHeaders: string[];
  signature: string;
}

/** What the signature covers, as the server received it. */
export interface SignedRequest {
  method: string;
  /** The path as sent, percent-encoded. */
  path: string;
  /** The raw query string, with or without its `?`. */
  search: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The header's parts, or why it is not a SigV4 header (the text AWS answers with). */
export function parseAuthorization(value: string): SigV4Authorization | { error: string } {
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== sigv4Algorithm) {
    return { error: `Authorization header algorithm ${JSON.stringify(algorithm)} is not ${sigv4Algorithm}` };
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of ["Credential", "SignedHeaders", "Signature"]) {
    if (!fields.get(name)) return { error: `Authorization header requires '${name}' parameter.` };
  }
  const scope = (fields.get("Credential") as string).split("/");
  const [accessKeyId, date, region, service, terminator] = scope;
  if (scope.length !== 5 || !accessKeyId || !date || !region || !service || terminator !== "aws4_request") {
    return {
      error: "Credential should be of the form <AccessKeyId>/<yyyymmdd>/<region>/<service>/aws4_request.",
    };
  }
  const signature = fields.get("Signature") as string;
  if (!/^[0-9a-f]{64}$/.test(signature)) return { error: "Signature must be 64 lower-case hex digits." };
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (fields.get("SignedHeaders") as string).split(";").map((h) => h.toLowerCase()),
    signature,
  };
}

/** `20150830T123600Z`, the form of X-Amz-Date, as a Date; undefined if it is not that form. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

/**
 * The canonical request, as the AWS SDKs build it for every service but S3: the path normalised
 * and encoded once more (the SDK escapes the already-escaped path), the query sorted and
 * re-encoded, each signed header trimmed with inner runs of spaces folded.
 */
export function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[]): string {
  const headers = signedHeaders.map((name) => {
    const raw = request.headers[name];
    const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
    return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
  });
  return [
    request.method.toUpperCase(),
    _canonicalPath(request.path),
    _canonicalQuery(request.search),
    headers.join(""),
    signedHeaders.join(";"),
    sha256Hex(request.body),
  ].join("\n");
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = _hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = _hmac(kDate, region);
  const kService = _hmac(kRegion, service);
  return _hmac(kService, "aws4_request");
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [sigv4Algorithm, amzDate, scope, sha256Hex(canonical)].join("\n");
}

/** The signature the client should have sent, had it signed with `secretAccessKey`. */
export function expectedSignature(
  secretAccessKey: string,
  auth: Pick<SigV4Authorization, "date" | "region" | "service">,
  amzDate: string,
  canonical: string,
): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const key = signingKey(secretAccessKey, auth.date, auth.region, auth.service);
  return createHmac("sha256", key)
    .update(stringToSign(amzDate, scope, canonical), "utf8")
    .digest("hex");
}

/** Constant time, so the emulator does not teach a timing attack by example. */
export function signaturesMatch(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(actual, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

function _hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function _canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith("/") ? "/" : "";
  return `/${segments.map(_rfc3986).join("/")}${trailing}`;
}

function _canonicalQuery(search: string): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (query === "") return "";
  const pairs = query
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const eq = part.indexOf("=");
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? "" : part.slice(eq + 1);
      return [_rfc3986(_decode(key)), _rfc3986(_decode(value))] as const;
    });
  pairs.sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function _decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a stray % is signed as sent, as the SDK would have encoded it
  }
}

// encodeURIComponent leaves !'()* alone; SigV4 escapes everything but unreserved characters.
function _rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
