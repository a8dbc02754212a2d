/**
 * The real kubelet, every supported minor: each of our executables with the EKS, AKS and GKE
 * configs of test-e2e/testdata, in every request apiVersion the config allows (service-account
 * configs in v1, the only one with tokenAttributes), against the emulator, through the kubelet's
 * own plugin registration and keyring lookup (the Go harness of conformance/kubelet). Each cell
 * asserts that the kubelet accepted every answer and found the cloud's credentials for every
 * image, that the provider ran as often as its cache keys imply, and that kubelet-credential-sim
 * with --kubelet-version of that minor agrees on all of it. Then the differences between minors:
 * config directories, tokenAttributes.cacheType, duplicate provider names.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeletMinor } from "./go.ts";
import { goAvailable, KUBELET_MINORS, kubeletHarness, repoRoot } from "./go.ts";
import type { LookupScenario, ServiceAccount, SideResult } from "./kubelet-run.ts";
import { runBoth } from "./kubelet-run.ts";
import { record } from "./summary.ts";

const enabled = goAvailable();
const testdata = join(repoRoot, "test-e2e/testdata");
const API_VERSIONS = ["v1", "v1beta1", "v1alpha1"] as const;
const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ecr-pull`;
const GKE_PROVIDER =
  "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1";

let emulator: Emulator;
beforeAll(async () => {
  if (enabled) emulator = await startEmulator();
});
afterAll(() => emulator?.close());

interface Cloud {
  name: string;
  provider: string;
  /** Images on two registries, so that Registry caching shows in the exec count. */
  images: string[];
  registries: number;
  username: string;
  config(serviceAccount: boolean): string;
  env(): Record<string, string>;
  serviceAccount(): ServiceAccount;
}

const clouds: Cloud[] = [
  {
    name: "EKS",
    provider: "ecr-credential-provider",
    images: [
      `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0`,
      `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/other`,
      `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/app`,
    ],
    registries: 2,
    username: "AWS",
    config: (sa) => _testdata(sa ? "eks-service-account.yaml" : "eks.yaml"),
    env: () => ({
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
      ...emulator.aws.imdsEnv(),
      ...emulator.aws.credentialsEnv(),
    }),
    serviceAccount: () => ({
      token: emulator.aws.issueWebIdentityToken({ roleArn: ROLE }),
      annotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
    }),
  },
  {
    name: "AKS",
    provider: "acr-credential-provider",
    images: ["myreg.azurecr.io/team/app:1.0", "myreg.azurecr.io/team/other", "other.azurecr.io/app"],
    registries: 2,
    username: "00000000-0000-0000-0000-000000000000",
    config: (sa) => {
      const clientId = randomUUID();
      const azureJson = join(emulator.dir, `azure-${clientId}.json`);
      const secret = emulator.azure.registerClientSecret(clientId);
      const json = { cloud: "AzurePublicCloud", tenantId: emulator.azure.tenantId, aadClientId: clientId };
      // The file is the emulator's (its dir is removed when it closes); the secret is its own.
      writeFileSync(azureJson, JSON.stringify({ ...json, aadClientSecret: secret }), { mode: 0o600 });
      return _testdata(sa ? "aks-service-account.yaml" : "aks.yaml").replaceAll("{{AZURE_JSON}}", azureJson);
    },
    env: () => emulator.azure.imdsEnv(),
    serviceAccount: () => {
      const clientId = randomUUID();
      return {
        token: emulator.azure.issueFederatedToken(clientId),
        annotations: {
          "kubernetes.azure.com/acr-client-id": clientId,
          "kubernetes.azure.com/acr-tenant-id": emulator.azure.tenantId,
        },
      };
    },
  },
  {
    name: "GKE",
    provider: "auth-provider-gcp",
    images: [
      "us-docker.pkg.dev/my-project/team/app:1.0",
      "us-docker.pkg.dev/my-project/team/other",
      "gcr.io/my-project/app",
    ],
    registries: 2,
    username: "oauth2accesstoken",
    config: (sa) =>
      sa
        ? _testdata("gke-service-account.yaml").replace(
            "      - --v=3\n",
            `      - --v=3\n      - --identity-provider=${GKE_PROVIDER}\n      - --project-id=my-project\n`,
          )
        : _testdata("gke.yaml"),
    env: () => emulator.google.metadataEnv(),
    serviceAccount: () => ({
      token: emulator.google.issueSubjectToken(),
      annotations: { "iam.gke.io/enable-wi-image-pull": "true" },
    }),
  },
];

describe.skipIf(!enabled).each(KUBELET_MINORS.map((minor) => [minor]))("kubelet %s", (minor) => {
  let harness: string;
  /** The patch release linked, as the summary names it: `v1.37.2`. */
  let version: string;
  beforeAll(async () => {
    harness = await kubeletHarness(minor);
    version = (await promisify(execFile)(harness, ["--version"])).stdout.trim();
  });

  const cells = clouds.flatMap((cloud) => [
    ...API_VERSIONS.map((apiVersion) => ({ cloud, apiVersion, serviceAccount: false })),
    { cloud, apiVersion: "v1" as const, serviceAccount: true },
  ]);
  it.each(cells.map((cell) => [_cellName(cell), cell] as const))("%s", async (_name, cell) => {
    const { cloud, apiVersion, serviceAccount } = cell;
    const scenario: LookupScenario = {
      config: _forMinor(minor, _withApiVersion(cloud.config(serviceAccount), apiVersion)),
      providers: [cloud.provider],
      images: cloud.images,
      repeat: 2,
      env: { ...emulator.env(), ...cloud.env() },
      ...(serviceAccount && { serviceAccount: cloud.serviceAccount() }),
    };
    const { kubelet, sim } = await runBoth(harness, minor, scenario);
    let ok = false;
    try {
      expect(kubelet.error, kubelet.stderr).toBeUndefined();
      expect(kubelet.lookups).toHaveLength(cloud.images.length * 2);
      const issued = new Set(emulator.issued());
      for (const lookup of kubelet.lookups) {
        expect(lookup.found, `${lookup.image}: ${_tail(kubelet)}`).toBe(true);
        expect(lookup.credentials.map((c) => c.username)).toEqual([cloud.username]);
        // The cloud's own credential, not something the provider made up.
        expect(issued.has(lookup.credentials[0]?.password ?? "")).toBe(true);
      }
      // Cached by registry: one exec per registry, however many images and rounds.
      expect(kubelet.execs).toEqual({ [cloud.provider]: cloud.registries });
      _expectSimAgrees(kubelet, sim);
      ok = true;
    } finally {
      record({ kind: "kubelet", kubelet: version, ok });
    }
  });

  describe("what differs between minors", () => {
    const eks = () => clouds[0] as Cloud;
    const gke = () => clouds[2] as Cloud;

    it("a config directory: refused by 1.33, read in file order from 1.34", async () => {
      const scenario: LookupScenario = {
        config: {
          "10-eks.yaml": _testdata("eks.yaml"),
          "20-gke.yml": _testdata("gke.yaml"),
          "30-ignored.txt": "not a config",
        },
        providers: [eks().provider, gke().provider],
        images: [eks().images[0] as string, gke().images[0] as string],
        repeat: 1,
        env: { ...emulator.env(), ...eks().env(), ...gke().env() },
      };
      const { kubelet, sim } = await runBoth(harness, minor, scenario);
      if (minor === "1.33") {
        expect(kubelet.error).toMatch(/read dir: is a directory|is a directory/);
      } else {
        expect(kubelet.error, kubelet.stderr).toBeUndefined();
        expect(kubelet.lookups.map((l) => l.found)).toEqual([true, true]);
      }
      _expectSimAgrees(kubelet, sim);
      record({ kind: "kubelet", kubelet: version, ok: true });
    });

    it("tokenAttributes without cacheType: accepted by 1.33 only", async () => {
      const config = _testdata("eks-service-account.yaml").replace(/^ *cacheType: .*\n/m, "");
      const scenario: LookupScenario = {
        config,
        providers: [eks().provider],
        images: [eks().images[0] as string],
        repeat: 1,
        env: { ...emulator.env(), ...eks().env() },
        serviceAccount: eks().serviceAccount(),
      };
      const { kubelet, sim } = await runBoth(harness, minor, scenario);
      if (minor === "1.33") expect(kubelet.error, kubelet.stderr).toBeUndefined();
      else expect(kubelet.error).toMatch(/cacheType is required/);
      _expectSimAgrees(kubelet, sim);
      record({ kind: "kubelet", kubelet: version, ok: true });
    });

    it.each([[["example-a", "example-b"]], [["example-b", "example-a"]]])(
      "two providers answering the same key: their credentials in config order (%j)",
      async (order) => {
        const text = _testdata("example.yaml").replaceAll("{{API_KEY_FILE}}", emulator.example.apiKeyFile);
        const provider = text.slice(text.indexOf("  - name:"));
        const config =
          text.slice(0, text.indexOf("  - name:")) +
          order
            .map((name) => provider.replace("name: example-credential-provider", `name: ${name}`))
            .join("");
        const scenario: LookupScenario = {
          config,
          providers: {
            "example-a": "example-credential-provider",
            "example-b": "example-credential-provider",
          },
          images: ["registry.example.com/team/app:1.0"],
          repeat: 1,
          env: emulator.env(),
        };
        const { kubelet, sim } = await runBoth(harness, minor, scenario);
        expect(kubelet.error, kubelet.stderr).toBeUndefined();
        expect(kubelet.lookups[0]?.credentials.map((c) => c.provider)).toEqual(order);
        _expectSimAgrees(kubelet, sim);
        record({ kind: "kubelet", kubelet: version, ok: true });
      },
    );

    it("a duplicate provider name: refused by every minor", async () => {
      const eksText = _testdata("eks.yaml");
      const provider = eksText.slice(eksText.indexOf("  - name:"));
      const scenario: LookupScenario = {
        config: `${eksText}${provider}`,
        providers: [eks().provider],
        images: [eks().images[0] as string],
        repeat: 1,
        env: { ...emulator.env(), ...eks().env() },
      };
      const { kubelet, sim } = await runBoth(harness, minor, scenario);
      expect(kubelet.error).toMatch(
        minor === "1.33" ? /providers\.name: Duplicate value/ : /duplicate provider name/,
      );
      _expectSimAgrees(kubelet, sim);
      record({ kind: "kubelet", kubelet: version, ok: true });
    });
  });
});

/** The simulator of that minor: the same verdict on the config, the same answers, the same execs. */
function _expectSimAgrees(kubelet: SideResult, sim: SideResult): void {
  expect({ refused: sim.error !== undefined, execs: sim.execs }, sim.stderr).toEqual({
    refused: kubelet.error !== undefined,
    execs: kubelet.execs,
  });
  expect(sim.lookups.map((l) => [l.found, l.credentials.length])).toEqual(
    kubelet.lookups.map((l) => [l.found, l.credentials.length]),
  );
  // The same credentials, in the same order: by the provider that answered each, and its user.
  const who = (side: SideResult) =>
    side.lookups.map((l) => l.credentials.map((c) => `${c.provider} ${c.username}`));
  expect(who(sim)).toEqual(who(kubelet));
}

function _cellName(cell: { cloud: Cloud; apiVersion: string; serviceAccount: boolean }): string {
  return `${cell.cloud.provider}, ${cell.cloud.name} ${cell.serviceAccount ? "service-account " : ""}config, ${cell.apiVersion}`;
}

function _testdata(name: string): string {
  return readFileSync(join(testdata, name), "utf8");
}

/** The config in another request apiVersion: the provider's, not the config's own. */
function _withApiVersion(text: string, apiVersion: string): string {
  return text.replace(
    /credentialprovider\.kubelet\.k8s\.io\/v1\b/g,
    `credentialprovider.kubelet.k8s.io/${apiVersion}`,
  );
}

/** The config as an operator writes it for that minor: 1.33 has no tokenAttributes.cacheType. */
function _forMinor(minor: KubeletMinor, text: string): string {
  return minor === "1.33" ? text.replace(/^ *cacheType: .*\n/m, "") : text;
}

function _tail(side: SideResult): string {
  return side.stderr.trim().split("\n").slice(-12).join("\n");
}
