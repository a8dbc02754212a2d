/**
 * The CLI as an operator runs it: it prints what to export and where its endpoints are, never a
 * secret, and a signal stops it with everything it started gone.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { runNode, tryConnect } from "./testdata/helpers.ts";

const cli = fileURLToPath(new URL("cli.ts", import.meta.url));

async function runUntilSignal(signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [cli], { env: { PATH: process.env.PATH ?? "" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 5_000;
  while (!stdout.includes("example provider:") && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const caFile = /^export NODE_EXTRA_CA_CERTS=(\S+)$/m.exec(stdout)?.[1] ?? "";
  const apiKeyFile = /--api-key-file=(\S+)/.exec(stdout)?.[1] ?? "";
  const urls = [...stdout.matchAll(/^ {2}(?:proxy|https|http) +(\S+)/gm)].map((m) => m[1] as string);
  const running = {
    caExists: existsSync(caFile),
    apiKey: existsSync(apiKeyFile) ? readFileSync(apiKeyFile, "utf8").trim() : "",
    reachable: await Promise.all(urls.map(tryConnect)),
  };
  child.kill(signal);
  const code = await exited;
  return { code, stdout, stderr, caFile, urls, running };
}

// Each test is its own child process: run them side by side.
describe.concurrent("node src/cli.ts", () => {
  it.for(["SIGINT", "SIGTERM"] as const)(
    "prints the environment and endpoints, and stops on %s",
    async (signal, { expect }) => {
      const run = await runUntilSignal(signal);
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(/^export HTTPS_PROXY=http:\/\/127\.0\.0\.1:\d+$/m);
      expect(run.stdout).toMatch(/^export HTTP_PROXY=http:\/\/127\.0\.0\.1:\d+$/m);
      expect(run.stdout).toContain("example.token");
      expect(run.stdout).toContain("https://auth.registry.example.com/token");
      expect(run.urls).toHaveLength(3);
      expect(run.running).toMatchObject({
        caExists: true,
        reachable: ["connected", "connected", "connected"],
      });
      // The API key is handed over in a file, never on the terminal.
      expect(run.running.apiKey).toMatch(/^example-apikey-[0-9a-f]{24}$/);
      expect(run.stdout).not.toContain(run.running.apiKey);
      expect(run.stdout).toContain(`${signal}: stopping`);
      expect(run.code).toBe(0);
      expect(existsSync(dirname(run.caFile))).toBe(false);
      for (const url of run.urls) expect(await tryConnect(url)).toBe("ECONNREFUSED");
    },
  );

  it("refuses an unknown flag with its usage", async ({ expect }) => {
    const { code, stderr } = await runNode(cli, ["--nope"], {});
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown option '--nope'[\s\S]*Usage:/);
  });
});
