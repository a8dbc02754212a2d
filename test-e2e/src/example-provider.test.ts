/**
 * dist/bin/example-credential-provider, run by dist/bin/kubelet-credential-sim as the kubelet
 * runs it, against the Example cloud in the emulator: reached at its real hostnames through
 * HTTPS_PROXY with the emulator's CA, with no Node and no PATH on the "node".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E } from "./harness.ts";
import { emulated, startE2E } from "./harness.ts";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => {
  await e2e?.close();
});

const IMAGE = "registry.example.com/team/app:1.0";

describe("example-credential-provider through the kubelet simulator", () => {
  it("gets credentials that the registry accepts, one token call per registry", async () => {
    const before = e2e.emulator.calls("example.token");
    const run = await e2e.lookup(
      e2e.config("example.yaml"),
      [
        IMAGE,
        "registry.example.com/team/other",
        "eu.registry.example.com/team/app",
        "docker.io/library/nginx",
      ],
      { flags: ["--verify"] },
    );
    expect(run.stderr).toBe("executed example-credential-provider 2 times\n");
    expect(run.code).toBe(0);
    const [first, second, eu, hub] = run.entries;
    expect(first).toMatchObject({
      normalizedImage: "registry.example.com/team/app",
      providers: [{ name: "example-credential-provider", executed: true, cached: false }],
      credentials: [
        { provider: "example-credential-provider", key: "registry.example.com", username: "node" },
      ],
      verified: true,
    });
    expect(first?.credentials[0]?.password).toBe("<redacted>");
    // Registry cache key: the second image of the same registry is served from the kubelet's cache.
    // It says so, with the key and the expiry of the first answer.
    expect(second?.providers).toEqual([
      {
        name: "example-credential-provider",
        executed: false,
        cached: true,
        cache: first?.providers[0]?.cache,
      },
    ]);
    expect(first?.providers[0]?.cache).toMatchObject({ keyType: "Registry", key: "registry.example.com" });
    expect(second?.verified).toBe(true);
    expect(eu).toMatchObject({ credentials: [{ key: "eu.registry.example.com" }], verified: true });
    expect(hub).toMatchObject({ normalizedImage: "docker.io/library/nginx", providers: [], credentials: [] });
    expect(e2e.emulator.calls("example.token") - before).toBe(2);
    e2e.expectNoLeaks(run);
  });

  it.each(["v1beta1", "v1alpha1"])("speaks credentialprovider.kubelet.k8s.io/%s", async (version) => {
    const config = e2e.config("example.yaml", (text) =>
      text.replace("credentialprovider.kubelet.k8s.io/v1", `credentialprovider.kubelet.k8s.io/${version}`),
    );
    const run = await e2e.lookup(config, [IMAGE]);
    expect(run.code).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
    e2e.expectNoLeaks(run);
  });

  it("ignores NODE_OPTIONS, in the simulator and in the provider", async () => {
    const run = await e2e.lookup(e2e.config("example.yaml"), [IMAGE], {
      env: { NODE_OPTIONS: "--require /nonexistent" },
    });
    expect(run.code).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
    expect(run.pluginStderr).toEqual([""]);
  });

  it("refuses a host that a too-wide matchImages sends it, without calling its cloud", async () => {
    const config = e2e.config("example.yaml", (text) =>
      text.replace('- "*.registry.example.com"', '- "*.example.com"'),
    );
    const before = e2e.emulator.calls("example.token");
    const run = await e2e.lookup(config, ["mirror.example.com/team/app"]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toContain(
      "example-credential-provider: not this provider's registry: mirror.example.com is not an Example registry",
    );
    expect(e2e.emulator.calls("example.token")).toBe(before);
    e2e.expectNoLeaks(run);
  });

  it("reports a wrong API key as an authentication failure", async () => {
    const config = e2e.config("example.yaml", (text) =>
      text.replace(/--api-key-file=\S+/, "--api-key-file=/dev/null"),
    );
    const run = await e2e.lookup(config, [IMAGE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toContain(
      "cloud authentication failed: token service answered 401",
    );
    e2e.expectNoLeaks(run);
  });

  it("keeps every secret out of its logs at -v 10", async () => {
    const config = e2e.config("example.yaml", (text) => text.replace("args:\n", "args:\n      - -v=10\n"));
    const run = await e2e.lookup(config, [IMAGE]);
    expect(run.code).toBe(0);
    expect(run.pluginStderr[0]).toMatch(/Example token service: attempt 1: HTTP 200, \d+ bytes/);
    e2e.expectNoLeaks(run);
  });
});

describe("cloud faults, as the provider's HTTP client meets them", () => {
  it("retries a 503 and succeeds", async () => {
    e2e.emulator.fault("example.token", { kind: "status", status: 503, times: 1 });
    const before = e2e.emulator.calls("example.token");
    const run = await e2e.lookup(e2e.config("example.yaml"), [IMAGE]);
    expect(run.code).toBe(0);
    expect(e2e.emulator.calls("example.token") - before).toBe(2);
    e2e.expectNoLeaks(run);
  });

  it("honours Retry-After on a 429", async () => {
    e2e.emulator.fault("example.token", { kind: "status", status: 429, retryAfter: 1, times: 1 });
    const started = Date.now();
    const run = await e2e.lookup(e2e.config("example.yaml"), [IMAGE]);
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    e2e.expectNoLeaks(run);
  });

  it("survives a reset connection", async () => {
    e2e.emulator.fault("example.token", { kind: "reset", times: 1 });
    const run = await e2e.lookup(e2e.config("example.yaml"), [IMAGE]);
    expect(run.code).toBe(0);
    e2e.expectNoLeaks(run);
  });

  it("fails clearly on a malformed answer", async () => {
    e2e.emulator.fault("example.token", { kind: "malformed", times: 1 });
    const run = await e2e.lookup(e2e.config("example.yaml"), [IMAGE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /Example token service answered HTTP 200 with a body that is not JSON/,
    );
    e2e.expectNoLeaks(run);
  });

  it("gives up before its deadline, naming the call, when the cloud hangs", async () => {
    e2e.emulator.fault("example.token", { kind: "hang", times: 1 });
    const config = e2e.config("example.yaml", (text) =>
      text.replace("args:\n", "args:\n      - --deadline=2s\n"),
    );
    const run = await e2e.lookup(config, [IMAGE]);
    expect(run.code).toBe(1);
    // 2 s leave one attempt of 1 s and a second for the answer: no time for a retry. Under qemu
    // the modules load slower, so less of the first second is left for the attempt.
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      emulated
        ? /Example token service did not answer within (\d+ ms|1 s)\n?$/
        : /Example token service did not answer within (9\d\d ms|1 s)\n?$/,
    );
    e2e.expectNoLeaks(run);
  });
});
