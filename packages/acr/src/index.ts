/**
 * @kubelet-credential-provider/acr: Azure Container Registry credentials for the kubelet, as a
 * library. The executable `acr-credential-provider` is `runProvider(provider)`.
 *
 * ```ts
 * import { createAcrProvider, parseLoginServer } from "@kubelet-credential-provider/acr";
 * const provider = createAcrProvider({ credentialFactory }); // e.g. a fake in tests
 * parseLoginServer("myregistry.eastus2.geo.azurecr.io")?.region; // "eastus2"
 * ```
 *
 * Everything exported here is public API, listed by name (see index.test.ts). Importing it loads
 * nothing from @azure/identity: the SDK is imported on the first request that needs a token.
 */

export type { AzureConfig } from "./azure-config.ts";
export { loadAzureConfig, parseAzureConfig } from "./azure-config.ts";
export type { BearerChallenge, Challenge } from "./challenge.ts";
export { parseBearerChallenge, parseChallenges } from "./challenge.ts";
export type { AzureCloud, AzureCloudName } from "./clouds.ts";
export { ACR_AUDIENCE, AZURE_CLOUDS, resolveCloud } from "./clouds.ts";
export type { AcrSuffix, LoginServer } from "./hosts.ts";
export { loginServerFromImage, parseLoginServer } from "./hosts.ts";
export type {
  CredentialContext,
  CredentialFactory,
  EntraIdentitySpec,
  EntraToken,
  IdentitySpec,
  TokenSource,
} from "./identity.ts";
export { CLIENT_ID_ANNOTATION, selectIdentity, TENANT_ID_ANNOTATION } from "./identity.ts";
export type { IdentityBindings } from "./identity-bindings.ts";
export type { RegistryMirrors } from "./mirrors.ts";
export { parseRegistryMirrors, resolveLoginServer } from "./mirrors.ts";
export type { AcrFlags, AcrProvider, AcrProviderOptions } from "./provider.ts";
export { ACR_MATCH_IMAGES, createAcrProvider, provider } from "./provider.ts";
export { ACR_REFRESH_TOKEN_USERNAME, jwtExpiry } from "./token.ts";
