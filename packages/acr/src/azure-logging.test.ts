/**
 * The Azure SDK's logging, through @azure/logger's public API: off below -v 6 whatever the
 * environment enabled when it loaded, and otherwise only through the run's (redacting) logger.
 */
import { spawnSync } from "node:child_process";
import { AzureLogger, createClientLogger, getLogLevel, setLogLevel } from "@azure/logger";
import { createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { azureLogLevelFor, routeAzureLogs } from "./azure-logging.ts";

const SECRET = "client-secret~0123456789";
const sdkLogger = createClientLogger("acr-logging-test");

function run(verbosity: number) {
  const secrets = new SecretRegistry();
  secrets.add(SECRET);
  const lines: string[] = [];
  const log = createLogger({ name: "t", verbosity, secrets, sink: { write: (l: string) => lines.push(l) } });
  routeAzureLogs({ AzureLogger, setLogLevel }, log);
  return lines;
}

describe("routeAzureLogs", () => {
  const original = AzureLogger.log;
  afterEach(() => {
    AzureLogger.log = original;
    setLogLevel();
    vi.restoreAllMocks();
  });

  it("below -v 6: off, even when AZURE_LOG_LEVEL had turned it on, and nothing reaches stderr", () => {
    setLogLevel("verbose"); // what AZURE_LOG_LEVEL=verbose does as @azure/logger loads
    const stderr = vi.spyOn(process.stderr, "write");
    const lines = run(5);
    expect(getLogLevel()).toBeUndefined();
    sdkLogger.warning(`token request with ${SECRET}`);
    sdkLogger.info("info");
    expect(lines).toEqual([]);
    expect(stderr).not.toHaveBeenCalled();
  });

  it("at -v 6: warnings and info through the run's logger, secrets redacted; verbose lines not", () => {
    const stderr = vi.spyOn(process.stderr, "write");
    const lines = run(6);
    sdkLogger.info(`sending ${SECRET}`);
    sdkLogger.verbose("verbose detail");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ t\] azure-sdk: azure:acr-logging-test:info sending \[REDACTED\]\n$/);
    expect(stderr).not.toHaveBeenCalled();
  });

  it("at -v 8: verbose lines too", () => {
    const lines = run(8);
    sdkLogger.verbose("verbose detail");
    expect(lines.join("")).toContain("azure-sdk: azure:acr-logging-test:verbose verbose detail");
  });

  it("the level for a verbosity", () => {
    const at = (verbosity: number) => azureLogLevelFor({ enabled: (level) => verbosity >= level });
    expect([at(0), at(5), at(6), at(7), at(8), at(10)]).toEqual([
      undefined,
      undefined,
      "info",
      "info",
      "verbose",
      "verbose",
    ]);
  });

  it("AZURE_LOG_LEVEL and DEBUG, read as the SDK loads, decide nothing once routed (a fresh process)", () => {
    const output = (verbosity: number) => {
      const code = `
        const { AzureLogger, setLogLevel, createClientLogger } = await import("@azure/logger");
        const { createLogger, SecretRegistry } = await import("@kubelet-credential-provider/core");
        const { routeAzureLogs } = await import(${JSON.stringify(new URL("./azure-logging.ts", import.meta.url).pathname)});
        const secrets = new SecretRegistry();
        const lines = [];
        const log = createLogger({ name: "t", verbosity: ${verbosity}, secrets, sink: { write: (l) => lines.push(l) } });
        routeAzureLogs({ AzureLogger, setLogLevel }, log);
        const sdk = createClientLogger("identity");
        sdk.warning("warning line"); sdk.info("info line"); sdk.verbose("verbose line");
        process.stdout.write(JSON.stringify(lines.map((l) => l.replace(/^.*\\] /, "").trim())));`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
        cwd: new URL("..", import.meta.url).pathname,
        env: { ...process.env, AZURE_LOG_LEVEL: "verbose", DEBUG: "*" },
        encoding: "utf8",
      });
      expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: "" });
      return JSON.parse(child.stdout) as string[];
    };
    expect(output(0)).toEqual([]);
    expect(output(6)).toEqual([
      "azure-sdk: azure:identity:warning warning line",
      "azure-sdk: azure:identity:info info line",
    ]);
  });
});
