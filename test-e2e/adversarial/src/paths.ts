/**
 * The ways each provider reaches its cloud, set up against the emulator: between them they call
 * every emulated endpoint a provider uses (IMDS, ECR, ECR Public, STS; Entra, Azure IMDS, the ACR
 * challenge and exchange, AKS identity bindings; the GCE metadata server, Google STS and IAM
 * credentials).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Emulator, EmulatorOptions, NodeSetup } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll } from "vitest";
import { assertBuilt, request } from "./exec.ts";

export interface Path {
  /** `provider: how`, for test names. */
  name: string;
  provider: string;
  /** The image the request asks for. */
  image: string;
  args: string[];
  env: Record<string, string>;
  stdin: string;
  /** Secrets the request or the node's settings carry, besides those the emulator issues. */
  inputs: string[];
}

/** Every switch that turns on a runtime's or an SDK's own debug output. */
export const DEBUG_ENV: Readonly<Record<string, string>> = {
  NODE_DEBUG: "*",
  AZURE_LOG_LEVEL: "verbose",
  DEBUG: "*",
  GOOGLE_SDK_NODE_LOGGING: "*",
  AWS_SDK_JS_LOG: "debug",
};

/**
 * Identity bindings dial the API server's address at port 443, which only root may listen on: as
 * root (CI), every emulator of the suite takes one, and the identity bindings path is in the suite.
 */
export const identityBindings = process.getuid?.() === 0;
if (!identityBindings && process.env.CI === "true") {
  throw new Error("adversarial: CI=true needs root, for the identity bindings path (port 443)");
}
if (!identityBindings) console.warn("adversarial: not root: the identity bindings path is left out");

/** How every emulator of the suite is started. */
export const emulatorOptions: EmulatorOptions = identityBindings ? { apiServerAddress: "random" } : {};

const IB_SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
const ACCOUNT = "123456789012";
const GKE_PROVIDER =
  "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1";
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/providers/r";

export function paths(emulator: Emulator): Path[] {
  const setups = new Map<string, NodeSetup>(nodeSetups(emulator).map((setup) => [setup.name, setup]));
  const node = (name: string) => setups.get(name) as NodeSetup;
  const ecr = node("ecr-credential-provider");
  const acr = node("acr-credential-provider");
  const gcp = node("auth-provider-gcp");

  const role = `arn:aws:iam::${ACCOUNT}:role/ecr-pull`;
  const webIdentity = emulator.aws.issueWebIdentityToken({ roleArn: role });

  emulator.azure.managedIdentity();
  const miJson = join(emulator.dir, "adversarial-azure-mi.json");
  writeFileSync(
    miJson,
    JSON.stringify({ tenantId: emulator.azure.tenantId, useManagedIdentityExtension: true }),
  );

  const gkeToken = emulator.google.issueSubjectToken();
  const poolAccount = "pool-puller@my-project.iam.gserviceaccount.com";
  emulator.google.serviceAccount(poolAccount);
  const poolToken = emulator.google.issueSubjectToken({ audience: POOL });
  const impersonated = "impersonated@my-project.iam.gserviceaccount.com";
  emulator.google.serviceAccount(impersonated);
  const registry = gcp.image.split("/")[0] as string;
  emulator.google.setAttribute(
    "google-dockercfg",
    JSON.stringify(emulator.google.dockercfg([`https://${registry}`])),
  );

  const base = (setup: NodeSetup, name: string) => ({
    name: `${setup.name}: ${name}`,
    provider: setup.name,
    image: setup.image,
    args: setup.args,
    env: setup.env,
    stdin: request(setup.image),
    inputs: [] as string[],
  });
  return [
    base(ecr, "node role from IMDSv2"),
    {
      ...base(ecr, "ECR Public"),
      image: "public.ecr.aws/team/app:1",
      stdin: request("public.ecr.aws/team/app:1"),
    },
    {
      ...base(ecr, "service account role (STS)"),
      stdin: request(ecr.image, {
        serviceAccountToken: webIdentity,
        serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": role },
      }),
      inputs: [webIdentity],
    },
    base(acr, "service principal with a client secret"),
    {
      ...base(acr, "managed identity (IMDS)"),
      args: [miJson],
      env: { ...emulator.env(), ...emulator.azure.imdsEnv() },
    },
    base(gcp, "node service account (metadata server)"),
    {
      ...base(gcp, "impersonation (IAM credentials)"),
      args: [...gcp.args, `--impersonate-service-account=${impersonated}`],
    },
    {
      ...base(gcp, "GKE workload identity (STS)"),
      args: [...gcp.args, `--identity-provider=${GKE_PROVIDER}`, "--project-id=my-project"],
      stdin: request(gcp.image, {
        serviceAccountToken: gkeToken,
        serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" },
      }),
      inputs: [gkeToken],
    },
    {
      ...base(gcp, "workload identity pool, impersonating (STS, IAM)"),
      args: [...gcp.args, `--workload-identity-provider=${POOL}`],
      stdin: request(gcp.image, {
        serviceAccountToken: poolToken,
        serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": poolAccount },
      }),
      inputs: [poolToken],
    },
    { ...base(gcp, "dockercfg from the instance attributes"), args: [...gcp.args, "--authFlow=dockercfg"] },
    ...(emulator.apiServerAddress
      ? [_identityBindingsPath(emulator, base(acr, "AKS identity bindings"), miJson)]
      : []),
  ];
}

function _identityBindingsPath(emulator: Emulator, path: Path, azureJson: string): Path {
  const clientId = "3f2b8c1e-7a4d-4e9b-9c2f-1d6e8a0b5c47";
  const token = emulator.azure.issueFederatedToken(clientId);
  return {
    ...path,
    args: [
      azureJson,
      `--ib-sni-name=${IB_SNI}`,
      `--ib-apiserver-ip=${emulator.apiServerAddress}`,
      `--ib-ca-file=${emulator.caFile}`,
    ],
    env: emulator.env(),
    stdin: request(path.image, {
      serviceAccountToken: token,
      serviceAccountAnnotations: { "kubernetes.azure.com/acr-client-id": clientId },
    }),
    inputs: [token],
  };
}

/** How many paths there are, for tests made before the emulator starts. */
export const PATH_COUNT = identityBindings ? 11 : 10;

/**
 * One emulator for a test file's tests, with its paths: started (once the executables are known
 * to be built) before the file's tests and closed after them. Read the fields inside the tests.
 */
export function emulatedPaths(): { readonly emulator: Emulator; readonly all: Path[] } {
  const state = {} as { emulator: Emulator; all: Path[] };
  beforeAll(async () => {
    assertBuilt();
    state.emulator = await startEmulator(emulatorOptions);
    state.all = paths(state.emulator);
  });
  afterAll(async () => {
    await state.emulator?.close();
  });
  return state;
}
