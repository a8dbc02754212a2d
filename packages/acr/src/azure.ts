/**
 * The credential factory with @azure/identity, loaded on first use (the kubelet execs the provider
 * on every cache miss, and importing the SDK costs more than answering from its cache).
 *
 * Every credential gets:
 * - `authorityHost`: the configured cloud's Entra host, and no instance discovery (the three
 *   clouds are known to MSAL; one call fewer, and nothing asked of any other host);
 * - the SDK's retries (3, 200 ms doubling to 2 s) and no redirects;
 * - a pipeline policy that sets, per attempt, a timeout within the run's deadline and the proxy
 *   by core's rules for the run's environment: https calls through core's `EnvProxyAgent`
 *   (HTTPS_PROXY, NO_PROXY, loopback never proxied, as for every other call this provider makes),
 *   and plain http calls (the instance metadata service) direct unless a proxy applies. The SDK
 *   would read HTTPS_PROXY from process.env itself, but with its own NO_PROXY rules and proxying
 *   loopback; the policy makes both paths follow the same rules.
 *
 * The SDK's own logging (AZURE_LOG_LEVEL, DEBUG) writes to stderr around the redaction of secrets,
 * so it is switched off while the SDK loads.
 */
import type {
  ClientAssertionCredentialOptions,
  ClientCertificateCredentialOptions,
  ManagedIdentityCredentialClientIdOptions,
  TokenCredentialOptions,
  WorkloadIdentityCredentialOptions,
} from "@azure/identity";
import { CredentialProviderError, createEnvProxyAgent, proxyForUrl } from "@kubelet-credential-provider/core";
import type { CredentialContext, CredentialFactory, TokenSource } from "./identity.ts";

/** The timeout of one attempt at a token request, when the deadline allows it. */
export const ENTRA_ATTEMPT_TIMEOUT_MS = 10_000;

type IdentityModule = typeof import("@azure/identity");
type PipelinePolicy = NonNullable<ClientCertificateCredentialOptions["additionalPolicies"]>[number]["policy"];

let loading: Promise<IdentityModule> | undefined;

/** Imports @azure/identity once, with the SDK's own stderr logging off. */
export function loadIdentity(env: NodeJS.ProcessEnv = process.env): Promise<IdentityModule> {
  loading ??= (async () => {
    const saved = { AZURE_LOG_LEVEL: env.AZURE_LOG_LEVEL, DEBUG: env.DEBUG };
    delete env.AZURE_LOG_LEVEL;
    delete env.DEBUG;
    try {
      return await import("@azure/identity");
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value !== undefined) env[key] = value;
    }
  })();
  return loading;
}

/** The options every credential is built with (see the module comment). */
export async function credentialOptions(context: CredentialContext): Promise<TokenCredentialOptions> {
  const http = process.getBuiltinModule("node:http"); // not import(): see core's http.ts
  const httpsAgent = await createEnvProxyAgent({ env: context.env, keepAlive: false });
  const directHttp = new http.Agent({ keepAlive: false });
  const policy: PipelinePolicy = {
    name: "acrCredentialProviderNetwork",
    async sendRequest(request, next) {
      const remaining = context.deadline - Date.now();
      request.timeout = Math.max(1, Math.min(ENTRA_ATTEMPT_TIMEOUT_MS, remaining));
      const url = new URL(request.url);
      if (url.protocol === "https:") request.agent = httpsAgent;
      else if (!proxyForUrl(url, context.env)) request.agent = directHttp;
      return next(request);
    },
  };
  return {
    authorityHost: context.cloud.authorityHost,
    retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
    redirectOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy, position: "perRetry" }],
    loggingOptions: { allowLoggingAccountIdentifiers: false, enableUnsafeSupportLogging: false },
    userAgentOptions: { userAgentPrefix: "acr-credential-provider" },
  };
}

/** Builds the @azure/identity credential for an identity. */
export const createAzureCredential: CredentialFactory = async (spec, context): Promise<TokenSource> => {
  const identity = await loadIdentity();
  const common = await credentialOptions(context);
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
};

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
