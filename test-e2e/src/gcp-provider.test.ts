/**
 * dist/bin/auth-provider-gcp, run by dist/bin/kubelet-credential-sim with the GKE node config,
 * against the emulated Google Cloud: the metadata server at GCE_METADATA_HOST, Google's APIs at
 * their real names through HTTPS_PROXY, the registries accepting only tokens Google issued.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E, LookupOptions, LookupRun } from "./harness.ts";
import { binDir, startE2E } from "./harness.ts";

const IMAGE = "us-docker.pkg.dev/my-project/team/app:1.0";

let e2e: E2E;
beforeAll(async () => {
  if (!existsSync(join(binDir, "auth-provider-gcp"))) throw new Error("run pnpm build first");
  e2e = await startE2E();
});
afterAll(async () => {
  await e2e?.close();
});

interface Run extends LookupOptions {
  config?: string;
  edit?: (text: string) => string;
  vars?: Record<string, string>;
}

async function lookup(images: string[], options: Run = {}): Promise<LookupRun> {
  const config = e2e.config(options.config ?? "gke.yaml", options.edit, options.vars);
  const run = await e2e.lookup(config, images, {
    ...options,
    env: { ...e2e.emulator.google.metadataEnv(), ...options.env },
  });
  e2e.expectNoLeaks(run);
  return run;
}

const withArgs =
  (...args: string[]) =>
  (text: string) =>
    text.replace("      - --v=3\n", `      - --v=3\n${args.map((a) => `      - ${a}\n`).join("")}`);

describe("auth-provider-gcp with the GKE config", () => {
  it("gcr flow: the node's token from the metadata server, once per registry per run", async () => {
    const before = e2e.emulator.google.tokenCalls("metadata").length;
    const run = await lookup([IMAGE, "us-docker.pkg.dev/my-project/team/other", "gcr.io/my-project/app"], {
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.execCounts).toEqual({ "auth-provider-gcp": 2 });
    expect(run.entries[0]).toMatchObject({
      credentials: [{ key: "us-docker.pkg.dev", username: "oauth2accesstoken" }],
      verified: true,
    });
    expect(run.entries[1]).toMatchObject({ providers: [{ cached: true }], verified: true });
    expect(run.entries[2]).toMatchObject({ credentials: [{ key: "gcr.io" }], verified: true });
    // One token per exec: two registries, two calls; the second image of a registry is cached.
    expect(e2e.emulator.google.tokenCalls("metadata").length - before).toBe(2);
  });

  it("Application Default Credentials from a service account key file", async () => {
    const key = e2e.emulator.google.serviceAccountKey("puller@my-project.iam.gserviceaccount.com");
    const run = await lookup([IMAGE], {
      env: { GOOGLE_APPLICATION_CREDENTIALS: key.path },
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(e2e.emulator.google.tokenCalls("oauth2").at(-1)).toMatchObject({
      email: "puller@my-project.iam.gserviceaccount.com",
      outcome: "ok",
    });
  });

  it("impersonates another service account", async () => {
    const email = "registry-reader@my-project.iam.gserviceaccount.com";
    e2e.emulator.google.serviceAccount(email);
    const run = await lookup([IMAGE], {
      edit: withArgs(`--impersonate-service-account=${email}`),
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(e2e.emulator.google.impersonationCalls().at(-1)).toMatchObject({ email, outcome: "ok" });
  });

  it("dockercfg flow: only the entries for the image's registry", async () => {
    const cfg = e2e.emulator.google.dockercfg(["https://us-docker.pkg.dev", "gcr.io"]);
    e2e.emulator.google.setAttribute("google-dockercfg", JSON.stringify(cfg));
    const run = await lookup([IMAGE], { edit: withArgs("--authFlow=dockercfg"), flags: ["--verify"] });
    e2e.emulator.google.setAttribute("google-dockercfg", undefined);
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
    expect(run.entries[0]?.verified).toBe(true);
  });

  it("dockercfg-url flow", async () => {
    const cfg = e2e.emulator.google.dockercfg(["us-docker.pkg.dev"]);
    const url = e2e.emulator.google.publishDockercfg(cfg, { https: true });
    e2e.emulator.google.setAttribute("google-dockercfg-url", url);
    const run = await lookup([IMAGE], { edit: withArgs("--authFlow=dockercfg-url"), flags: ["--verify"] });
    e2e.emulator.google.setAttribute("google-dockercfg-url", undefined);
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
  });

  it("refuses a host that is not Google's: no token is asked for", async () => {
    const before = e2e.emulator.google.tokenCalls().length;
    const run = await lookup(["gcr.io.evil.example/app"], {
      edit: (text) =>
        text.replace('      - "*.pkg.dev"\n', '      - "*.pkg.dev"\n      - "*.io.evil.example"\n'),
    });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: not this provider's registry: /);
    expect(e2e.emulator.google.tokenCalls().length).toBe(before);
  });

  it.each(["v1beta1", "v1alpha1"])("answers a %s kubelet", async (version) => {
    const run = await lookup([IMAGE], {
      edit: (text) =>
        text.replace("credentialprovider.kubelet.k8s.io/v1", `credentialprovider.kubelet.k8s.io/${version}`),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
  });
});

describe("service-account mode", () => {
  const PROVIDER =
    "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1";

  it("GKE workload identity: the pod's token exchanged at STS for the identity namespace", async () => {
    const token = e2e.emulator.google.issueSubjectToken();
    const run = await lookup([IMAGE], {
      config: "gke-service-account.yaml",
      edit: withArgs(`--identity-provider=${PROVIDER}`, "--project-id=my-project"),
      flags: [
        "--service-account-token",
        token,
        "--service-account-annotation",
        "iam.gke.io/enable-wi-image-pull=true",
        "--verify",
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(e2e.emulator.google.stsCalls().at(-1)).toMatchObject({
      audience: `identitynamespace:my-project.svc.id.goog:${PROVIDER}`,
      outcome: "ok",
    });
  });

  it("an external workload identity pool, impersonating the annotated service account", async () => {
    const pool =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/providers/r";
    const email = "pool-puller@my-project.iam.gserviceaccount.com";
    e2e.emulator.google.serviceAccount(email);
    const token = e2e.emulator.google.issueSubjectToken({ audience: pool });
    const run = await lookup([IMAGE], {
      config: "gke-service-account.yaml",
      edit: withArgs(`--workload-identity-provider=${pool}`),
      flags: [
        "--service-account-token",
        token,
        "--service-account-annotation",
        `iam.gke.io/gcp-service-account=${email}`,
        "--verify",
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(e2e.emulator.google.stsCalls().at(-1)).toMatchObject({ audience: pool, outcome: "ok" });
    expect(e2e.emulator.google.impersonationCalls().at(-1)).toMatchObject({ email, outcome: "ok" });
  });
});

describe("faults", () => {
  it("retries a throttled metadata server, then succeeds", async () => {
    e2e.emulator.fault("gce.token", { kind: "status", status: 429, retryAfter: 1, times: 1 });
    const before = e2e.emulator.calls("gce.token");
    const run = await lookup([IMAGE]);
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("gce.token") - before).toBe(2);
  });

  it("fails clearly on a malformed token answer", async () => {
    e2e.emulator.fault("gce.token", { kind: "malformed" });
    const run = await lookup([IMAGE]);
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: [a-z ]+: /);
  });

  it("a failure is an error, not an empty answer", async () => {
    e2e.emulator.fault("gce.token", { kind: "status", status: 503 });
    const run = await lookup([IMAGE]);
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: [a-z ]+: /);
  });

  it("says so when the node has no service account", async () => {
    const google = e2e.emulator.google;
    const account = google.nodeServiceAccount;
    google.nodeServiceAccount = undefined;
    const run = await lookup([IMAGE]);
    google.nodeServiceAccount = account;
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: [a-z ]+: .+/);
  });

  it("gives up on a hanging metadata server at its deadline", async () => {
    e2e.emulator.fault("gce.token", { kind: "hang" });
    const started = Date.now();
    const run = await lookup([IMAGE], { edit: withArgs("--deadline=3s") });
    e2e.emulator.clearFaults("gce.token");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: (timed out|cloud unavailable): /);
  });

  it("keeps every issued secret out of stderr at -v 10", async () => {
    const run = await lookup([IMAGE], { edit: withArgs("--v=10") });
    expect(run.code, run.stderr).toBe(0);
    expect(run.pluginStderr.join("")).not.toBe("");
  });
});
