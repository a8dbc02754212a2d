/**
 * JWTs as Azure hands them out and takes them in. The emulator's own tokens end in a ledger
 * secret instead of a signature: they are secrets (so each must be in the ledger, whole), and the
 * emulator checks them by looking them up, as only it could verify them anyway. Client assertions
 * are real signed JWTs, checked against the registered certificate's key with node:crypto.
 */
import type { KeyObject } from "node:crypto";
import { constants, randomUUID, verify } from "node:crypto";

export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: JwtClaims;
  /** `header.payload`, what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const _b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * A JWT whose last segment is a fresh ledger secret (24 hex characters, valid base64url): the
 * whole token is what `issueSecret` returns, so a leak of it is caught like any other secret.
 */
export function issueJwt(issueSecret: (prefix: string) => string, claims: JwtClaims, kid: string): string {
  // RS256 as Entra and ACR label theirs; nobody but the emulator can check the "signature".
  return issueSecret(`${_b64({ typ: "JWT", alg: "RS256", kid })}.${_b64(claims)}.`);
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const decodedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as unknown;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    if (!_isObject(decodedHeader) || !_isObject(claims)) return undefined;
    return {
      header: decodedHeader,
      claims,
      signingInput: `${header}.${payload}`,
      signature: Buffer.from(signature, "base64url"),
    };
  } catch {
    return undefined;
  }
}

/** Whether `jwt` carries a valid signature by `key` for the algorithm its header names. */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const alg = jwt.header.alg;
  const m = typeof alg === "string" ? /^(RS|PS|ES)(256|384|512)$/.exec(alg) : null;
  if (!m) return false;
  const hash = `sha${m[2]}`;
  const data = Buffer.from(jwt.signingInput);
  try {
    if (m[1] === "RS") return verify(hash, data, key, jwt.signature);
    if (m[1] === "PS") {
      // MSAL signs PS256 with the digest-length salt; AUTO accepts any, as Entra does.
      return verify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        jwt.signature,
      );
    }
    return verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, jwt.signature);
  } catch {
    // A key of the wrong type for the algorithm is a failed check, not an emulator error.
    return false;
  }
}

/** Seconds since the epoch, as JWT time claims are. */
export const epochSeconds = (date: Date | number = Date.now()) =>
  Math.floor((typeof date === "number" ? date : date.getTime()) / 1000);

/** A token id: Entra's `uti` and ACR's `jti` make every token distinct. */
export const tokenId = () => randomUUID();

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
