/**
 * The AWS cloud as the ECR provider meets it through the real AWS SDK: ECR and ECR Public
 * GetAuthorizationToken under their real names (reached through the CONNECT proxy), STS
 * AssumeRoleWithWebIdentity, IMDSv2 on the plain listener, and the registries that accept what
 * they issue. Every credential is the emulator's own, so every signature is checked for real.
 */
import type { Emulator } from "../emulator.ts";
import { AwsCredentials } from "./_aws-credentials.ts";
import type { AuthorizationTokenCall } from "./_aws-ecr.ts";
import { installEcr } from "./_aws-ecr.ts";
import type { AwsService } from "./_aws-hosts.ts";
import { ecrRegistryHosts, endpointHost } from "./_aws-hosts.ts";
import { installImds } from "./_aws-imds.ts";
import type { TrustOptions, WebIdentityCall } from "./_aws-sts.ts";
import { installSts } from "./_aws-sts.ts";

export type { AwsCredential, CredentialSource } from "./_aws-credentials.ts";
export type { AuthorizationTokenCall } from "./_aws-ecr.ts";
export { ecrPublicTarget, ecrTarget } from "./_aws-ecr.ts";
export type { AwsEndpoint, AwsPartition, AwsService } from "./_aws-hosts.ts";
export {
  awsPartitions,
  ecrPublicRegistryHosts,
  ecrRegistryHosts,
  endpointHost,
  partitionOf,
} from "./_aws-hosts.ts";
export { imdsHosts } from "./_aws-imds.ts";
export type { TrustOptions, WebIdentityCall } from "./_aws-sts.ts";

export interface AwsCloudOptions {
  /** The node's account, and of its instance role. Default `123456789012`. */
  accountId?: string;
  /** The instance's region, as IMDS tells it. Default `us-west-2`. */
  nodeRegion?: string;
  /** The instance role's name, as IMDS lists it. Default `eks-node-role`. */
  imdsRole?: string;
  /** Of each ECR and ECR Public token. Default 43200 (12 h, as AWS). */
  tokenValiditySeconds?: number;
}

export interface AwsCloud {
  readonly accountId: string;
  readonly nodeRegion: string;
  readonly imdsRole: string;
  /** For AWS_EC2_METADATA_SERVICE_ENDPOINT: the plain listener, `http://127.0.0.1:PORT`. */
  readonly imdsEndpoint: string;
  /** Of each ECR and ECR Public token issued from now on. */
  tokenValiditySeconds: number;
  /** The node's static keys (the secret in the ledger), for AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. */
  nodeCredentials(): { accessKeyId: string; secretAccessKey: string };
  /** `{ AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY }` of nodeCredentials(). */
  credentialsEnv(): Record<string, string>;
  /** `{ AWS_EC2_METADATA_SERVICE_ENDPOINT }`: the SDK's chain then finds the instance role. */
  imdsEnv(): Record<string, string>;
  /** The instance role's credentials IMDS hands out now. */
  imdsCredentials(): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
  /** Let STS accept `token` as a web identity (for any role, or only `options.roleArn`). */
  trustWebIdentityToken(token: string, options?: TrustOptions): void;
  /** A fresh token (in the ledger), trusted as trustWebIdentityToken does. */
  issueWebIdentityToken(options?: TrustOptions): string;
  /** Every AssumeRoleWithWebIdentity: the role, session name and token that arrived, and the outcome. */
  webIdentityCalls(): WebIdentityCall[];
  /** Every ECR and ECR Public GetAuthorizationToken: endpoint, credentials used, outcome. */
  authorizationTokenCalls(service?: "ecr" | "ecr-public"): AuthorizationTokenCall[];
  /** The next `times` authorization tokens do not decode to `user:password`. */
  malformTokens(times?: number): void;
  /** Every registry name an ECR token of `accountId` in `region` is good for. */
  registryHosts(region: string, accountId?: string): string[];
  /** An API endpoint's name as the AWS SDK resolves it. */
  endpointHost(
    service: AwsService,
    region: string,
    options?: { fips?: boolean; dualStack?: boolean },
  ): string;
}

export function installAwsCloud(
  emulator: Pick<Emulator, "route" | "issueSecret" | "registry" | "httpUrl">,
  options: AwsCloudOptions = {},
): AwsCloud {
  const accountId = options.accountId ?? "123456789012";
  if (!/^\d{12}$/.test(accountId)) throw new Error(`aws accountId must be 12 digits, got ${accountId}`);
  const nodeRegion = options.nodeRegion ?? "us-west-2";
  const imdsRole = options.imdsRole ?? "eks-node-role";
  const credentials = new AwsCredentials((prefix) => emulator.issueSecret(prefix));
  const node = credentials.issue("static", {
    accountId,
    principalArn: `arn:aws:iam::${accountId}:user/node`,
  });
  const tokenCalls: AuthorizationTokenCall[] = [];
  const webIdentityCalls: WebIdentityCall[] = [];
  const trusted = new Map<string, TrustOptions>();
  let malformed = 0;

  const cloud: AwsCloud = {
    accountId,
    nodeRegion,
    imdsRole,
    imdsEndpoint: emulator.httpUrl,
    tokenValiditySeconds: options.tokenValiditySeconds ?? 43200,
    nodeCredentials: () => ({ accessKeyId: node.accessKeyId, secretAccessKey: node.secretAccessKey }),
    credentialsEnv: () => ({
      AWS_ACCESS_KEY_ID: node.accessKeyId,
      AWS_SECRET_ACCESS_KEY: node.secretAccessKey,
    }),
    imdsEnv: () => ({ AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.httpUrl }),
    imdsCredentials: () => {
      const c = imds.current();
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken as string,
        expiration: c.expiresAt as Date,
      };
    },
    trustWebIdentityToken: (token, trust = {}) => {
      if (token.length < 4) throw new Error("a web identity token is at least 4 characters, as STS requires");
      trusted.set(token, { ...trust });
    },
    issueWebIdentityToken: (trust = {}) => {
      const token = emulator.issueSecret("web-identity-");
      trusted.set(token, { ...trust });
      return token;
    },
    webIdentityCalls: () => webIdentityCalls.map((call) => ({ ...call })),
    authorizationTokenCalls: (service) =>
      tokenCalls
        .filter((call) => service === undefined || call.service === service)
        .map((call) => ({ ...call, registries: [...call.registries] })),
    malformTokens: (times = 1) => {
      malformed += times;
    },
    registryHosts: (region, account = accountId) => ecrRegistryHosts(account, region),
    endpointHost: (service, region, hostOptions) => endpointHost(service, region, hostOptions),
  };

  installEcr({
    emulator,
    credentials,
    calls: tokenCalls,
    validitySeconds: () => cloud.tokenValiditySeconds,
    takeMalformed: () => malformed > 0 && malformed-- > 0,
  });
  installSts({ emulator, credentials, calls: webIdentityCalls, trusted });
  const imds = installImds({
    emulator,
    credentials,
    node: { accountId, region: nodeRegion, role: imdsRole },
  });
  return cloud;
}
