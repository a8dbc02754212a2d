/**
 * dist/bin/acr-credential-provider, run by dist/bin/kubelet-credential-sim with the AKS node
 * config, against the emulated Azure: the real @azure/identity reaches Entra ID at its real
 * names through HTTPS_PROXY, managed identity at AZURE_POD_IDENTITY_AUTHORITY_HOST, and the
 * provider's own exchange reaches the registry's /oauth2/exchange, all of it through core's HTTP
 * client (its retries, its size cap, its errors). The emulator records which identity each token
 * was issued to.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { E2E, LookupOptions, LookupRun } from "./harness.ts";
import { binDir, deadlineFlag, startE2E } from "./harness.ts";

const IMAGE = "myreg.azurecr.io/team/app:1.0";
const ZERO_USER = "00000000-0000-0000-0000-000000000000";

/** Entra client ids are GUIDs; one per identity the tests register. */
const CLIENT = {
  version: randomUUID(),
  "cert-client": randomUUID(),
  "sa-app": randomUUID(),
  "sp-china": randomUUID(),
  "sp-client": randomUUID(),
  "sp-faults": randomUUID(),
  "sp-entra": randomUUID(),
  "sp-mirror": randomUUID(),
  "sp-spoof": randomUUID(),
  "wi-client": randomUUID(),
  "ib-app": randomUUID(),
  "ib-default": randomUUID(),
};

/**
 * Identity bindings dial `--ib-apiserver-ip` at port 443, which only root may listen on; the
 * emulator takes it on a loopback address of its own. Required in CI (which runs as root).
 */
const root = process.getuid?.() === 0;
if (!root && process.env.CI === "true") {
  throw new Error("CI=true: the identity bindings tests need root, to listen on port 443");
}
if (!root) console.warn("skipping the identity bindings tests: they need root (port 443)");

let e2e: E2E;
beforeAll(async () => {
  if (!existsSync(join(binDir, "acr-credential-provider"))) throw new Error("run pnpm build first");
  e2e = await startE2E(root ? { apiServerAddress: "random" } : {});
});
afterAll(async () => {
  await e2e?.close();
});

interface Run extends LookupOptions {
  azureJson: Record<string, unknown>;
  config?: string;
  edit?: (text: string) => string;
  /** The config's {{PLACEHOLDERS}} besides AZURE_JSON. */
  vars?: Record<string, string>;
}

async function lookup(images: string[], options: Run): Promise<LookupRun> {
  const azureJson = e2e.file("azure.json", JSON.stringify(options.azureJson));
  const config = e2e.config(options.config ?? "aks.yaml", options.edit, {
    AZURE_JSON: azureJson,
    ...options.vars,
  });
  const run = await e2e.lookup(config, images, {
    ...options,
    env: { ...e2e.emulator.azure.imdsEnv(), ...options.env },
  });
  e2e.expectNoLeaks(run);
  return run;
}

const tenantId = () => e2e.emulator.azure.tenantId;
/** The deadline (with start-up's allowance) as an argument of the provider in the AKS config. */
const deadline = (seconds: number) => (text: string) =>
  text.replace("    args:\n", `    args:\n      - ${deadlineFlag(seconds)}\n`);
/** The provider's own stderr line, as the kubelet quotes it after "exit status 1: ". */
const errorOf = (run: LookupRun) =>
  (run.entries[0]?.providers[0]?.error ?? "").replace(/^error execing .*?: exit status \d+: /, "").trim();
const lastEntraCall = () => e2e.emulator.azure.tokenCalls().at(-1);

describe("acr-credential-provider with the AKS config", () => {
  it("a service principal with a secret: exchanged for a refresh token the registry accepts", async () => {
    const secret = e2e.emulator.azure.registerClientSecret(CLIENT["sp-client"]);
    const run = await lookup([IMAGE, "myreg.azurecr.io/team/other"], {
      azureJson: {
        cloud: "AzurePublicCloud",
        tenantId: tenantId(),
        aadClientId: CLIENT["sp-client"],
        aadClientSecret: secret,
      },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.execCounts).toEqual({ "acr-credential-provider": 1 });
    expect(run.entries[0]).toMatchObject({
      credentials: [{ key: "myreg.azurecr.io", username: ZERO_USER }],
      verified: true,
    });
    expect(run.entries[1]).toMatchObject({ providers: [{ cached: true }], verified: true });
    expect(lastEntraCall()).toMatchObject({
      clientId: CLIENT["sp-client"],
      credential: "client_secret",
      outcome: "ok",
    });
    expect(e2e.emulator.azure.exchangeCalls().at(-1)).toMatchObject({
      host: "myreg.azurecr.io",
      outcome: "ok",
    });
  });

  it("a service principal with a certificate", async () => {
    const cert = await e2e.emulator.azure.registerClientCertificate(CLIENT["cert-client"]);
    const run = await lookup([IMAGE], {
      azureJson: {
        tenantId: tenantId(),
        aadClientId: CLIENT["cert-client"],
        aadClientCertPath: cert.certPemPath,
      },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastEntraCall()).toMatchObject({
      clientId: CLIENT["cert-client"],
      credential: "certificate",
      outcome: "ok",
    });
    expect([run.stdout, run.stderr, ...run.pluginStderr].join("")).not.toContain(cert.keyPem.split("\n")[1]);
  });

  it("the system-assigned managed identity", async () => {
    e2e.emulator.azure.managedIdentity();
    const run = await lookup([IMAGE], {
      azureJson: { tenantId: tenantId(), useManagedIdentityExtension: true },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastEntraCall()).toMatchObject({ credential: "managed_identity", outcome: "ok" });
    expect(lastEntraCall()?.principal).toMatchObject({ kind: "system-assigned" });
  });

  it.each([
    ["client id", "11111111-2222-3333-4444-555555555555"],
    [
      "resource id",
      "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull",
    ],
  ])("a user-assigned managed identity by %s", async (_how, id) => {
    const identity = id.startsWith("/")
      ? e2e.emulator.azure.managedIdentity({ resourceId: id })
      : e2e.emulator.azure.managedIdentity({ clientId: id });
    const run = await lookup([IMAGE], {
      azureJson: { tenantId: tenantId(), useManagedIdentityExtension: true, userAssignedIdentityID: id },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(lastEntraCall()?.principal).toMatchObject({ clientId: identity.clientId });
  });

  it("workload identity from a federated token file", async () => {
    const token = e2e.emulator.azure.issueFederatedToken(CLIENT["wi-client"]);
    const tokenFile = e2e.file("federated-token", token);
    const run = await lookup([IMAGE], {
      azureJson: {
        tenantId: tenantId(),
        aadClientId: CLIENT["wi-client"],
        aadFederatedTokenFile: tokenFile,
        useFederatedWorkloadIdentityExtension: true,
      },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastEntraCall()).toMatchObject({
      clientId: CLIENT["wi-client"],
      credential: "federated",
      outcome: "ok",
    });
  });

  it("service-account mode: the pod's token is the application's client assertion", async () => {
    const token = e2e.emulator.azure.issueFederatedToken(CLIENT["sa-app"]);
    const run = await lookup([IMAGE], {
      config: "aks-service-account.yaml",
      azureJson: { cloud: "AzurePublicCloud" },
      flags: [
        "--service-account-token",
        token,
        "--service-account-annotation",
        `kubernetes.azure.com/acr-client-id=${CLIENT["sa-app"]}`,
        "--service-account-annotation",
        `kubernetes.azure.com/acr-tenant-id=${tenantId()}`,
        "--verify",
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastEntraCall()).toMatchObject({
      clientId: CLIENT["sa-app"],
      credential: "federated",
      outcome: "ok",
    });
  });

  describe.skipIf(!root)("identity bindings (--ib-sni-name, --ib-apiserver-ip)", () => {
    const SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
    const ibRun = (flags: string[]) =>
      lookup([IMAGE], {
        config: "aks-identity-bindings.yaml",
        azureJson: { cloud: "AzurePublicCloud", tenantId: tenantId(), useManagedIdentityExtension: true },
        vars: {
          IB_SNI_NAME: SNI,
          IB_APISERVER_IP: e2e.emulator.apiServerAddress as string,
          IB_DEFAULT_CLIENT_ID: CLIENT["ib-default"],
          IB_CA_FILE: e2e.emulator.caFile,
        },
        flags: [...flags, "--verify"],
      });

    it("the API server, dialled at its address by name, issues the Entra token for the pod's token", async () => {
      const token = e2e.emulator.azure.issueFederatedToken(CLIENT["ib-app"]);
      const tunnels = e2e.emulator.tunnels().length;
      const run = await ibRun([
        "--service-account-token",
        token,
        "--service-account-annotation",
        `kubernetes.azure.com/acr-client-id=${CLIENT["ib-app"]}`,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.entries[0]?.verified).toBe(true);
      expect(e2e.emulator.azure.tokenCalls("identity-bindings").at(-1)).toMatchObject({
        host: SNI,
        clientId: CLIENT["ib-app"],
        scope: "https://containerregistry.azure.net/.default",
        outcome: "ok",
      });
      // No proxy: the emulator's proxy tunnelled the registry's calls, not the API server's.
      expect(e2e.emulator.tunnels().slice(tunnels)).not.toContainEqual(expect.stringContaining(SNI));
      expect(e2e.emulator.azure.tokenCalls("entra")).not.toContainEqual(
        expect.objectContaining({ clientId: CLIENT["ib-app"] }),
      );
    });

    it("--ib-default-client-id serves a service account without the annotation", async () => {
      const token = e2e.emulator.azure.issueFederatedToken(CLIENT["ib-default"]);
      const run = await ibRun(["--service-account-token", token]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.entries[0]?.verified).toBe(true);
      expect(e2e.emulator.azure.tokenCalls("identity-bindings").at(-1)).toMatchObject({
        clientId: CLIENT["ib-default"],
        outcome: "ok",
      });
    });

    it("a token not bound to the application: one line naming identity bindings and the refusal", async () => {
      const token = e2e.emulator.azure.issueFederatedToken(CLIENT["ib-app"]);
      const run = await ibRun(["--service-account-token", token]);
      expect(run.code).not.toBe(0);
      expect(errorOf(run)).toMatch(
        new RegExp(
          `AKS identity bindings \\(${SNI.replace(/\./g, "\\.")} at [0-9.]+\\) answered HTTP 401 \\(invalid_client\\)`,
        ),
      );
    });
  });

  it("a mirror is served with its target registry's credentials, keyed under both", async () => {
    const secret = e2e.emulator.azure.registerClientSecret(CLIENT["sp-mirror"]);
    const run = await lookup(["mcr.microsoft.com/dotnet/runtime:8.0"], {
      azureJson: { tenantId: tenantId(), aadClientId: CLIENT["sp-mirror"], aadClientSecret: secret },
      edit: (text) =>
        text
          .replace('      - "*.azurecr.io"\n', '      - "*.azurecr.io"\n      - "mcr.microsoft.com"\n')
          .replace(
            "    args:\n",
            "    args:\n      - --registry-mirror=mcr.microsoft.com:myreg.azurecr.io\n",
          ),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials.map((c) => c.key)).toContain("mcr.microsoft.com");
    expect(e2e.emulator.azure.exchangeCalls().at(-1)).toMatchObject({
      host: "myreg.azurecr.io",
      outcome: "ok",
    });
  });

  it("the China cloud: its authority and its login servers", async () => {
    const secret = e2e.emulator.azure.registerClientSecret(CLIENT["sp-china"]);
    const run = await lookup(["myreg.azurecr.cn/team/app"], {
      azureJson: {
        cloud: "AzureChinaCloud",
        tenantId: tenantId(),
        aadClientId: CLIENT["sp-china"],
        aadClientSecret: secret,
      },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastEntraCall()?.host).toMatch(/chinacloudapi\.cn|partner\.microsoftonline\.cn/);
  });

  it("a spoofed host gets no Entra call at all", async () => {
    const secret = e2e.emulator.azure.registerClientSecret(CLIENT["sp-spoof"]);
    const before = e2e.emulator.azure.tokenCalls().length;
    const run = await lookup(["myreg.azurecr.io.example/team/app"], {
      azureJson: { tenantId: tenantId(), aadClientId: CLIENT["sp-spoof"], aadClientSecret: secret },
      edit: (text) =>
        text.replace('      - "*.azurecr.io"\n', '      - "*.azurecr.io"\n      - "*.azurecr.io.example"\n'),
    });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /acr-credential-provider: not this provider's registry: /,
    );
    expect(e2e.emulator.azure.tokenCalls().length).toBe(before);
  });

  it.each(["v1beta1", "v1alpha1"])("answers a %s kubelet", async (version) => {
    const secret = e2e.emulator.azure.registerClientSecret(CLIENT.version);
    const run = await lookup([IMAGE], {
      azureJson: { tenantId: tenantId(), aadClientId: CLIENT.version, aadClientSecret: secret },
      edit: (text) =>
        text.replace("credentialprovider.kubelet.k8s.io/v1", `credentialprovider.kubelet.k8s.io/${version}`),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
  });
});

describe("faults", () => {
  let azureJson: Record<string, unknown>;
  beforeAll(() => {
    azureJson = {
      tenantId: e2e.emulator.azure.tenantId,
      aadClientId: CLIENT["sp-faults"],
      aadClientSecret: e2e.emulator.azure.registerClientSecret(CLIENT["sp-faults"]),
    };
  });

  it("retries a throttled exchange, then succeeds", async () => {
    e2e.emulator.fault("acr.exchange", { kind: "status", status: 429, retryAfter: 1, times: 1 });
    const before = e2e.emulator.calls("acr.exchange");
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("acr.exchange") - before).toBe(2);
  });

  it("fails clearly on persistent 5xx, after retrying within the deadline", async () => {
    e2e.emulator.fault("acr.exchange", { kind: "status", status: 503 });
    const run = await lookup([IMAGE], { azureJson, edit: deadline(5) });
    e2e.emulator.clearFaults("acr.exchange");
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatch(
      /acr-credential-provider: cloud unavailable: ACR exchange \(myreg\.azurecr\.io\) answered HTTP 503 for \d+ s \(\d+ attempts\)$/,
    );
  });

  it("gives up on a hanging exchange at its deadline", async () => {
    e2e.emulator.fault("acr.exchange", { kind: "hang" });
    const run = await lookup([IMAGE], {
      azureJson,
      edit: (text) => text.replace("    args:\n", "    args:\n      - --deadline=3s\n"),
    });
    e2e.emulator.clearFaults("acr.exchange");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /acr-credential-provider: (timed out|cloud unavailable): /,
    );
  });

  it("fails clearly on a malformed exchange answer", async () => {
    e2e.emulator.fault("acr.exchange", { kind: "malformed" });
    const run = await lookup([IMAGE], { azureJson });
    e2e.emulator.clearFaults("acr.exchange");
    expect(run.code).toBe(1);
    expect(errorOf(run)).toBe(
      "acr-credential-provider: invalid response: ACR exchange (myreg.azurecr.io) answered HTTP 200 with a body that is not JSON",
    );
  });

  it("refuses an expired refresh token: an error, never an answer", async () => {
    e2e.emulator.fault("acr.exchange", { kind: "expired", times: 1 });
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.credentials).toEqual([]);
    expect(errorOf(run)).toMatch(
      /acr-credential-provider: invalid response: ACR exchange \(myreg\.azurecr\.io\) issued a credential that had already expired/,
    );
  });

  it("keeps every issued secret out of stderr at -v 10", async () => {
    const run = await lookup([IMAGE], {
      azureJson,
      edit: (text) => text.replace("    args:\n", "    args:\n      - -v=10\n"),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.pluginStderr.join("")).not.toBe("");
  });
});

describe("Entra and IMDS through core's client", () => {
  let azureJson: Record<string, unknown>;
  const entraName = () => `Entra token (login.microsoftonline.com, tenant ${tenantId()})`;
  beforeAll(() => {
    azureJson = {
      tenantId: e2e.emulator.azure.tenantId,
      aadClientId: CLIENT["sp-entra"],
      aadClientSecret: e2e.emulator.azure.registerClientSecret(CLIENT["sp-entra"]),
    };
  });
  afterEach(() => {
    e2e.emulator.clearFaults("entra.token");
    e2e.emulator.clearFaults("imds.identity");
  });

  it("retries Entra's 429 without Retry-After, then succeeds", async () => {
    e2e.emulator.fault("entra.token", { kind: "status", status: 429, times: 3 });
    const before = e2e.emulator.calls("entra.token");
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("entra.token") - before).toBe(4);
  });

  it("retries a hanging Entra call once its attempt times out, within the deadline", {
    timeout: 30_000,
  }, async () => {
    e2e.emulator.fault("entra.token", { kind: "hang", times: 1 });
    const before = e2e.emulator.calls("entra.token");
    // The attempt timeout is min(10 s, the time left but 1 s): 15 s leaves room for a second one.
    const run = await lookup([IMAGE], { azureJson, edit: deadline(15) });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("entra.token") - before).toBe(2);
  });

  it("retries a reset Entra connection", async () => {
    e2e.emulator.fault("entra.token", { kind: "reset", times: 1 });
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code, run.stderr).toBe(0);
  });

  it("an Entra 503 that persists: the failing call, with its attempts, not MSAL's network_error", async () => {
    e2e.emulator.fault("entra.token", { kind: "status", status: 503 });
    const before = e2e.emulator.calls("entra.token");
    const run = await lookup([IMAGE], { azureJson, edit: deadline(5) });
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error).toMatch(
      new RegExp(
        `^acr-credential-provider: cloud unavailable: ${escapeRegExp(entraName())} answered HTTP 503 for \\d+ s \\((\\d+) attempts\\)$`,
      ),
    );
    // Core's attempts and nothing more: no SDK retry on top.
    expect(e2e.emulator.calls("entra.token") - before).toBe(Number(/\((\d+) attempts\)/.exec(error)?.[1]));
    expect(error).not.toMatch(/network_error|aka\.ms/);
  });

  it("an HTML page from Entra is a malformed answer naming Entra", async () => {
    e2e.emulator.fault("entra.token", { kind: "malformed", format: "html", times: 1 });
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toBe(
      `acr-credential-provider: invalid response: ${entraName()} answered HTTP 200 with a body that is not JSON`,
    );
  });

  it("a wrong client secret: the AADSTS code and a short description, no secret, no link", async () => {
    const run = await lookup([IMAGE], {
      azureJson: { ...azureJson, aadClientSecret: "wrong-secret~0123456789" },
    });
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error).toMatch(
      new RegExp(
        `^acr-credential-provider: cloud authentication failed: ${escapeRegExp(entraName())} answered HTTP 401: AADSTS7000215: Invalid client secret provided\\.`,
      ),
    );
    expect(error).toMatch(/Invalid client secret provided\. \(invalid_client\)$/);
    expect(error).not.toMatch(/wrong-secret|https?:|Trace ID/);
  });

  it("an Entra answer over 1 MiB is refused as too large", async () => {
    e2e.emulator.fault("entra.token", { kind: "huge", bytes: 4 * 1024 * 1024, times: 1 });
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toBe(
      `acr-credential-provider: invalid response: ${entraName()} sent an answer larger than 1 MiB`,
    );
  });

  it("an expired Entra token is an error, never exchanged", async () => {
    e2e.emulator.fault("entra.token", { kind: "expired", times: 1 });
    const exchanges = e2e.emulator.calls("acr.exchange");
    const run = await lookup([IMAGE], { azureJson });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatch(
      new RegExp(
        `^acr-credential-provider: invalid response: ${escapeRegExp(entraName())} issued a credential that`,
      ),
    );
    expect(e2e.emulator.calls("acr.exchange")).toBe(exchanges);
  });

  it("IMDS: 503s retried by core alone, then the token", async () => {
    e2e.emulator.azure.managedIdentity();
    e2e.emulator.fault("imds.identity", { kind: "status", status: 503, times: 2 });
    const before = e2e.emulator.calls("imds.identity");
    const run = await lookup([IMAGE], {
      azureJson: { tenantId: tenantId(), useManagedIdentityExtension: true },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("imds.identity") - before).toBe(3);
  });

  it("IMDS: an answer over 1 MiB is refused, naming IMDS", async () => {
    e2e.emulator.azure.managedIdentity();
    e2e.emulator.fault("imds.identity", { kind: "huge", bytes: 4 * 1024 * 1024, times: 1 });
    const run = await lookup([IMAGE], {
      azureJson: { tenantId: tenantId(), useManagedIdentityExtension: true },
    });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toBe(
      "acr-credential-provider: invalid response: Azure IMDS token sent an answer larger than 1 MiB",
    );
  });

  it("a proxy that refuses the connection is retried until the deadline, and named", async () => {
    const closed = await closedPort();
    const run = await lookup([IMAGE], {
      azureJson,
      edit: deadline(4),
      env: { HTTPS_PROXY: `http://127.0.0.1:${closed}`, HTTP_PROXY: `http://127.0.0.1:${closed}` },
    });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatch(
      /^acr-credential-provider: cloud unavailable: ACR challenge \(myreg\.azurecr\.io\) failed: proxy .*ECONNREFUSED.* for \d+ s \(\d+ attempts\)$/,
    );
  });

  it("AZURE_LOG_LEVEL and DEBUG print nothing by default; at -v 6 the SDK's lines go through the redacting logger", async () => {
    const env = { AZURE_LOG_LEVEL: "verbose", DEBUG: "*" };
    const quiet = await lookup([IMAGE], { azureJson, env });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.pluginStderr.join("")).not.toMatch(/azure:|azure-sdk|MSAL/);
    const loud = await lookup([IMAGE], {
      azureJson,
      env,
      edit: (text) => text.replace("    args:\n", "    args:\n      - -v=6\n"),
    });
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.pluginStderr.join("")).toMatch(/\] azure-sdk: azure:identity:info /);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
