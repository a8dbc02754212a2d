/**
 * The Google access tokens the emulator issued (metadata server, OAuth2 JWT grant, STS, IAM
 * credentials), kept by value: IAM credentials takes only these as callers, and every one of them
 * is accepted by the Google registries (user `oauth2accesstoken` or `_token`) until it expires,
 * as Artifact Registry and Container Registry accept any access token with a storage scope.
 */
import type { Emulator } from "../emulator.ts";

/** Where an access token came from. */
export type GoogleTokenSource = "metadata" | "oauth2" | "sts" | "iamcredentials";

export interface IssuedGoogleToken {
  token: string;
  source: GoogleTokenSource;
  /**
   * Whose it is: a service account's email (metadata, oauth2, iamcredentials) or, for STS, the
   * federated principal (`principal://iam.googleapis.com/…/subject/<sub>` or
   * `serviceAccount:<project>.svc.id.goog[<namespace>/<name>]`).
   */
  principal: string;
  scopes: string[];
  expiresAt: Date;
}

/** Container Registry and Artifact Registry names, as the provider's matchImages. */
export const googleRegistryHostPatterns = ["gcr.io", "*.gcr.io", "*.pkg.dev", "container.cloud.google.com"];

/** The user names registries take with an access token as the password. */
export const googleRegistryUsernames = ["oauth2accesstoken", "_token"] as const;

export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

export class GoogleTokens {
  readonly #issued = new Map<string, IssuedGoogleToken>();
  readonly #registry: Emulator["registry"];

  constructor(registry: Emulator["registry"]) {
    this.#registry = registry;
  }

  /** A fresh `ya29.…` token (in the ledger), known here and accepted by every Google registry. */
  issue(
    issueSecret: (prefix: string) => string,
    grant: { source: GoogleTokenSource; principal: string; scopes: string[]; expiresAt: Date },
  ): IssuedGoogleToken {
    const prefix = {
      metadata: "ya29.gce-",
      oauth2: "ya29.sa-",
      sts: "ya29.sts-",
      iamcredentials: "ya29.iam-",
    };
    const issued: IssuedGoogleToken = { ...grant, token: issueSecret(prefix[grant.source]) };
    this.#issued.set(issued.token, issued);
    for (const host of googleRegistryHostPatterns) {
      for (const username of googleRegistryUsernames) {
        this.#registry.accept(host, username, issued.token, { expiresAt: grant.expiresAt });
      }
    }
    return issued;
  }

  find(token: string): IssuedGoogleToken | undefined {
    const issued = this.#issued.get(token);
    return issued ? { ...issued, scopes: [...issued.scopes] } : undefined;
  }
}

/** Google's OAuth error body (`oauth2.googleapis.com`, `sts.googleapis.com`). */
export class GoogleOAuthError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

/** A Google API error body (`iamcredentials.googleapis.com`): `{"error": {code, message, status}}`. */
export class GoogleApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `scope` of a form (space-separated) or a JSON body (string or array), as a list. */
export function scopeList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === "string" && s !== "");
  if (typeof value === "string") return value.split(/[\s,]+/).filter((s) => s !== "");
  return [];
}
