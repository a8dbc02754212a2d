/**
 * `pnpm demo` (after the build): it prints its report and leaves nothing behind, not even when it
 * is interrupted: no listening port, no simulator or plugin process, no temporary directory.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const demo = resolve(import.meta.dirname, "../../tools/demo/src/cli.ts");

interface DemoRun {
  code: number | null;
  output: string;
}

function runDemo(options: { interruptAfter?: RegExp } = {}): Promise<DemoRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [demo], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (options.interruptAfter?.test(output)) {
        options.interruptAfter = undefined;
        child.kill("SIGINT");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, output }));
  });
}

function portRefuses(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolvePort) => {
    const socket = connect(Number(port), "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolvePort(false);
    });
    socket.once("error", () => resolvePort(true));
  });
}

async function expectNothingLeftBehind(output: string) {
  const match = /cloud emulator: https (\S+), proxy (\S+) \(work dir (\S+)\)/.exec(output);
  expect(match, output).not.toBeNull();
  const [, httpsUrl, proxyUrl, workDir] = match as unknown as [string, string, string, string];
  expect(await portRefuses(httpsUrl)).toBe(true);
  expect(await portRefuses(proxyUrl)).toBe(true);
  expect(existsSync(workDir)).toBe(false);
  const processes = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  expect(processes.split("\n").filter((line) => line.includes(workDir))).toEqual([]);
}

describe("pnpm demo", () => {
  it("prints its report and leaves no process, port or directory behind", async () => {
    const run = await runDemo();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("executed example-credential-provider 2 times");
    expect(run.output).toContain("executed ecr-credential-provider 3 times");
    expect(run.output).toContain("executed acr-credential-provider 1 time");
    expect(run.output).toContain("executed auth-provider-gcp 2 times");
    // Who accepted what, once per image.
    expect(run.output).toMatch(
      /^ {2}verify: registry\.example\.com accepted example-credential-provider's credential for registry\.example\.com \(GET https:\/\/registry\.example\.com\/v2\/ .*answered 200\)$/m,
    );
    expect(run.output).not.toMatch(/verify: accepted/);
    // Per cloud, one lookalike host refused before any cloud call.
    for (const host of [
      "mirror.example.com",
      "12345.dkr.ecr.us-west-2.amazonaws.com",
      "my-evil-registry.azurecr.io",
      "storage.cloud.google.com",
    ]) {
      expect(run.output).toContain(
        `refused: ${host}, a lookalike its matchImages let through: the provider said no, with no cloud call\n`,
      );
    }
    // Per cloud, the cache fields of each answer in the summary table.
    expect(run.output.match(/^ {2}IMAGE +PROVIDER +ANSWER +CACHE KEY +FOR +UNTIL$/gm)).toHaveLength(4);
    expect(run.output).toMatch(
      /^ {2}registry\.example\.com\/team\/app +example-credential-provider +executed +Registry registry\.example\.com +\S+ +\d{4}-\d\d-\d\dT\S+Z$/m,
    );
    expect(run.output).toMatch(
      /^ {2}123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com\/team\/app +ecr-credential-provider +executed +Registry /m,
    );
    expect(run.output).toMatch(/leak check: none of the \d+ secrets the clouds issued appears in any output/);
    await expectNothingLeftBehind(run.output);
  });

  it("cleans up on Ctrl-C as well", async () => {
    const run = await runDemo({ interruptAfter: /work dir/ });
    expect(run.code).toBe(130);
    await expectNothingLeftBehind(run.output);
  });
});
