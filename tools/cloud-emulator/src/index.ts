/**
 * @kubelet-credential-provider/cloud-emulator: local stand-ins, on 127.0.0.1, for the cloud
 * endpoints and registries the providers call. Cloud modules add their endpoints with route().
 */
export type { FaultSource, RecordedCall } from "./calls.ts";
export type { ClientRequestInit, ClientResponse } from "./client.ts";
export type {
  AuthorizationTokenCall,
  AwsCloud,
  AwsCloudOptions,
  AwsCredential,
  AwsEndpoint,
  AwsPartition,
  AwsService,
  CredentialSource,
  TrustOptions,
  WebIdentityCall,
} from "./clouds/aws.ts";
export {
  awsPartitions,
  ecrPublicRegistryHosts,
  ecrPublicTarget,
  ecrRegistryHosts,
  ecrTarget,
  endpointHost,
  imdsHosts,
  partitionOf,
} from "./clouds/aws.ts";
export type {
  AzureCloud,
  AzureCloudInfo,
  AzureCloudName,
  AzureCloudOptions,
  AzurePrincipal,
  AzureTokenCall,
  ClientCertificate,
  ExchangeCall,
  FederatedTokenOptions,
  IssuedAccessToken,
  ManagedIdentity,
} from "./clouds/azure.ts";
export {
  acrAudience,
  acrLoginServer,
  acrLoginServerPatterns,
  acrRefreshTokenUsername,
  azureClouds,
  azureImdsHosts,
  jwtBearer,
} from "./clouds/azure.ts";
export type { ExampleCloud, ExampleCloudOptions } from "./clouds/example.ts";
export { exampleRegistryHosts, exampleTokenHost } from "./clouds/example.ts";
export type {
  DockercfgEntry,
  GceTokenCall,
  GoogleCloud,
  GoogleCloudOptions,
  GoogleTokenCall,
  GoogleTokenSource,
  ImpersonationCall,
  IssuedGoogleToken,
  OAuth2TokenCall,
  ServiceAccountKey,
  ServiceAccountKeyFile,
  ServiceAccountOptions,
  StsCall,
  SubjectTokenOptions,
} from "./clouds/google.ts";
export {
  accessTokenType,
  gceMetadataHosts,
  googleOAuth2TokenUri,
  googleRegistryHostPatterns,
  googleRegistryUsernames,
  jwtBearerGrant,
  subjectTokenTypes,
  tokenExchangeGrant,
} from "./clouds/google.ts";
export type { Emulator, EmulatorOptions } from "./emulator.ts";
export { startEmulator } from "./emulator.ts";
export type { EmulatedEndpoint, EndpointCloud, EndpointProtocol } from "./endpoints.ts";
export { emulatedEndpoints, throttleReply } from "./endpoints.ts";
export type { FaultKind, FaultSpec, MalformedFormat } from "./faults.ts";
export { defaultHugeBytes, malformedFormats } from "./faults.ts";
export type { FlakyKind, FlakySpec } from "./flaky.ts";
export type { ConnectionListener, RecordedConnection } from "./listeners.ts";
export type { NodeSetup } from "./node-setups.ts";
export { nodeSetups } from "./node-setups.ts";
export type { RateLimitSpec } from "./rate-limits.ts";
export type { AcceptOptions, EmulatedRegistry, RegistryOptions, RegistryScheme } from "./registry.ts";
export type { EmulatorRequest, Reply, Scheme } from "./request.ts";
export { HttpError, json, text } from "./request.ts";
export type { RouteContext, RouteHandle, RouteHandler, RouteInfo, RouteSpec } from "./router.ts";
