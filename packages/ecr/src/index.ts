/**
 * @kubelet-credential-provider/ecr: Amazon ECR and ECR Public credentials for the kubelet, as a
 * library. The executable `ecr-credential-provider` is `runProvider(provider)`.
 *
 * ```ts
 * import { createEcrProvider, parseEcrHost } from "@kubelet-credential-provider/ecr";
 * const provider = createEcrProvider({ clients }); // clients: EcrClients, e.g. fakes in tests
 * parseEcrHost("123456789012.dkr.ecr.us-west-2.amazonaws.com")?.region; // "us-west-2"
 * ```
 *
 * Everything exported here is public API, listed by name (see index.test.ts). Importing it loads
 * nothing from the AWS SDK: the SDK clients are imported on the first request that needs them.
 */

export type {
  AssumeRoleRequest,
  AuthorizationToken,
  AwsCredentials,
  CallContext,
  EcrClients,
  TokenRequest,
} from "./clients.ts";
export type { AwsPartition, EcrHost, PrivateEcrHost, PublicEcrHost } from "./hosts.ts";
export { ECR_PUBLIC_HOSTS, ECR_PUBLIC_REGION, parseEcrHost } from "./hosts.ts";
export type { RegistryMirrors } from "./mirrors.ts";
export { parseRegistryMirrors } from "./mirrors.ts";
export type { EcrFlags, EcrProvider, EcrProviderOptions } from "./provider.ts";
export {
  createEcrProvider,
  DEFAULT_ROLE_ARN_ANNOTATION,
  ECR_MATCH_IMAGES,
  provider,
  ROLE_ARN_ENV,
  ROLE_SESSION_NAME,
} from "./provider.ts";
