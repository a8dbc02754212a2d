/**
 * The AWS credentials the emulator issued (the node's static keys, the instance role's through
 * IMDS, and STS's for web identity), and the check every signed endpoint makes with them: the
 * SigV4 signature recomputed with the secret of that access key, the session token of temporary
 * credentials, the credential scope and the clock, answered with the errors AWS answers.
 */
import { randomBytes } from "node:crypto";
import type { EmulatorRequest } from "../request.ts";
import { AwsError } from "./_aws-protocols.ts";
import {
  canonicalRequest,
  expectedSignature,
  formatAmzDate,
  parseAmzDate,
  parseAuthorization,
  signaturesMatch,
} from "./_sigv4.ts";

export type CredentialSource = "static" | "imds" | "sts";

export interface AwsCredential {
  /** `AKIA…` for static keys, `ASIA…` for temporary ones, as AWS names them; not a secret. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials only; then required as X-Amz-Security-Token. */
  sessionToken?: string;
  /** Temporary credentials only. */
  expiresAt?: Date;
  source: CredentialSource;
  accountId: string;
  /** Who signs with them: `arn:aws:iam::…:user/…` or `arn:aws:sts::…:assumed-role/…/…`. */
  principalArn: string;
}

/** What a successful check found, for the endpoint's answer and the test's records. */
export interface Authenticated {
  credential: AwsCredential;
  region: string;
  service: string;
}

// AWS rejects a signature dated more than this far from its clock, either way.
const _skewMs = 15 * 60_000;
const _base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export class AwsCredentials {
  readonly #byKey = new Map<string, AwsCredential>();
  readonly #issueSecret: (prefix: string) => string;

  constructor(issueSecret: (prefix: string) => string) {
    this.#issueSecret = issueSecret;
  }

  /** New credentials: the secret and session token through the ledger (a handler passes its ctx's). */
  issue(
    source: CredentialSource,
    identity: { accountId: string; principalArn: string; expiresAt?: Date },
    issueSecret: (prefix: string) => string = this.#issueSecret,
  ): AwsCredential {
    const temporary = source !== "static";
    let accessKeyId: string;
    do accessKeyId = `${temporary ? "ASIA" : "AKIA"}${_randomKeyId()}`;
    while (this.#byKey.has(accessKeyId));
    const credential: AwsCredential = {
      accessKeyId,
      secretAccessKey: issueSecret(`aws-secret-${source}-`),
      ...(temporary
        ? {
            sessionToken: issueSecret(`aws-session-${source}-`),
            expiresAt: identity.expiresAt ?? new Date(Date.now() + 3600_000),
          }
        : {}),
      source,
      accountId: identity.accountId,
      principalArn: identity.principalArn,
    };
    this.#byKey.set(accessKeyId, credential);
    return credential;
  }

  get(accessKeyId: string): AwsCredential | undefined {
    return this.#byKey.get(accessKeyId);
  }

  /**
   * The credential that signed `req`, checked as AWS checks it for an endpoint of `service` in
   * `region`; throws the AwsError AWS would answer with. `failure` receives the canonical request
   * the emulator computed when only the signature disagrees, for a test to compare.
   */
  authenticate(
    req: EmulatorRequest,
    expected: { region: string; service: string },
    failure?: (detail: { canonicalRequest: string }) => void,
  ): Authenticated {
    const header = req.headers.authorization;
    if (!header)
      throw new AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    const auth = parseAuthorization(header);
    if ("error" in auth) throw new AwsError(400, "IncompleteSignatureException", auth.error);
    if (!auth.signedHeaders.includes("host")) {
      throw new AwsError(
        400,
        "IncompleteSignatureException",
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
      );
    }
    const amzDateHeader = req.headers["x-amz-date"];
    const amzDate = typeof amzDateHeader === "string" ? amzDateHeader : "";
    const signedAt = parseAmzDate(amzDate);
    if (!signedAt) {
      throw new AwsError(
        400,
        "IncompleteSignatureException",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
    }
    if (!auth.signedHeaders.includes("x-amz-date")) {
      throw new AwsError(
        400,
        "IncompleteSignatureException",
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
      );
    }
    const now = Date.now();
    if (signedAt.getTime() < now - _skewMs) {
      throw new AwsError(
        403,
        "InvalidSignatureException",
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now - _skewMs))} (${formatAmzDate(new Date(now))} - 15 min.)`,
      );
    }
    if (signedAt.getTime() > now + _skewMs) {
      throw new AwsError(
        403,
        "InvalidSignatureException",
        `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now + _skewMs))} (${formatAmzDate(new Date(now))} + 15 min.)`,
      );
    }

    const credential = this.#byKey.get(auth.accessKeyId);
    const token = req.headers["x-amz-security-token"];
    // AWS says the same for an unknown key and a wrong token: neither tells which part is wrong.
    const invalid = () =>
      new AwsError(
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    if (!credential) throw invalid();
    if (credential.sessionToken === undefined ? token !== undefined : token !== credential.sessionToken) {
      throw invalid();
    }
    if (credential.expiresAt && credential.expiresAt.getTime() <= now) {
      throw new AwsError(
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
      );
    }

    if (auth.date !== amzDate.slice(0, 8)) {
      throw new AwsError(
        403,
        "InvalidSignatureException",
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      );
    }
    if (auth.region !== expected.region) {
      throw new AwsError(
        403,
        "InvalidSignatureException",
        `Credential should be scoped to a valid region, not '${auth.region}'. `,
      );
    }
    if (auth.service !== expected.service) {
      throw new AwsError(
        403,
        "InvalidSignatureException",
        `Credential should be scoped to correct service: '${expected.service}'. `,
      );
    }
    for (const name of auth.signedHeaders) {
      if (req.headers[name] === undefined) {
        throw new AwsError(
          403,
          "InvalidSignatureException",
          `The signed header ${name} is not in the request.`,
        );
      }
    }

    const canonical = canonicalRequest(
      {
        method: req.method,
        path: req.url.pathname,
        search: req.url.search,
        headers: req.headers,
        body: req.body,
      },
      auth.signedHeaders,
    );
    const want = expectedSignature(credential.secretAccessKey, auth, amzDate, canonical);
    if (!signaturesMatch(want, auth.signature)) {
      failure?.({ canonicalRequest: canonical });
      throw new AwsError(
        403,
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      );
    }
    return { credential, region: auth.region, service: auth.service };
  }
}

function _randomKeyId(): string {
  // 16 base32 characters, the length and alphabet of a real access key id after its prefix.
  return [...randomBytes(16)].map((b) => _base32[b & 31]).join("");
}
