/**
 * The Entra ID access tokens the emulator issued (from the token endpoint or IMDS), kept by value
 * so the ACR exchange can tell its own tokens from anything else and read whose they are.
 */
import type { AzureCloudName } from "./_azure-clouds.ts";
import { azureClouds } from "./_azure-clouds.ts";
import type { JwtClaims } from "./_azure-jwt.ts";
import { epochSeconds, issueJwt, tokenId } from "./_azure-jwt.ts";

/** Who a token was issued to: an application (service principal) or a managed identity. */
export interface AzurePrincipal {
  kind: "application" | "system-assigned" | "user-assigned";
  clientId: string;
  /** The service principal's object id: the `oid` ACR authorizes. */
  objectId: string;
  /** A user-assigned identity's ARM resource id. */
  resourceId?: string;
}

export interface IssuedAccessToken {
  token: string;
  cloud: AzureCloudName;
  tenantId: string;
  /** The resource asked for, as asked (the token's `aud`). */
  audience: string;
  principal: AzurePrincipal;
  expiresAt: Date;
  claims: JwtClaims;
}

// One key id for everything the emulator signs; it names the emulator in a decoded token.
export const emulatorKid = "cloud-emulator";

export class AccessTokens {
  readonly #issued = new Map<string, IssuedAccessToken>();

  issue(
    issueSecret: (prefix: string) => string,
    grant: {
      cloud: AzureCloudName;
      tenantId: string;
      audience: string;
      principal: AzurePrincipal;
      expiresAt: Date;
    },
  ): IssuedAccessToken {
    const now = epochSeconds();
    const { principal } = grant;
    // The v1 app-only claims ACR and most resource servers read.
    const claims: JwtClaims = {
      aud: grant.audience,
      iss: `${azureClouds[grant.cloud].issuer}${grant.tenantId}/`,
      iat: now,
      nbf: now,
      exp: epochSeconds(grant.expiresAt),
      aio: "cloud-emulator",
      appid: principal.clientId,
      appidacr: principal.kind === "application" ? "1" : "2",
      idp: `${azureClouds[grant.cloud].issuer}${grant.tenantId}/`,
      idtyp: "app",
      oid: principal.objectId,
      sub: principal.objectId,
      tid: grant.tenantId,
      uti: tokenId(),
      ver: "1.0",
      ...(principal.resourceId ? { xms_mirid: principal.resourceId } : {}),
    };
    const token = issueJwt(issueSecret, claims, emulatorKid);
    const issued: IssuedAccessToken = { ...grant, token, claims };
    this.#issued.set(token, issued);
    return issued;
  }

  find(token: string): IssuedAccessToken | undefined {
    return this.#issued.get(token);
  }
}

/** One token request, to Entra ID's token endpoint, IMDS or identity bindings, and what came of it. */
export interface AzureTokenCall {
  source: "entra" | "imds" | "identity-bindings";
  /** The name called: `login.microsoftonline.com`, or IMDS's `127.0.0.1` / `169.254.169.254`. */
  host: string;
  /** Of the Entra host called; for IMDS, the node's cloud (`imdsCloud`). */
  cloud: AzureCloudName;
  /** From the path for Entra; the directory's tenant for IMDS. */
  tenantId?: string;
  clientId?: string;
  /** Entra's grant_type (`client_credentials`); `managed_identity` for IMDS. */
  grantType?: string;
  /** How the caller proved who it is. */
  credential?: "client_secret" | "certificate" | "federated" | "managed_identity";
  /** `client_assertion_type` as sent. */
  assertionType?: string;
  /** Entra's `scope` as sent. */
  scope?: string;
  /** The resource asked for: the scope without `/.default`, or IMDS's `resource`. */
  resource?: string;
  /** IMDS only: the user-assigned selector sent, if any. */
  selector?: { client_id?: string; object_id?: string; msi_res_id?: string };
  /** The identity the token was issued to. */
  principal?: AzurePrincipal;
  /** Of the certificate whose key signed the assertion. */
  thumbprint?: string;
  /** The federated token presented (a service account or workload identity token). */
  federatedToken?: string;
  /** `"ok"`, or the OAuth error answered (`invalid_client`, `invalid_request`, …). */
  outcome: string;
  /** Entra's AADSTS number, for an Entra error. */
  errorCode?: number;
  message?: string;
  accessToken?: string;
  expiresAt?: Date;
}

/** Records a client credentials request's form fields (never the secret or the assertion) on its call. */
export function recordTokenForm(call: AzureTokenCall, form: URLSearchParams): void {
  for (const [field, name] of [
    ["clientId", "client_id"],
    ["grantType", "grant_type"],
    ["assertionType", "client_assertion_type"],
    ["scope", "scope"],
  ] as const) {
    const value = form.get(name);
    if (value !== null) call[field] = value;
  }
}
