/**
 * The differential scenarios: for each plugin, a request and flags that upstream's Go plugin and
 * ours both get, byte for byte, each against its own fresh emulator. `prepare` sets the emulator
 * up (identities, faults) and returns the environment and files; values both sides must share (a
 * service account token) are made once per scenario with `ctx.once`. Client ids are fixed GUIDs so
 * that the generated document is the same on every run.
 */
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import type { UpstreamPlugin } from "./go.ts";

export interface SideContext {
  emulator: Emulator;
  /** The scenario's scratch dir: the same path on both sides, so the arguments are identical. */
  dir: string;
  /** A value made on the first side and reused on the second. */
  once<T>(key: string, make: () => T): T;
  /** Secrets the emulator's ledger does not hold (trusted, not issued), by placeholder name. */
  known: Record<string, string>;
}

export interface Prepared {
  env?: Record<string, string>;
  /** Written into the scratch dir before the run, by name. */
  files?: Record<string, string>;
  serviceAccountToken?: string;
}

export interface Scenario {
  id: string;
  plugin: UpstreamPlugin;
  /** What the scenario asks, in words (the doc's first column). */
  title: string;
  /** The request; `stdin` replaces it verbatim (malformed JSON, an empty stdin). */
  request?: { apiVersion?: string; image: string; annotations?: Record<string, string> };
  stdin?: string;
  /** Arguments of both sides; `{dir}` is the scratch dir, `{ib-ip}` the API server address. */
  args: string[];
  /** Arguments only ours gets: always a named difference (the doc says why). */
  oursArgs?: string[];
  /** The environment besides the emulator's proxy settings and SSL_CERT_FILE, in words. */
  envWords?: string;
  /** Dials `--ib-apiserver-ip` at port 443: root only; upstream runs with the CA at its fixed path. */
  identityBindings?: boolean;
  prepare?(ctx: SideContext): Prepared | Promise<Prepared>;
}

export const V1 = "credentialprovider.kubelet.k8s.io/v1";
const V1ALPHA1 = "credentialprovider.kubelet.k8s.io/v1alpha1";
const V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1";

// ---------------------------------------------------------------------------------------------- ECR

const ACCOUNT = "123456789012";
const ECR_IMAGE = `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ecr-pull`;

/** No AWS config files, the region, the node's static keys. */
function awsStatic(ctx: SideContext): Prepared {
  return {
    env: {
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
      AWS_REGION: "us-west-2",
      AWS_EC2_METADATA_DISABLED: "true",
      ...ctx.emulator.aws.credentialsEnv(),
    },
  };
}
const AWS_STATIC = "AWS_REGION=us-west-2, the node's static keys, IMDS disabled, no AWS config files";

function webIdentityToken(ctx: SideContext): string {
  const token = ctx.once("web-identity", () => ctx.emulator.aws.issueWebIdentityToken());
  ctx.emulator.aws.trustWebIdentityToken(token);
  ctx.known["web identity token"] = token;
  return token;
}

const ecr = (s: Omit<Scenario, "plugin" | "args"> & { args?: string[] }): Scenario => ({
  plugin: "ecr-credential-provider",
  args: [],
  envWords: AWS_STATIC,
  prepare: awsStatic,
  ...s,
});

const ecrScenarios: Scenario[] = [
  ecr({ id: "ecr/private", title: "a private ECR image", request: { image: ECR_IMAGE } }),
  ecr({
    id: "ecr/private-v1alpha1",
    title: "a private ECR image, a v1alpha1 request",
    request: { image: ECR_IMAGE, apiVersion: V1ALPHA1 },
  }),
  ecr({
    id: "ecr/private-v1beta1",
    title: "a private ECR image, a v1beta1 request",
    request: { image: ECR_IMAGE, apiVersion: V1BETA1 },
  }),
  ecr({
    id: "ecr/two-images-args",
    title: "a private ECR image in another region, with positional arguments",
    request: { image: `${ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/team/app@sha256:${"a".repeat(64)}` },
    args: ["get-credentials", "extra"],
  }),
  ecr({ id: "ecr/public", title: "an ECR Public image", request: { image: "public.ecr.aws/team/app:1.0" } }),
  ecr({
    id: "ecr/instance-role",
    title: "a private ECR image with the instance role from IMDS",
    envWords: "AWS_REGION=us-west-2, no keys, IMDS at the emulator (AWS_EC2_METADATA_SERVICE_ENDPOINT)",
    request: { image: ECR_IMAGE },
    prepare: (ctx) => ({
      env: {
        AWS_CONFIG_FILE: "/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
        AWS_REGION: "us-west-2",
        ...ctx.emulator.aws.imdsEnv(),
      },
    }),
  }),
  ecr({
    id: "ecr/service-account-annotation",
    title: "a service account token, the role in the eks.amazonaws.com/ecr-role-arn annotation",
    request: { image: ECR_IMAGE, annotations: { "eks.amazonaws.com/ecr-role-arn": ROLE_ARN } },
    prepare: (ctx) => ({ ...awsStatic(ctx), serviceAccountToken: webIdentityToken(ctx) }),
  }),
  ecr({
    id: "ecr/service-account-env-role",
    title: "a service account token, the role in AWS_ECR_ROLE_ARN",
    envWords: `${AWS_STATIC}, AWS_ECR_ROLE_ARN=${ROLE_ARN}`,
    request: { image: ECR_IMAGE },
    prepare: (ctx) => {
      const base = awsStatic(ctx);
      return {
        env: { ...base.env, AWS_ECR_ROLE_ARN: ROLE_ARN },
        serviceAccountToken: webIdentityToken(ctx),
      };
    },
  }),
  ecr({
    id: "ecr/foreign-host",
    title: "a foreign host",
    request: { image: "evil.example.com/team/app:1.0" },
  }),
  ecr({
    id: "ecr/look-alike-host",
    title: "a look-alike host (an ECR name under a foreign domain)",
    request: { image: `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com.evil.example.com/team/app:1.0` },
  }),
  ecr({ id: "ecr/malformed-json", title: "malformed JSON on stdin", stdin: '{"kind":"CredentialProvi' }),
  ecr({ id: "ecr/empty-stdin", title: "an empty stdin", stdin: "" }),
];

// ---------------------------------------------------------------------------------------------- ACR

const ACR_IMAGE = "myregistry.azurecr.io/team/app:1.0";
const USER_ASSIGNED = "8a3c9e1f-2b4d-4f6a-9c8e-1d2f3a4b5c6d";
const SP_CLIENT = "3f2e1d0c-9b8a-4765-a4b3-c2d1e0f9a8b7";
const SA_CLIENT = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e";
const IB_CLIENT = "6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f";
const IB_DEFAULT_CLIENT = "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a";
export const IB_SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
const AZURE_JSON = "{dir}/azure.json";
/** Ours honours it (as @azure/identity does); upstream's Go MSAL ignores it and dials 169.254.169.254. */
const IMDS_WORDS = "AZURE_POD_IDENTITY_AUTHORITY_HOST at the emulator (upstream ignores it)";

function azureJson(ctx: SideContext, config: Record<string, unknown>): Record<string, string> {
  return {
    "azure.json": JSON.stringify({
      cloud: "AzurePublicCloud",
      tenantId: ctx.emulator.azure.tenantId,
      ...config,
    }),
  };
}

/** The system-assigned managed identity, from IMDS (169.254.169.254, through HTTP_PROXY). */
function systemIdentity(ctx: SideContext): Prepared {
  ctx.emulator.azure.managedIdentity();
  return { env: ctx.emulator.azure.imdsEnv(), files: azureJson(ctx, { useManagedIdentityExtension: true }) };
}

function federatedToken(ctx: SideContext, clientId: string): string {
  const token = ctx.once(`federated-${clientId}`, () => ctx.emulator.azure.issueFederatedToken(clientId));
  ctx.emulator.azure.trustFederatedToken(clientId, token);
  ctx.known["service account token"] = token;
  return token;
}

const acr = (s: Omit<Scenario, "plugin" | "args"> & { args?: string[] }): Scenario => ({
  plugin: "acr-credential-provider",
  args: [AZURE_JSON],
  envWords:
    "azure.json: AzurePublicCloud, the tenant, useManagedIdentityExtension; a system-assigned identity; " +
    IMDS_WORDS,
  prepare: systemIdentity,
  ...s,
});

const ibFlags = ["--ib-sni-name", IB_SNI, "--ib-apiserver-ip", "{ib-ip}"];

const acrScenarios: Scenario[] = [
  acr({
    id: "acr/managed-identity-system",
    title: "the system-assigned managed identity",
    request: { image: ACR_IMAGE },
  }),
  acr({
    id: "acr/managed-identity-v1alpha1",
    title: "the system-assigned managed identity, a v1alpha1 request",
    request: { image: ACR_IMAGE, apiVersion: V1ALPHA1 },
  }),
  acr({
    id: "acr/managed-identity-v1beta1",
    title: "the system-assigned managed identity, a v1beta1 request",
    request: { image: ACR_IMAGE, apiVersion: V1BETA1 },
  }),
  acr({
    id: "acr/managed-identity-user-assigned",
    title: "a user-assigned managed identity (userAssignedIdentityID, a client id)",
    envWords: `azure.json: useManagedIdentityExtension, userAssignedIdentityID; ${IMDS_WORDS}`,
    request: { image: ACR_IMAGE },
    prepare: (ctx) => {
      ctx.emulator.azure.managedIdentity({ clientId: USER_ASSIGNED });
      return {
        env: ctx.emulator.azure.imdsEnv(),
        files: azureJson(ctx, { useManagedIdentityExtension: true, userAssignedIdentityID: USER_ASSIGNED }),
      };
    },
  }),
  acr({
    id: "acr/service-principal",
    title: "a service principal with a client secret (useManagedIdentityExtension false)",
    envWords: `azure.json: aadClientId, aadClientSecret; ${IMDS_WORDS}`,
    request: { image: ACR_IMAGE },
    prepare: (ctx) => {
      const secret = ctx.emulator.azure.registerClientSecret(SP_CLIENT);
      return {
        env: ctx.emulator.azure.imdsEnv(),
        files: azureJson(ctx, { aadClientId: SP_CLIENT, aadClientSecret: secret }),
      };
    },
  }),
  acr({
    id: "acr/service-account",
    title:
      "a service account token with the kubernetes.azure.com/acr-client-id and acr-tenant-id annotations",
    request: {
      image: ACR_IMAGE,
      annotations: {
        "kubernetes.azure.com/acr-client-id": SA_CLIENT,
        "kubernetes.azure.com/acr-tenant-id": "5c1a8f3e-0d2b-4e6a-9f7c-3b8d1e4a6c20",
      },
    },
    prepare: (ctx) => ({ ...systemIdentity(ctx), serviceAccountToken: federatedToken(ctx, SA_CLIENT) }),
  }),
  acr({
    id: "acr/registry-mirror",
    title: "a mirrored image: --registry-mirror mcr.microsoft.com:myregistry.azurecr.io",
    request: { image: "mcr.microsoft.com/dotnet/runtime:8.0" },
    args: [AZURE_JSON, "--registry-mirror", "mcr.microsoft.com:myregistry.azurecr.io"],
  }),
  acr({
    id: "acr/registry-mirror-short",
    title: "the mirror's short flag: -r mcr.microsoft.com:myregistry.azurecr.io",
    request: { image: "mcr.microsoft.com/dotnet/runtime:8.0" },
    args: [AZURE_JSON, "-r", "mcr.microsoft.com:myregistry.azurecr.io"],
  }),
  acr({
    id: "acr/foreign-host",
    title: "a foreign host",
    request: { image: "evil.example.com/team/app:1.0" },
  }),
  acr({
    id: "acr/look-alike-host",
    title: "a look-alike host (an ACR name under a foreign domain)",
    request: { image: "myregistry.azurecr.io.evil.example.com/team/app:1.0" },
  }),
  acr({ id: "acr/malformed-json", title: "malformed JSON on stdin", stdin: '{"kind":"CredentialProvi' }),
  acr({ id: "acr/empty-stdin", title: "an empty stdin", stdin: "" }),
  acr({
    id: "acr/ib-annotation-client",
    title: "identity bindings: --ib-sni-name, --ib-apiserver-ip, the client id from the annotation",
    identityBindings: true,
    request: { image: ACR_IMAGE, annotations: { "kubernetes.azure.com/acr-client-id": IB_CLIENT } },
    args: [AZURE_JSON, ...ibFlags],
    oursArgs: ["--ib-ca-file", "{dir}/ca.crt"],
    prepare: (ctx) => ({ ...systemIdentity(ctx), serviceAccountToken: federatedToken(ctx, IB_CLIENT) }),
  }),
  acr({
    id: "acr/ib-default-client",
    title: "identity bindings: no annotation, --ib-default-client-id and --ib-default-tenant-id",
    identityBindings: true,
    request: { image: ACR_IMAGE },
    args: [
      AZURE_JSON,
      ...ibFlags,
      "--ib-default-client-id",
      IB_DEFAULT_CLIENT,
      "--ib-default-tenant-id",
      "5c1a8f3e-0d2b-4e6a-9f7c-3b8d1e4a6c20",
    ],
    oursArgs: ["--ib-ca-file", "{dir}/ca.crt"],
    prepare: (ctx) => ({
      ...systemIdentity(ctx),
      serviceAccountToken: federatedToken(ctx, IB_DEFAULT_CLIENT),
    }),
  }),
  acr({
    id: "acr/ib-without-apiserver-ip",
    title: "identity bindings flag error: --ib-sni-name without --ib-apiserver-ip",
    request: { image: ACR_IMAGE, annotations: { "kubernetes.azure.com/acr-client-id": IB_CLIENT } },
    args: [AZURE_JSON, "--ib-sni-name", IB_SNI],
    prepare: (ctx) => ({ ...systemIdentity(ctx), serviceAccountToken: federatedToken(ctx, IB_CLIENT) }),
  }),
  acr({
    id: "acr/ib-sni-with-scheme",
    title: "identity bindings flag error: --ib-sni-name with an https:// prefix",
    request: { image: ACR_IMAGE, annotations: { "kubernetes.azure.com/acr-client-id": IB_CLIENT } },
    args: [AZURE_JSON, "--ib-sni-name", `https://${IB_SNI}`, "--ib-apiserver-ip", "127.0.0.1"],
    prepare: (ctx) => ({ ...systemIdentity(ctx), serviceAccountToken: federatedToken(ctx, IB_CLIENT) }),
  }),
];

// ---------------------------------------------------------------------------------------------- GCP

const GCP_IMAGE = "us-docker.pkg.dev/my-project/team/app:1.0";

/**
 * GCE_METADATA_HOST at the emulator: ours honours it (as Google's client libraries do) and never
 * proxies the metadata server; upstream ignores it and reaches metadata.google.internal. through
 * HTTP_PROXY.
 */
function metadataEnv(ctx: SideContext): Prepared {
  return { env: { GCE_METADATA_HOST: ctx.emulator.google.metadataHost() } };
}
const METADATA_WORDS = "GCE_METADATA_HOST at the emulator (upstream ignores it)";

const gcp = (s: Omit<Scenario, "plugin" | "args"> & { args?: string[] }): Scenario => ({
  plugin: "auth-provider-gcp",
  args: ["get-credentials"],
  envWords: METADATA_WORDS,
  prepare: metadataEnv,
  ...s,
});

const gcpScenarios: Scenario[] = [
  gcp({
    id: "gcp/gcr-artifact-registry",
    title: "gcr flow, an Artifact Registry image",
    request: { image: GCP_IMAGE },
  }),
  gcp({
    id: "gcp/gcr-container-registry",
    title: "gcr flow (--authFlow=gcr), a Container Registry image",
    request: { image: "gcr.io/my-project/app:1.0" },
    args: ["get-credentials", "--authFlow=gcr"],
  }),
  gcp({
    id: "gcp/gcr-v1alpha1",
    title: "gcr flow, a v1alpha1 request",
    request: { image: GCP_IMAGE, apiVersion: V1ALPHA1 },
  }),
  gcp({
    id: "gcp/gcr-v1beta1",
    title: "gcr flow, a v1beta1 request",
    request: { image: GCP_IMAGE, apiVersion: V1BETA1 },
  }),
  gcp({
    id: "gcp/dockercfg",
    title: "dockercfg flow (-a dockercfg): the instance's google-dockercfg attribute",
    request: { image: GCP_IMAGE },
    args: ["get-credentials", "-a", "dockercfg"],
    envWords: `${METADATA_WORDS}; the google-dockercfg attribute holds one entry, https://us-docker.pkg.dev`,
    prepare: (ctx) => {
      const google = ctx.emulator.google;
      google.setAttribute(
        "google-dockercfg",
        JSON.stringify(google.dockercfg(["https://us-docker.pkg.dev"])),
      );
      return metadataEnv(ctx);
    },
  }),
  gcp({
    id: "gcp/metadata-outage",
    title: "gcr flow while the metadata server's token endpoint answers 503",
    request: { image: GCP_IMAGE },
    envWords: `${METADATA_WORDS}; every metadata token request answers HTTP 503`,
    prepare: (ctx) => {
      ctx.emulator.fault("gce.token", { kind: "status", status: 503 });
      return metadataEnv(ctx);
    },
  }),
  gcp({
    id: "gcp/foreign-host",
    title: "a foreign host",
    request: { image: "evil.example.com/team/app:1.0" },
  }),
  gcp({
    id: "gcp/look-alike-host",
    title: "a look-alike host (a Google registry name under a foreign domain)",
    request: { image: "us-docker.pkg.dev.evil.example.com/team/app:1.0" },
  }),
  gcp({ id: "gcp/malformed-json", title: "malformed JSON on stdin", stdin: '{"kind":"CredentialProvi' }),
  gcp({ id: "gcp/empty-stdin", title: "an empty stdin", stdin: "" }),
];

export const SCENARIOS: Scenario[] = [...ecrScenarios, ...acrScenarios, ...gcpScenarios];

/** The request a scenario sends, as JSON (the service account token, if any, filled in). */
export function requestJson(scenario: Scenario, serviceAccountToken?: string): string {
  if (scenario.stdin !== undefined) return scenario.stdin;
  const request = scenario.request;
  if (!request) throw new Error(`${scenario.id}: neither a request nor stdin`);
  return JSON.stringify({
    kind: "CredentialProviderRequest",
    apiVersion: request.apiVersion ?? V1,
    image: request.image,
    ...(serviceAccountToken ? { serviceAccountToken } : {}),
    ...(request.annotations ? { serviceAccountAnnotations: request.annotations } : {}),
  });
}

/** The request in words, for the document. */
export function requestWords(scenario: Scenario, serviceAccountToken: boolean): string {
  if (scenario.stdin !== undefined) return scenario.stdin === "" ? "(nothing)" : `\`${scenario.stdin}\``;
  const request = scenario.request as NonNullable<Scenario["request"]>;
  const version = (request.apiVersion ?? V1).split("/")[1];
  const annotations = Object.entries(request.annotations ?? {}).map(([k, v]) => `${k}=${v}`);
  const sa = serviceAccountToken ? ", a service account token" : "";
  return `${version}, \`${request.image}\`${sa}${annotations.length ? `, annotations ${annotations.map((a) => `\`${a}\``).join(", ")}` : ""}`;
}

/** Arguments as the document shows them: the scratch dir and the address as placeholders. */
export function argsWords(args: readonly string[]): string {
  if (args.length === 0) return "(none)";
  return args
    .map((a) => `\`${a.replace("{dir}/", "<scratch>/").replace("{ib-ip}", "<api server address>")}\``)
    .join(" ");
}
