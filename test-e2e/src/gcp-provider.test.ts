/**
 * dist/bin/auth-provider-gcp, run by dist/bin/kubelet-credential-sim with the GKE node config,
 * against the emulated Google Cloud: the metadata server at GCE_METADATA_HOST, Google's APIs at
 * their real names through HTTPS_PROXY, the registries accepting only tokens Google issued.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FaultSpec } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E, LookupOptions, LookupRun } from "./harness.ts";
import { binDir, deadlineFlag, startE2E, startupAllowanceMs } from "./harness.ts";

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

/** The provider's own line: the simulator quotes the plugin's whole stderr in its error. */
const lastLine = (run: LookupRun) =>
  run.entries[0]?.providers[0]?.error
    ?.trimEnd()
    .split("\n")
    .at(-1)
    ?.replace(/^error execing credential provider plugin .*?: exit status \d+: /, "");

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

  it.each<[string, FaultSpec]>([
    ["a dropped connection", { kind: "reset", times: 1 }],
    ["a truncated answer", { kind: "truncated", times: 1 }],
    ["the metadata server's own throttling, twice", { kind: "throttle", times: 2 }],
    ["a 503", { kind: "status", status: 503, times: 1 }],
  ])("retries %s, then succeeds", async (_, fault) => {
    e2e.emulator.fault("gce.token", fault);
    const before = e2e.emulator.calls("gce.token");
    const run = await lookup([IMAGE]);
    e2e.emulator.clearFaults("gce.token");
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("gce.token") - before).toBe((fault.times ?? 1) + 1);
  });

  it("fails clearly on a malformed token answer", async () => {
    e2e.emulator.fault("gce.token", { kind: "malformed" });
    const run = await lookup([IMAGE]);
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: invalid response: GCE metadata token answered HTTP 200 /,
    );
  });

  it.each(["--v=0", "--v=10"])(
    "a token answer missing its closing brace: no issued secret on stderr at %s",
    async (verbosity) => {
      const issued = e2e.emulator.issued().length;
      e2e.emulator.fault("gce.token", { kind: "malformed", format: "jsonWithSecret" });
      const run = await lookup([IMAGE], { edit: (text) => text.replace("--v=3", verbosity) });
      e2e.emulator.clearFaults("gce.token");
      // The emulator put a fresh ledger secret in the answer; lookup() fails on any leak of it.
      expect(e2e.emulator.issued().length).toBeGreaterThan(issued);
      expect(run.code).toBe(1);
      expect(lastLine(run)).toMatch(
        /^auth-provider-gcp: invalid response: GCE metadata token answered HTTP 200 (with a body that is not JSON|without the header Metadata-Flavor: Google)/,
      );
      // At -v 0 the provider prints its one error line and nothing else.
      if (verbosity === "--v=0") expect(run.pluginStderr.join("").trimEnd().split("\n")).toHaveLength(1);
    },
  );

  it.each(["--v=0", "--v=10"])(
    "an error answer of the metadata server quoting a secret: refused without quoting it at %s",
    async (verbosity) => {
      const secret = e2e.emulator.issueSecret("ya29.in-an-error-");
      e2e.emulator.fault("gce.token", {
        kind: "status",
        status: 400,
        contentType: "application/json",
        headers: { "metadata-flavor": "Google" },
        body: `{"error":"invalid_request","error_description":"bad token ${secret}"`,
      });
      const run = await lookup([IMAGE], { edit: (text) => text.replace("--v=3", verbosity) });
      e2e.emulator.clearFaults("gce.token");
      expect(run.code).toBe(1);
      expect(lastLine(run)).toBe(
        "auth-provider-gcp: cloud authentication failed: GCE metadata token refused the request (HTTP 400)",
      );
    },
  );

  it("an answer larger than core's cap: too large, not retried", async () => {
    const before = e2e.emulator.calls("gce.token");
    e2e.emulator.fault("gce.token", { kind: "huge", bytes: 4 * 1024 * 1024 });
    const run = await lookup([IMAGE]);
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(lastLine(run)).toBe(
      "auth-provider-gcp: invalid response: GCE metadata token sent an answer larger than 1 MiB",
    );
    expect(e2e.emulator.calls("gce.token") - before).toBe(1);
  });

  const RETRY_DEADLINE = deadlineFlag(4);

  it("a failure is an error, not an empty answer: retried within the deadline, then named", async () => {
    e2e.emulator.fault("gce.token", { kind: "status", status: 503 });
    const before = e2e.emulator.calls("gce.token");
    const run = await lookup([IMAGE], { edit: withArgs(RETRY_DEADLINE) });
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: cloud unavailable: GCE metadata token answered HTTP 503 for \d+ s \(\d+ attempts\)$/,
    );
    expect(e2e.emulator.calls("gce.token") - before).toBeGreaterThan(1);
  });

  it("throttled until the deadline: says so, with the time and the attempts", async () => {
    e2e.emulator.fault("gce.token", { kind: "throttle" });
    const run = await lookup([IMAGE], { edit: withArgs(RETRY_DEADLINE) });
    e2e.emulator.clearFaults("gce.token");
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: cloud throttled the request: GCE metadata token throttled \(HTTP 429\) for \d+ s \(\d+ attempts\)$/,
    );
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
    expect(Date.now() - started).toBeLessThan(10_000 + startupAllowanceMs);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/auth-provider-gcp: (timed out|cloud unavailable): /);
  });

  it("an expired token from the metadata server (expires_in 0): an error, never cacheDuration 0s", async () => {
    e2e.emulator.fault("gce.token", { kind: "expired", times: 1 });
    const run = await lookup([IMAGE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.credentials).toEqual([]);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: invalid response: GCE metadata token issued a credential that had already expired \(at .+\); check the node's clock$/,
    );
  });

  it("an expired token from OAuth2 (a key file): an error naming the endpoint", async () => {
    const key = e2e.emulator.google.serviceAccountKey("expired@my-project.iam.gserviceaccount.com");
    e2e.emulator.fault("google.oauth2", { kind: "expired", times: 1 });
    const run = await lookup([IMAGE], { env: { GOOGLE_APPLICATION_CREDENTIALS: key.path } });
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: invalid response: Google OAuth2 token \(expired@my-project.iam.gserviceaccount.com\) issued a credential that had already expired/,
    );
  });

  it("an expired token from IAM credentials (impersonation): an error naming the endpoint", async () => {
    const email = "expired-reader@my-project.iam.gserviceaccount.com";
    e2e.emulator.google.serviceAccount(email);
    e2e.emulator.fault("google.iamcredentials", { kind: "expired", times: 1 });
    const run = await lookup([IMAGE], { edit: withArgs(`--impersonate-service-account=${email}`) });
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      new RegExp(
        `^auth-provider-gcp: invalid response: IAM generateAccessToken \\(${email}\\) issued a credential that had already expired`,
      ),
    );
  });

  it("an expired token from STS (GKE workload identity): an error naming the endpoint", async () => {
    const provider =
      "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1";
    e2e.emulator.fault("google.sts", { kind: "expired", times: 1 });
    const run = await lookup([IMAGE], {
      config: "gke-service-account.yaml",
      edit: withArgs(`--identity-provider=${provider}`, "--project-id=my-project"),
      flags: [
        "--service-account-token",
        e2e.emulator.google.issueSubjectToken(),
        "--service-account-annotation",
        "iam.gke.io/enable-wi-image-pull=true",
      ],
    });
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(
      /^auth-provider-gcp: invalid response: Google STS token exchange issued a credential that had already expired/,
    );
  });

  it("keeps every issued secret out of stderr at -v 10", async () => {
    const run = await lookup([IMAGE], { edit: withArgs("--v=10") });
    expect(run.code, run.stderr).toBe(0);
    expect(run.pluginStderr.join("")).not.toBe("");
  });
});
