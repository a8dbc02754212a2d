/**
 * The Azure cloud as the ACR provider meets it through the real @azure/identity (MSAL): Entra ID
 * under its real authority names (through the CONNECT proxy), IMDS managed identity on the plain
 * listener, AKS identity bindings (`_azure-identity-bindings.ts`), and ACR login servers that exchange an Entra token for a registry refresh token. Only
 * identities a test registered get a token, and only the emulator's tokens are exchanged.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Emulator } from "../emulator.ts";
import type { ExchangeCall } from "./_azure-acr.ts";
import { installAcr } from "./_azure-acr.ts";
import type { AzureCloudName } from "./_azure-clouds.ts";
import { acrLoginServer, azureCloudNames, azureClouds } from "./_azure-clouds.ts";
import type { ClientCertificate, ManagedIdentity } from "./_azure-directory.ts";
import { Directory } from "./_azure-directory.ts";
import { installEntra } from "./_azure-entra.ts";
import { installIdentityBindings } from "./_azure-identity-bindings.ts";
import { installAzureImds } from "./_azure-imds.ts";
import { epochSeconds, issueJwt, tokenId } from "./_azure-jwt.ts";
import type { AzureTokenCall, IssuedAccessToken } from "./_azure-tokens.ts";
import { AccessTokens, emulatorKid } from "./_azure-tokens.ts";

export type { ExchangeCall } from "./_azure-acr.ts";
export { acrRefreshTokenUsername } from "./_azure-acr.ts";
export type { AzureCloudInfo, AzureCloudName } from "./_azure-clouds.ts";
export { acrAudience, acrLoginServer, acrLoginServerPatterns, azureClouds } from "./_azure-clouds.ts";
export type { ClientCertificate, ManagedIdentity } from "./_azure-directory.ts";
export { jwtBearer } from "./_azure-entra.ts";
export { identityBindingHosts } from "./_azure-identity-bindings.ts";
export { azureImdsHosts } from "./_azure-imds.ts";
export type { AzurePrincipal, AzureTokenCall, IssuedAccessToken } from "./_azure-tokens.ts";

export interface AzureCloudOptions {
  /** The directory's tenant (a GUID). Default `5c1a8f3e-0d2b-4e6a-9f7c-3b8d1e4a6c20`. */
  tenantId?: string;
  /** The cloud IMDS's tokens belong to (the node's). Default `AzurePublicCloud`. */
  imdsCloud?: AzureCloudName;
  /** Of each Entra and IMDS access token. Default 3599, as Entra's client credentials tokens. */
  accessTokenValiditySeconds?: number;
  /** Of each ACR refresh token. Default 10800 (3 h, as ACR). */
  refreshTokenValiditySeconds?: number;
}

export interface FederatedTokenOptions {
  tenantId?: string;
  /** Default `system:serviceaccount:default:default`. */
  subject?: string;
  /** Default an AKS-style OIDC issuer URL. */
  issuer?: string;
  /** Default 3600; negative for a token already expired. */
  validitySeconds?: number;
}

export interface AzureCloud {
  /** The directory's default tenant: registrations without a tenant land here; IMDS's tokens carry it. */
  readonly tenantId: string;
  /** The plain listener, `http://127.0.0.1:PORT`, for AZURE_POD_IDENTITY_AUTHORITY_HOST. */
  readonly imdsEndpoint: string;
  /** The cloud IMDS's tokens belong to. */
  imdsCloud: AzureCloudName;
  /** Of each access token issued from now on. */
  accessTokenValiditySeconds: number;
  /** Of each ACR refresh token issued from now on. */
  refreshTokenValiditySeconds: number;
  /** `https://login.microsoftonline.com` etc.: the authority azure.json's `cloud` selects. */
  authorityHost(cloud?: AzureCloudName): string;
  /** A login server name: `<name>.azurecr.io`, or `<name>.<region>.geo.azurecr.<suffix>`. */
  loginServer(name: string, cloud?: AzureCloudName, region?: string): string;
  /** A fresh client secret (in the ledger) the token endpoint accepts for `clientId`. */
  registerClientSecret(clientId: string, tenantId?: string): string;
  /** A fresh certificate whose key's assertions the token endpoint accepts for `clientId`. */
  registerClientCertificate(clientId: string, tenantId?: string): Promise<ClientCertificate>;
  /** Accept `token` as a federated client assertion for `clientId` (workload identity, service account). */
  trustFederatedToken(clientId: string, token: string, tenantId?: string): void;
  /** A fresh service-account-like JWT (in the ledger), trusted for `clientId`. */
  issueFederatedToken(clientId: string, options?: FederatedTokenOptions): string;
  /** Enable the system-assigned identity (no ids) or add a user-assigned one; IMDS answers for it. */
  managedIdentity(options?: { clientId?: string; resourceId?: string }): ManagedIdentity;
  /** `{ AZURE_POD_IDENTITY_AUTHORITY_HOST }`: @azure/identity's managed identity then calls the emulator. */
  imdsEnv(): Record<string, string>;
  /** Every token request, to Entra ID, IMDS and identity bindings, in order; `source` filters. */
  tokenCalls(source?: AzureTokenCall["source"]): AzureTokenCall[];
  /** Every `POST /oauth2/exchange`, in order. */
  exchangeCalls(): ExchangeCall[];
  /** What the emulator knows of an access token it issued (cloud, tenant, audience, principal). */
  accessToken(token: string): IssuedAccessToken | undefined;
}

export function installAzureCloud(
  emulator: Pick<Emulator, "route" | "issueSecret" | "registry" | "httpUrl" | "dir">,
  options: AzureCloudOptions = {},
): AzureCloud {
  const tenantId = (options.tenantId ?? "5c1a8f3e-0d2b-4e6a-9f7c-3b8d1e4a6c20").toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(tenantId)) {
    throw new Error(`azure tenantId must be a GUID, got ${tenantId}`);
  }
  const directory = new Directory(tenantId);
  const tokens = new AccessTokens();
  const tokenCalls: AzureTokenCall[] = [];
  const exchangeCalls: ExchangeCall[] = [];

  const cloud: AzureCloud = {
    tenantId,
    imdsEndpoint: emulator.httpUrl,
    imdsCloud: _cloudName(options.imdsCloud ?? "AzurePublicCloud"),
    accessTokenValiditySeconds: options.accessTokenValiditySeconds ?? 3599,
    refreshTokenValiditySeconds: options.refreshTokenValiditySeconds ?? 3 * 3600,
    authorityHost: (name = "AzurePublicCloud") => `https://${azureClouds[_cloudName(name)].authorityHost}`,
    loginServer: (name, cloudName, region) => acrLoginServer(name, cloudName, region),
    registerClientSecret: (clientId, tenant) => {
      const secret = emulator.issueSecret("entra-secret-");
      directory.ensureApp(clientId, tenant).secrets.add(secret);
      return secret;
    },
    registerClientCertificate: async (clientId, tenant) => {
      const app = directory.ensureApp(clientId, tenant);
      const cert = await directory.addCertificate(app);
      const certPemPath = join(
        emulator.dir,
        `azure-sp-${app.principal.clientId}-${cert.thumbprint.slice(0, 8).toLowerCase()}.pem`,
      );
      // Certificate then key, as azure.json's aadClientCertPath and @azure/identity read it.
      await writeFile(certPemPath, `${cert.certPem}${cert.keyPem}`, { mode: 0o600 });
      return { certPemPath, ...cert };
    },
    trustFederatedToken: (clientId, token, tenant) => {
      if (token === "") throw new Error("a federated token cannot be empty");
      directory.ensureApp(clientId, tenant).federatedTokens.add(token);
    },
    issueFederatedToken: (clientId, federated = {}) => {
      const now = epochSeconds();
      // Shaped like a projected service account token, as the kubelet and AKS hand them out.
      const token = issueJwt(
        emulator.issueSecret,
        {
          aud: ["api://AzureADTokenExchange"],
          iss: federated.issuer ?? "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-00000000a6c5/",
          sub: federated.subject ?? "system:serviceaccount:default:default",
          iat: now,
          nbf: now,
          exp: now + (federated.validitySeconds ?? 3600),
          jti: tokenId(),
        },
        emulatorKid,
      );
      directory.ensureApp(clientId, federated.tenantId).federatedTokens.add(token);
      return token;
    },
    managedIdentity: (identity = {}) => directory.addManagedIdentity(identity),
    imdsEnv: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.httpUrl }),
    tokenCalls: (source) =>
      tokenCalls
        .filter((call) => source === undefined || call.source === source)
        .map((call) => ({ ...call })),
    exchangeCalls: () => exchangeCalls.map((call) => ({ ...call })),
    accessToken: (token) => tokens.find(token),
  };

  installEntra({
    emulator,
    directory,
    tokens,
    calls: tokenCalls,
    validitySeconds: () => cloud.accessTokenValiditySeconds,
  });
  // The node's tokens, from IMDS or through the cluster's identity bindings: the node's cloud.
  const nodeTokens = {
    emulator,
    directory,
    tokens,
    calls: tokenCalls,
    cloud: () => cloud.imdsCloud,
    validitySeconds: () => cloud.accessTokenValiditySeconds,
  };
  installAzureImds(nodeTokens);
  installIdentityBindings(nodeTokens);

  installAcr({
    emulator,
    tokens,
    calls: exchangeCalls,
    validitySeconds: () => cloud.refreshTokenValiditySeconds,
  });
  return cloud;
}

function _cloudName(name: AzureCloudName): AzureCloudName {
  if (!azureCloudNames.includes(name)) {
    throw new Error(`unknown Azure cloud ${JSON.stringify(name)}; one of ${azureCloudNames.join(", ")}`);
  }
  return name;
}
