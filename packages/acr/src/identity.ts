/**
 * Which Entra identity asks for the token, as data: the provider picks an {@link IdentitySpec} from
 * the request and azure.json, and a {@link CredentialFactory} turns it into a token source
 * (`azure.ts` with @azure/identity by default; fakes in tests).
 *
 * With identity bindings (`--ib-sni-name`): the application the service account's client id
 * annotation names (else `--ib-default-client-id`), with the pod's service account token, through
 * the cluster's API server (identity-bindings.ts). Service-account mode (the request carries a
 * service account token): the application named by the service account's annotations, with the
 * token as its client assertion. Otherwise, per
 * azure.json, in this order: workload identity (`aadFederatedTokenFile` with
 * `useFederatedWorkloadIdentityExtension`), managed identity (`useManagedIdentityExtension`),
 * service principal with `aadClientSecret`, then with `aadClientCertPath`.
 */
import type {
  CredentialProviderRequest,
  HttpClient,
  Logger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { AzureConfig } from "./azure-config.ts";
import type { AzureCloud } from "./clouds.ts";
import type { IdentityBindings } from "./identity-bindings.ts";

/** The service account annotation naming the Entra application (its client id). */
export const CLIENT_ID_ANNOTATION = "kubernetes.azure.com/acr-client-id";
/** The service account annotation naming the application's tenant. */
export const TENANT_ID_ANNOTATION = "kubernetes.azure.com/acr-tenant-id";

export type IdentitySpec =
  | {
      kind: "identityBinding";
      clientId: string;
      tenantId?: string;
      assertion: string;
      bindings: IdentityBindings;
    }
  | { kind: "serviceAccount"; tenantId: string; clientId: string; assertion: string }
  | { kind: "workloadIdentity"; tenantId: string; clientId: string; tokenFilePath: string }
  | { kind: "managedIdentity"; clientId?: string; resourceId?: string }
  | { kind: "clientSecret"; tenantId: string; clientId: string; clientSecret: string }
  | {
      kind: "clientCertificate";
      tenantId: string;
      clientId: string;
      certificatePath: string;
      certificatePassword?: string;
    };

/** The identities an Entra token source from a {@link CredentialFactory} serves (all but identity bindings). */
export type EntraIdentitySpec = Exclude<IdentitySpec, { kind: "identityBinding" }>;

/** An Entra access token (the shape of @azure/identity's `AccessToken`). */
export interface EntraToken {
  token: string;
  expiresOnTimestamp?: number;
}

/** Anything that issues Entra tokens (the shape of @azure/identity's `TokenCredential`). */
export interface TokenSource {
  getToken(scope: string, options: { abortSignal: AbortSignal }): Promise<EntraToken | null>;
}

/** What a credential is built with. */
export interface CredentialContext {
  cloud: AzureCloud;
  /** Fires at the harness deadline. */
  signal: AbortSignal;
  /** The harness deadline, in ms since the epoch, to size per-attempt timeouts. */
  deadline: number;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Register every secret learned along the way. */
  secrets: SecretRegistry;
  /** The run's HTTP client (core's): every call the token source makes goes through it. */
  http: HttpClient;
}

/** Builds the token source for an identity. */
export type CredentialFactory = (
  spec: EntraIdentitySpec,
  context: CredentialContext,
) => TokenSource | Promise<TokenSource>;

/**
 * Picks the identity for a request.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when an annotation or an azure.json field the
 *   identity needs is missing, or azure.json configures no identity at all.
 */
export function selectIdentity(
  request: CredentialProviderRequest,
  config: AzureConfig,
  bindings?: IdentityBindings,
): IdentitySpec {
  const fail = (reason: string) => new CredentialProviderError("CONFIG_INVALID", reason);
  const assertion = request.serviceAccountToken;
  if (bindings) return _identityBinding(request, bindings);
  if (assertion) {
    const annotations = request.serviceAccountAnnotations ?? {};
    const annotation = (key: string) => {
      const value = annotations[key]?.trim();
      if (!value) {
        throw fail(
          `service-account mode: the service account annotation ${key} is ${key in annotations ? "empty" : "missing"}; ` +
            `annotate the pod's service account with ${CLIENT_ID_ANNOTATION} and ${TENANT_ID_ANNOTATION}, ` +
            "and list both in the kubelet config's tokenAttributes annotation keys",
        );
      }
      return value;
    };
    const clientId = annotation(CLIENT_ID_ANNOTATION);
    const tenantId = annotation(TENANT_ID_ANNOTATION);
    return { kind: "serviceAccount", tenantId, clientId, assertion };
  }

  const need = (field: "tenantId" | "aadClientId", mode: string): string => {
    const value = config[field];
    if (!value) throw fail(`${config.file}: ${mode} needs ${field}`);
    return value;
  };
  if (config.aadFederatedTokenFile && config.useFederatedWorkloadIdentityExtension) {
    return {
      kind: "workloadIdentity",
      tenantId: need("tenantId", "workload identity (aadFederatedTokenFile)"),
      clientId: need("aadClientId", "workload identity (aadFederatedTokenFile)"),
      tokenFilePath: config.aadFederatedTokenFile,
    };
  }
  if (config.useManagedIdentityExtension) {
    const id = config.userAssignedIdentityID;
    if (!id) return { kind: "managedIdentity" };
    return id.toUpperCase().includes("/SUBSCRIPTIONS/")
      ? { kind: "managedIdentity", resourceId: id }
      : { kind: "managedIdentity", clientId: id };
  }
  if (config.aadClientSecret) {
    return {
      kind: "clientSecret",
      tenantId: need("tenantId", "a service principal (aadClientSecret)"),
      clientId: need("aadClientId", "a service principal (aadClientSecret)"),
      clientSecret: config.aadClientSecret,
    };
  }
  if (config.aadClientCertPath) {
    return {
      kind: "clientCertificate",
      tenantId: need("tenantId", "a service principal (aadClientCertPath)"),
      clientId: need("aadClientId", "a service principal (aadClientCertPath)"),
      certificatePath: config.aadClientCertPath,
      ...(config.aadClientCertPassword !== undefined && {
        certificatePassword: config.aadClientCertPassword,
      }),
    };
  }
  throw fail(
    `${config.file} configures no identity: set useManagedIdentityExtension (optionally with userAssignedIdentityID), ` +
      "aadFederatedTokenFile with useFederatedWorkloadIdentityExtension, or tenantId and aadClientId with aadClientSecret or aadClientCertPath",
  );
}

/**
 * The tenant the exchange names: the identity's, else azure.json's (managed identity, and
 * identity bindings, whose tenant upstream keeps for later use).
 */
export function tenantOf(spec: IdentitySpec, config: AzureConfig): string | undefined {
  return spec.kind === "managedIdentity" || spec.kind === "identityBinding" ? config.tenantId : spec.tenantId;
}

/**
 * The application of an identity binding: the client id annotation if the service account has
 * it, else `--ib-default-client-id`; upstream's precedence, an empty annotation included.
 */
function _identityBinding(request: CredentialProviderRequest, bindings: IdentityBindings): IdentitySpec {
  const fail = (reason: string) =>
    new CredentialProviderError("CONFIG_INVALID", `identity bindings (--ib-sni-name): ${reason}`);
  const assertion = request.serviceAccountToken;
  if (!assertion) {
    throw fail(
      "the request carries no service account token: give the provider's kubelet config tokenAttributes (serviceAccountTokenAudience), as for service-account mode",
    );
  }
  const annotations = request.serviceAccountAnnotations ?? {};
  const pick = (key: string, fallback: string | undefined) =>
    Object.hasOwn(annotations, key) ? annotations[key]?.trim() : fallback;
  const clientId = pick(CLIENT_ID_ANNOTATION, bindings.defaultClientId);
  if (!clientId) {
    throw fail(
      `no application: the service account annotation ${CLIENT_ID_ANNOTATION} is ${CLIENT_ID_ANNOTATION in annotations ? "empty" : "missing"} and --ib-default-client-id is not given`,
    );
  }
  const tenantId = pick(TENANT_ID_ANNOTATION, bindings.defaultTenantId);
  return { kind: "identityBinding", clientId, ...(tenantId && { tenantId }), assertion, bindings };
}

/** A one-line description for logs: never a secret. */
export function describeIdentity(spec: IdentitySpec): string {
  switch (spec.kind) {
    case "identityBinding":
      return `identity bindings: the pod's service account token for application ${spec.clientId}, through ${spec.bindings.sniName} at ${spec.bindings.apiServer}`;
    case "serviceAccount":
      return `the pod's service account token as client assertion for application ${spec.clientId} in tenant ${spec.tenantId}`;
    case "workloadIdentity":
      return `workload identity: application ${spec.clientId} in tenant ${spec.tenantId}, token file ${spec.tokenFilePath}`;
    case "managedIdentity":
      return spec.clientId
        ? `user-assigned managed identity with client id ${spec.clientId}`
        : spec.resourceId
          ? `user-assigned managed identity ${spec.resourceId}`
          : "system-assigned managed identity";
    case "clientSecret":
      return `service principal ${spec.clientId} in tenant ${spec.tenantId} with a client secret`;
    case "clientCertificate":
      return `service principal ${spec.clientId} in tenant ${spec.tenantId} with the certificate ${spec.certificatePath}`;
  }
}
