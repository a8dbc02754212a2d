/**
 * Which Google identity the gcr flow answers with, as data: the provider picks an
 * {@link IdentitySpec} from the request and the flags, and a {@link TokenSourceFactory} turns it
 * into a token source (`token-sources.ts`, on core's HTTP client, by default; fakes in tests).
 *
 * - GKE workload identity (`--identity-provider`, service account annotated
 *   `iam.gke.io/enable-wi-image-pull: "true"`): the pod's token at Google STS (`sts.ts`, no
 *   token source). Annotated but impossible (no token, no `--identity-provider`): an error, never
 *   the node's identity.
 * - Outside GKE (`--workload-identity-provider`, a service account token in the request): the
 *   pool's federated token, impersonating the service account named by
 *   `iam.gke.io/gcp-service-account` when present.
 * - Otherwise the node's credentials: Application Default Credentials when
 *   GOOGLE_APPLICATION_CREDENTIALS is set, else the metadata server's default service account;
 *   with `--impersonate-service-account`, a token of that account obtained with them.
 */
import type {
  CredentialProviderRequest,
  HttpClient,
  Logger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { GcpOptions } from "./flags.ts";
import { SERVICE_ACCOUNT_EMAIL } from "./flags.ts";
import { gkeWorkloadIdentityAudience } from "./sts.ts";

/** The annotation with which a service account opts in to GKE workload identity image pulls. */
export const ENABLE_WI_IMAGE_PULL_ANNOTATION = "iam.gke.io/enable-wi-image-pull";
/** The annotation naming the Google service account a Kubernetes service account acts as. */
export const GCP_SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account";
/** The environment variable naming the Application Default Credentials file. */
export const APPLICATION_CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS";

/** The node's own credentials. */
export type NodeIdentitySpec = { kind: "metadata" } | { kind: "applicationDefault"; file: string };

/** An identity that a {@link TokenSourceFactory} builds a token source for. */
export type TokenSourceSpec =
  | NodeIdentitySpec
  | { kind: "impersonated"; source: NodeIdentitySpec; targetPrincipal: string }
  | {
      kind: "workloadIdentityPool";
      /** The pool provider resource, `//iam.googleapis.com/projects/N/.../providers/R`. */
      audience: string;
      /** The pod's service account token. */
      subjectToken: string;
      /** The Google service account to impersonate, from the annotation. */
      serviceAccount?: string;
    };

/** What the gcr flow does for a request. */
export type IdentitySpec =
  | TokenSourceSpec
  | { kind: "gkeWorkloadIdentity"; audience: string; subjectToken: string };

/**
 * A Google OAuth access token. Its expiry is required: a token whose lifetime is unknown cannot be
 * cached safely, and one that has expired must be refused rather than answered.
 */
export interface GoogleAccessToken {
  token: string;
  expiresAt: Date;
}

/** Anything that issues Google access tokens. */
export interface TokenSource {
  getAccessToken(): Promise<GoogleAccessToken>;
}

/** What a token source is built with. */
export interface TokenSourceContext {
  /** Fires at the harness deadline. */
  signal: AbortSignal;
  /** The harness deadline, in ms since the epoch. */
  deadline: number;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Register every secret learned along the way. */
  secrets: SecretRegistry;
  /** Core's HTTP client: the default factory sends every request through it. */
  http: HttpClient;
  /** The clock, in ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** Builds the token source for an identity. */
export type TokenSourceFactory = (
  spec: TokenSourceSpec,
  context: TokenSourceContext,
) => TokenSource | Promise<TokenSource>;

/**
 * Picks the identity of the gcr flow for a request.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the service account opts in to workload
 *   identity and that cannot be honoured, or names an invalid Google service account.
 */
export function selectIdentity(
  request: CredentialProviderRequest,
  options: GcpOptions,
  env: Readonly<Record<string, string | undefined>>,
): IdentitySpec {
  const fail = (reason: string) => new CredentialProviderError("CONFIG_INVALID", reason);
  const annotations = request.serviceAccountAnnotations ?? {};
  const token = request.serviceAccountToken;
  const optedIn = annotations[ENABLE_WI_IMAGE_PULL_ANNOTATION] === "true";

  if (optedIn && !options.workloadIdentityProvider) {
    if (!options.identityProvider) {
      throw fail(
        `the service account opts in to workload identity image pulls (${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"), but --identity-provider is not set: refusing to answer with the node's identity`,
      );
    }
    if (!token) {
      throw fail(
        `the service account opts in to workload identity image pulls (${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"), but the request carries no service account token: set tokenAttributes in the kubelet's CredentialProviderConfig`,
      );
    }
    if (!options.projectId) throw fail("workload identity image pulls need --project-id");
    return {
      kind: "gkeWorkloadIdentity",
      audience: gkeWorkloadIdentityAudience(options.projectId, options.identityProvider),
      subjectToken: token,
    };
  }

  if (options.workloadIdentityProvider && token) {
    const serviceAccount = annotations[GCP_SERVICE_ACCOUNT_ANNOTATION]?.trim();
    if (
      serviceAccount !== undefined &&
      serviceAccount !== "" &&
      !SERVICE_ACCOUNT_EMAIL.test(serviceAccount)
    ) {
      throw fail(
        `the service account annotation ${GCP_SERVICE_ACCOUNT_ANNOTATION} is ${JSON.stringify(serviceAccount.slice(0, 100))}, not a Google service account email`,
      );
    }
    return {
      kind: "workloadIdentityPool",
      audience: options.workloadIdentityProvider,
      subjectToken: token,
      ...(serviceAccount ? { serviceAccount } : {}),
    };
  }

  const file = env[APPLICATION_CREDENTIALS_ENV]?.trim();
  const node: NodeIdentitySpec = file ? { kind: "applicationDefault", file } : { kind: "metadata" };
  if (options.impersonateServiceAccount) {
    return { kind: "impersonated", source: node, targetPrincipal: options.impersonateServiceAccount };
  }
  return node;
}

/** A one-line description for logs and messages. */
export function describeIdentity(spec: IdentitySpec): string {
  switch (spec.kind) {
    case "metadata":
      return "the node's default service account (metadata server)";
    case "applicationDefault":
      return `Application Default Credentials from ${spec.file}`;
    case "impersonated":
      return `service account ${spec.targetPrincipal}, impersonated with ${describeIdentity(spec.source)}`;
    case "workloadIdentityPool":
      return `workload identity pool provider ${spec.audience}${spec.serviceAccount ? `, impersonating ${spec.serviceAccount}` : ""}`;
    case "gkeWorkloadIdentity":
      return `GKE workload identity (${spec.audience})`;
  }
}
