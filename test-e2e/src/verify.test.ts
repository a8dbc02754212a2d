/**
 * `kubelet-credential-sim verify` against the emulator's registry, as a container runtime would
 * use the credentials: the ones the Example cloud issued are accepted, anything else is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E } from "./harness.ts";
import { startE2E } from "./harness.ts";

let e2e: E2E;
let issued: { username: string; password: string };
beforeAll(async () => {
  e2e = await startE2E();
  const response = await e2e.emulator.request("https://auth.registry.example.com/token", {
    method: "POST",
    headers: { authorization: `Bearer ${e2e.emulator.example.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ registry: "registry.example.com" }),
  });
  issued = response.json() as typeof issued;
});
afterAll(async () => {
  await e2e?.close();
});

describe("kubelet-credential-sim verify", () => {
  it("accepts credentials the cloud issued for the registry", async () => {
    const run = await e2e.verify("registry.example.com/team/app:1.0", issued.username, issued.password);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/accepted/);
    e2e.expectNoLeaks(run);
  });

  it("refuses a wrong password", async () => {
    const run = await e2e.verify("registry.example.com/team/app", issued.username, "not-the-password");
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/401|rejected|refused/i);
    e2e.expectNoLeaks(run);
  });

  it("refuses the credentials at another registry host", async () => {
    const run = await e2e.verify("eu.registry.example.com/team/app", issued.username, issued.password);
    expect(run.code).toBe(1);
    e2e.expectNoLeaks(run);
  });
});

describe("the leak check itself", () => {
  it("fails when an issued secret appears in a plugin's stderr", () => {
    const secret = e2e.emulator.issueSecret("leak-check-");
    const run = {
      code: 0,
      stdout: "",
      stderr: "",
      pluginStderr: [`oops ${secret}`],
      entries: [],
      execCounts: {},
    };
    expect(() => e2e.expectNoLeaks(run)).toThrow(/issued secrets leaked/);
  });
});
