/**
 * The windows-amd64 release executables under Wine, started as the kubelet starts a plugin on a
 * Windows node: through real Windows pipes (the launcher of wine.ts). Each prints its version and
 * help, answers one request against the emulated cloud (the proxy, CA and cloud settings in its
 * environment, as on a node), refuses a host that is not its cloud's with exit 1 and nothing on
 * stdout, and refuses a TLS certificate from a CA it was not given. Skipped with a notice where
 * Wine or mingw-w64 is missing; required with CI=true.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Emulator, NodeSetup } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommit } from "../../packages/build/src/commit.ts";
import { startWine, type Wine, wineTools } from "./wine.ts";

const repo = resolve(import.meta.dirname, "../..");
const releaseDir = join(repo, "dist/release");
const tools = wineTools();
if ("missing" in tools) {
  if (process.env.CI === "true") throw new Error(`CI=true: the Windows tests need ${tools.missing}`);
  console.error(`test-e2e: skipping the Windows executables' tests: no ${tools.missing}`);
}
const PROVIDERS = {
  "ecr-credential-provider": "packages/ecr",
  "acr-credential-provider": "packages/acr",
  "auth-provider-gcp": "packages/gcp",
  "kubelet-credential-sim": "packages/kubelet-sim",
} as const;
type Name = keyof typeof PROVIDERS;
const versionOf = (name: Name) =>
  (JSON.parse(readFileSync(join(repo, PROVIDERS[name], "package.json"), "utf8")) as { version: string })
    .version;
const exe = (name: Name) => join(releaseDir, `${name}-windows-amd64.exe`);
const builtCommit = buildCommit(repo);
const root = process.getuid?.() === 0;
if (!root && process.env.CI === "true") {
  throw new Error("CI=true: the Windows identity bindings test needs root, to listen on port 443");
}
/** A CRLF-ended request, as from Windows tooling; `fields` adds the service account's. */
const request = (image: string, fields: Record<string, unknown> = {}) =>
  `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image, ...fields })}\r\n`;

let wine: Wine;
let emulator: Emulator;
let setups: Map<string, NodeSetup>;
beforeAll(async () => {
  if ("missing" in tools) return;
  wine = startWine(tools);
  // Identity bindings dial the API server at port 443, which only root may listen on.
  emulator = await startEmulator(root ? { apiServerAddress: "random" } : {});
  setups = new Map(nodeSetups(emulator).map((setup) => [setup.name, setup]));
}, 240_000);
afterAll(async () => {
  await emulator?.close();
  wine?.close();
});

describe.skipIf("missing" in tools)(
  "windows-amd64 executables under Wine, through Windows pipes",
  { timeout: 120_000 },
  () => {
    for (const name of Object.keys(PROVIDERS) as Name[]) {
      it(`${name}: --version names the platform, --help its usage`, async () => {
        const version = await wine.run(exe(name), ["--version"]);
        expect(version).toEqual({
          code: 0,
          stdout: `${name} ${versionOf(name)} (${builtCommit}, windows/amd64)\n`,
          stderr: "",
        });
        const help = await wine.run(exe(name), ["--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/^Usage: /m);
      });
    }

    it("kubelet-credential-sim doctor refuses on Windows in one line, pointing at lookup", async () => {
      const run = await wine.run(exe("kubelet-credential-sim"), ["doctor"]);
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "kubelet-credential-sim: doctor inspects Linux nodes; on a Windows node, check a provider with lookup --config PATH --bin-dir DIR IMAGE (see kubelet-credential-sim doctor --help)\n",
      });
    });

    for (const name of ["ecr-credential-provider", "acr-credential-provider", "auth-provider-gcp"] as const) {
      it(`${name} answers a request from the emulated cloud (a CRLF-ended request, as from Windows tooling)`, async () => {
        const setup = setups.get(name) as NodeSetup;
        const run = await wine.run(exe(name), setup.args, { stdin: request(setup.image), env: setup.env });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const response = JSON.parse(run.stdout) as {
          kind: string;
          auth: Record<string, { password: string }>;
        };
        expect(response.kind).toBe("CredentialProviderResponse");
        const host = setup.image.split("/")[0] as string;
        expect(response.auth[host]?.password.length).toBeGreaterThan(0);
      });
    }

    it("a host that is not the provider's: exit 1, nothing on stdout, one line on stderr, no cloud call", async () => {
      const setup = setups.get("ecr-credential-provider") as NodeSetup;
      const before = emulator.calls("ecr.GetAuthorizationToken");
      const run = await wine.run(exe("ecr-credential-provider"), setup.args, {
        stdin: request("registry.evil.example/app"),
        env: setup.env,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(
        /^ecr-credential-provider: not this provider's registry: registry\.evil\.example .*\n$/,
      );
      expect(emulator.calls("ecr.GetAuthorizationToken")).toBe(before);
    });

    it("a request that is not JSON: exit 1, nothing on stdout, one line on stderr", async () => {
      const setup = setups.get("acr-credential-provider") as NodeSetup;
      const run = await wine.run(exe("acr-credential-provider"), setup.args, {
        stdin: '{"kind":"CredentialProviderRequest",\r\n',
        env: setup.env,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^acr-credential-provider: [^\n]+\n$/);
    });

    it.skipIf(!root)(
      "acr-credential-provider's identity bindings trust C:\\k\\ca.crt by default, where AKS Windows nodes keep the cluster CA",
      async () => {
        const sni = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
        const clientId = randomUUID();
        mkdirSync(join(wine.driveC, "k"), { recursive: true });
        copyFileSync(emulator.caFile, join(wine.driveC, "k/ca.crt"));
        const azureJson = join(emulator.dir, `windows-azure-${clientId}.json`);
        writeFileSync(
          azureJson,
          JSON.stringify({ tenantId: emulator.azure.tenantId, useManagedIdentityExtension: true }),
        );
        const { env, image } = setups.get("acr-credential-provider") as NodeSetup;
        const run = await wine.run(
          exe("acr-credential-provider"),
          [azureJson, "--ib-sni-name", sni, "--ib-apiserver-ip", emulator.apiServerAddress as string],
          {
            stdin: request(image, {
              serviceAccountToken: emulator.azure.issueFederatedToken(clientId),
              serviceAccountAnnotations: { "kubernetes.azure.com/acr-client-id": clientId },
            }),
            env,
          },
        );
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(emulator.azure.tokenCalls("identity-bindings").at(-1)).toMatchObject({
          host: sni,
          clientId,
          outcome: "ok",
        });
      },
    );

    it("the simulator finds a provider as the Windows kubelet does: a name without .exe runs the .exe", async () => {
      const setup = setups.get("ecr-credential-provider") as NodeSetup;
      const config = join(emulator.dir, "windows-credential-provider-config.yaml");
      writeFileSync(
        config,
        [
          "apiVersion: kubelet.config.k8s.io/v1",
          "kind: CredentialProviderConfig",
          "providers:",
          "  - name: ecr-credential-provider-windows-amd64",
          '    matchImages: ["*.dkr.ecr.*.amazonaws.com"]',
          "    defaultCacheDuration: 10m",
          "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
          "",
        ].join("\r\n"),
      );
      const before = emulator.calls("ecr.GetAuthorizationToken");
      const run = await wine.run(
        exe("kubelet-credential-sim"),
        ["lookup", "--config", config, "--bin-dir", releaseDir, "--output", "json", setup.image],
        { env: setup.env },
      );
      expect(run.stderr).toBe("executed ecr-credential-provider-windows-amd64 1 time\n");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject([
        {
          image: setup.image,
          providers: [{ name: "ecr-credential-provider-windows-amd64", executed: true }],
          credentials: [{ key: setup.image.split("/")[0], username: "AWS" }],
        },
      ]);
      expect(emulator.calls("ecr.GetAuthorizationToken")).toBe(before + 1);
    });

    it("TLS: a certificate from a CA it was not given is refused, in one line", async () => {
      // ECR is HTTPS (through the emulator's TLS-inspecting proxy); IMDS is plain HTTP.
      const setup = setups.get("ecr-credential-provider") as NodeSetup;
      const { NODE_EXTRA_CA_CERTS: _ca, ...env } = setup.env;
      const run = await wine.run(exe("ecr-credential-provider"), setup.args, {
        stdin: request(setup.image),
        env,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^ecr-credential-provider: .*TLS.*\n$/);
    });
  },
);
