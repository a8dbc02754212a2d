/**
 * The credential factory with @azure/identity, loaded on first use (the kubelet execs the provider
 * on every cache miss, and importing the SDK costs more than answering from its cache).
 *
 * Every credential gets:
 * - `authorityHost`: the configured cloud's Entra host, and no instance discovery (the three
 *   clouds are known to MSAL; one call fewer, and nothing asked of any other host);
 * - `httpClient`: core's client for the run (azure-http.ts), so that Entra's and the managed
 *   identity endpoint's calls take the one outbound path: its timeouts within the deadline, its
 *   retry policy, its proxy rules (loopback and the link-local IMDS never proxied), its size cap;
 * - no retries of the SDK's own (`retryOptions.maxRetries: 0`), so that core's policy is the only
 *   one. That option also sets the attempts of ManagedIdentityCredential's IMDS retry policy, and
 *   @azure/identity builds MSAL's managed identity application with `disableInternalRetries`; MSAL
 *   retries nothing else. No redirects.
 *
 * The SDK's logging goes through the run's logger (azure-logging.ts), not to stderr.
 */
import type {
  ClientAssertionCredentialOptions,
  ManagedIdentityCredentialClientIdOptions,
  TokenCredential,
  TokenCredentialOptions,
  WorkloadIdentityCredentialOptions,
} from "@azure/identity";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { AzureHttp } from "./azure-http.ts";
import { createAzureHttp } from "./azure-http.ts";
import { routeAzureLogs } from "./azure-logging.ts";
import type { CredentialContext, CredentialFactory, EntraIdentitySpec, TokenSource } from "./identity.ts";

type IdentityModule = typeof import("@azure/identity");

/** The SDK modules this provider uses, loaded together. */
export interface AzureSdk {
  identity: IdentityModule;
  createHttpHeaders: typeof import("@azure/core-rest-pipeline").createHttpHeaders;
  logger: typeof import("@azure/logger");
}

let loading: Promise<AzureSdk> | undefined;

/** Imports the SDK once, on the first request that needs it. */
export function loadAzureSdk(): Promise<AzureSdk> {
  loading ??= Promise.all([
    import("@azure/identity"),
    import("@azure/core-rest-pipeline"),
    import("@azure/logger"),
  ]).then(([identity, pipeline, logger]) => ({
    identity,
    createHttpHeaders: pipeline.createHttpHeaders,
    logger,
  }));
  return loading;
}

/** The options every credential is built with (see the module comment). */
export function credentialOptions(
  context: Pick<CredentialContext, "cloud">,
  httpClient: NonNullable<TokenCredentialOptions["httpClient"]>,
): TokenCredentialOptions {
  return {
    authorityHost: context.cloud.authorityHost,
    httpClient,
    retryOptions: { maxRetries: 0 },
    redirectOptions: { maxRetries: 0 },
    loggingOptions: { allowLoggingAccountIdentifiers: false, enableUnsafeSupportLogging: false },
    userAgentOptions: { userAgentPrefix: "acr-credential-provider" },
  };
}

/**
 * Builds the @azure/identity credential for an identity, its calls through `azure`. A failed
 * token request reports the call that failed (core's `CloudCallError`), not the SDK's rewording.
 */
export const createAzureCredential: CredentialFactory = async (spec, context): Promise<TokenSource> => {
  const sdk = await loadAzureSdk();
  routeAzureLogs(sdk.logger, context.log);
  const azure = _azureHttpFor(spec, sdk, context);
  const credential = await buildSdkCredential(sdk.identity, spec, context, azure);
  return {
    async getToken(scope, options) {
      azure.reset();
      try {
        return await credential.getToken(scope, options);
      } catch (error) {
        if (options.abortSignal.aborted) throw error;
        throw azure.lastFailure() ?? error;
      }
    },
  };
};

let _managedIdentityHttp: AzureHttp | undefined;

/**
 * The adapter a credential's calls go through. Managed identity credentials share one: MSAL keeps
 * the managed identity source it builds first, with the network client it was given, for the whole
 * process, so every later managed identity credential's calls reach the first one's client.
 * Retargeting it to the current run keeps them on that run's client (deadline, signal, secrets).
 */
function _azureHttpFor(spec: EntraIdentitySpec, sdk: AzureSdk, context: CredentialContext): AzureHttp {
  const target = { http: context.http, secrets: context.secrets, log: context.log };
  if (spec.kind !== "managedIdentity")
    return createAzureHttp({ ...target, createHttpHeaders: sdk.createHttpHeaders });
  _managedIdentityHttp ??= createAzureHttp({ ...target, createHttpHeaders: sdk.createHttpHeaders });
  _managedIdentityHttp.retarget(target);
  return _managedIdentityHttp;
}

/** The SDK's credential for an identity, built with {@link credentialOptions}. */
export async function buildSdkCredential(
  identity: IdentityModule,
  spec: EntraIdentitySpec,
  context: CredentialContext,
  azure: Pick<AzureHttp, "httpClient">,
): Promise<TokenCredential> {
  const common = credentialOptions(context, azure.httpClient);
  const msal = { ...common, disableInstanceDiscovery: true };
  switch (spec.kind) {
    case "serviceAccount": {
      context.secrets.add(spec.assertion);
      const options: ClientAssertionCredentialOptions = msal;
      return new identity.ClientAssertionCredential(
        spec.tenantId,
        spec.clientId,
        async () => spec.assertion,
        options,
      );
    }
    case "workloadIdentity": {
      const options: WorkloadIdentityCredentialOptions = {
        ...msal,
        tenantId: spec.tenantId,
        clientId: spec.clientId,
        tokenFilePath: spec.tokenFilePath,
      };
      return new identity.WorkloadIdentityCredential(options);
    }
    case "managedIdentity": {
      const exchange = tokenExchangeOf(spec, context.env);
      if (exchange) {
        // ManagedIdentityCredential would exchange this token file itself, with a credential of
        // its own that is not given our options (nor so our HTTP client): the same, here.
        context.log.v(
          2,
          "managed identity: AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and a client id are set, so the federated token is exchanged (as @azure/identity does)",
        );
        return new identity.WorkloadIdentityCredential({ ...msal, ...exchange });
      }
      if (spec.resourceId)
        return new identity.ManagedIdentityCredential({ ...common, resourceId: spec.resourceId });
      const options: ManagedIdentityCredentialClientIdOptions = spec.clientId
        ? { ...common, clientId: spec.clientId }
        : common;
      return new identity.ManagedIdentityCredential(options);
    }
    case "clientSecret":
      context.secrets.add(spec.clientSecret);
      return new identity.ClientSecretCredential(spec.tenantId, spec.clientId, spec.clientSecret, msal);
    case "clientCertificate": {
      context.secrets.add(spec.certificatePassword);
      const certificate = await readPemCertificate(spec.certificatePath, spec.certificatePassword, context);
      return new identity.ClientCertificateCredential(
        spec.tenantId,
        spec.clientId,
        {
          certificate,
          ...(spec.certificatePassword !== undefined && { certificatePassword: spec.certificatePassword }),
        },
        msal,
      );
    }
  }
}

/**
 * The workload identity a managed identity becomes in @azure/identity when the environment names a
 * federated token (its "token exchange" managed identity, for AKS pod identity): the tenant and
 * token file from the environment, the client id from azure.json or else the environment.
 */
export function tokenExchangeOf(
  spec: Extract<EntraIdentitySpec, { kind: "managedIdentity" }>,
  env: Readonly<Record<string, string | undefined>>,
): { tenantId: string; clientId: string; tokenFilePath: string } | undefined {
  const clientId = spec.clientId || env.AZURE_CLIENT_ID;
  const tenantId = env.AZURE_TENANT_ID;
  const tokenFilePath = env.AZURE_FEDERATED_TOKEN_FILE;
  if (!clientId || !tenantId || !tokenFilePath) return undefined;
  return { tenantId, clientId, tokenFilePath };
}

/**
 * Reads the service principal's certificate: PEM with the certificate and its private key, as
 * @azure/identity needs it. A PKCS#12 (.pfx) file, which the Go plugin also reads, is refused with
 * the command that converts it. The private key is registered as a secret.
 *
 * @throws CredentialProviderError `CONFIG_INVALID`
 */
export async function readPemCertificate(
  path: string,
  password: string | undefined,
  context: Pick<CredentialContext, "secrets">,
  readFile: (path: string) => Promise<Uint8Array> = async (p) =>
    process.getBuiltinModule("node:fs/promises").readFile(p),
): Promise<string> {
  const fail = (reason: string) =>
    new CredentialProviderError("CONFIG_INVALID", `aadClientCertPath ${path}: ${reason}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw fail(
      code === "ENOENT" ? "no such file" : `cannot be read (${typeof code === "string" ? code : "error"})`,
    );
  }
  const text = Buffer.from(bytes).toString("latin1");
  for (const key of text.match(
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  ) ?? []) {
    context.secrets.add(key);
  }
  if (!text.includes("-----BEGIN ")) {
    const der = bytes[0] === 0x30;
    throw fail(
      der
        ? "is PKCS#12 (.pfx) or DER, but @azure/identity needs PEM with the certificate and its private key; " +
            `convert it with: openssl pkcs12 -in ${path} -out ${path}.pem -nodes, and point aadClientCertPath at the .pem`
        : "is not a PEM file with a certificate and its private key",
    );
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text))
    throw fail("has no certificate (-----BEGIN CERTIFICATE-----)");
  const key = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----/.exec(text);
  if (!key) throw fail("has no private key (-----BEGIN PRIVATE KEY-----)");
  if (key[1]?.includes("ENCRYPTED") && password === undefined) {
    throw fail("has an encrypted private key: set aadClientCertPassword");
  }
  const { createPrivateKey } = process.getBuiltinModule("node:crypto");
  try {
    createPrivateKey({ key: text, format: "pem", ...(password !== undefined && { passphrase: password }) });
  } catch {
    throw fail(
      password === undefined
        ? "the private key cannot be read"
        : "the private key cannot be read (wrong aadClientCertPassword?)",
    );
  }
  return text;
}
