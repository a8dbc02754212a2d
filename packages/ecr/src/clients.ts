/**
 * The cloud calls the provider makes, as an interface: `aws.ts` implements it with the AWS SDK,
 * tests with fakes. Implementations send every request through `http` (core's one outbound path)
 * and may throw AWS SDK errors as the SDK throws them; the provider maps them to typed errors
 * (errors.ts).
 */
import type { HttpClient, Logger, SecretRegistry } from "@kubelet-credential-provider/core";

/** AWS credentials: the node's, or a role's from STS. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** ECR's `authorizationData`: base64 of `user:password`, and when it expires. */
export interface AuthorizationToken {
  token: string;
  expiresAt?: Date;
}

/** What every call is given: where to call, and the run's signal, deadline, env, log and secrets. */
export interface CallContext {
  /** The API region: the registry's, us-east-1 for ECR Public. */
  region: string;
  /** Use the FIPS API endpoint. */
  fips: boolean;
  /** Use the dual-stack API endpoint. */
  dualStack: boolean;
  /** Fires at the harness deadline: pass it to every request. */
  signal: AbortSignal;
  /** The harness deadline, in ms since the epoch, to size per-attempt timeouts. */
  deadline: number;
  /** The process environment as the harness gives it (the kubelet's plus the config's env). */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Register every secret learned along the way (e.g. the node's credentials). */
  secrets: SecretRegistry;
  /** The run's HTTP client: every request goes through it, the SDK's and IMDS's included. */
  http: HttpClient;
}

export interface TokenRequest extends CallContext {
  /** Credentials to sign with; undefined: the node's, found in the order of the AWS SDK's default chain. */
  credentials?: AwsCredentials;
}

export interface AssumeRoleRequest extends CallContext {
  roleArn: string;
  /** The pod's service account token, from the request. */
  webIdentityToken: string;
  sessionName: string;
}

/** The injected cloud clients. */
export interface EcrClients {
  /** `ecr:GetAuthorizationToken` in `region`. */
  privateToken(request: TokenRequest): Promise<AuthorizationToken>;
  /** `ecr-public:GetAuthorizationToken` (us-east-1). */
  publicToken(request: TokenRequest): Promise<AuthorizationToken>;
  /** `sts:AssumeRoleWithWebIdentity` in `region`. */
  assumeRole(request: AssumeRoleRequest): Promise<AwsCredentials>;
}
