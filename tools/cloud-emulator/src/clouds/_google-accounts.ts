/**
 * The project's service accounts as the emulator knows them: those a test registered (which IAM
 * credentials lets callers impersonate) and their keys (whose JWTs the OAuth2 endpoint takes).
 */
import type { KeyObject } from "node:crypto";
import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const googleOAuth2TokenUri = "https://oauth2.googleapis.com/token";

/** A service account key file, as `gcloud iam service-accounts keys create` writes it. */
export interface ServiceAccountKeyFile {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface ServiceAccountKey {
  /** The key file under `emulator.dir` (mode 0600), for GOOGLE_APPLICATION_CREDENTIALS. */
  path: string;
  json: ServiceAccountKeyFile;
}

export interface ServiceAccountOptions {
  /**
   * Who may impersonate it (generateAccessToken): principals as the emulator records them (an
   * email, or an STS token's federated principal). Default: any caller with an emulator token.
   */
  impersonators?: string[];
}

interface _Account {
  email: string;
  keys: Map<string, KeyObject>;
  impersonators: Set<string> | undefined;
}

export class GoogleAccounts {
  readonly #accounts = new Map<string, _Account>();

  /** Registers (or updates) `email`; a service account's emails are case-insensitive. */
  add(email: string, options: ServiceAccountOptions = {}): void {
    const key = _email(email);
    const account = this.#accounts.get(key) ?? { email: key, keys: new Map(), impersonators: undefined };
    if (options.impersonators !== undefined) account.impersonators = new Set(options.impersonators);
    this.#accounts.set(key, account);
  }

  has(email: string): boolean {
    return this.#accounts.has(_email(email));
  }

  /** Whether `principal` may impersonate `email` (which must exist). */
  mayImpersonate(email: string, principal: string): boolean {
    const account = this.#accounts.get(_email(email));
    if (!account) return false;
    return account.impersonators === undefined || account.impersonators.has(principal);
  }

  /** The public keys of `email`'s registered keys, by private_key_id. */
  keys(email: string): Map<string, KeyObject> {
    return new Map(this.#accounts.get(_email(email))?.keys);
  }

  /** A fresh RSA key for `email` (registering the account), written as a key file under `dir`. */
  createKey(email: string, projectId: string, dir: string): ServiceAccountKey {
    this.add(email);
    const account = this.#accounts.get(_email(email)) as _Account;
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyId = randomBytes(20).toString("hex");
    account.keys.set(keyId, publicKey);
    const json: ServiceAccountKeyFile = {
      type: "service_account",
      project_id: projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      client_email: account.email,
      client_id: String(randomInt(1e9, 2 ** 47)),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: googleOAuth2TokenUri,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(account.email)}`,
      universe_domain: "googleapis.com",
    };
    const path = join(
      dir,
      `google-sa-${account.email.replace(/[^a-z0-9.-]/g, "_")}-${keyId.slice(0, 8)}.json`,
    );
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
    return { path, json };
  }
}

function _email(email: string): string {
  if (!/^[^@\s/:]+@[^@\s/:]+$/.test(email)) throw new Error(`${JSON.stringify(email)} is not an email`);
  return email.toLowerCase();
}
