/**
 * `--kubelet-version` on the command line, run as a process from source: parsing and usage errors,
 * help, and the 1.33/1.34 differences through `validate`, `lookup` and `config set-provider`, with
 * the kubelet's texts verbatim.
 */
import { mkdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { makeBinDir, provider, runSim, scratch, writeConfig } from "../testdata/harness.ts";

const tmp = scratch("kubelet-version");
afterAll(() => tmp.remove());

const SUPPORTED = "1.33, 1.34, 1.35, 1.36 or 1.37";
const TOKEN = "header.payload.signature";
const attributes = (extra: Record<string, unknown> = {}) => ({
  tokenAttributes: {
    serviceAccountTokenAudience: "registry.example",
    requireServiceAccount: false,
    ...extra,
  },
});

describe("--kubelet-version: parsing and help", () => {
  it("is a usage error (exit 2) for a minor not modelled, naming the supported ones", async () => {
    const config = writeConfig(tmp.path("ok.json"), [provider("p1", ["a.io"])]);
    const run = await runSim(["validate", "--kubelet-version", "1.32", config]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe(
      `kubelet-credential-sim: flag --kubelet-version takes a kubelet minor version, ${SUPPORTED} (as 1.34, v1.34 or 1.34.12), not "1.32" (see kubelet-credential-sim validate --help)\n`,
    );
    const lookup = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      tmp.dir,
      "--kubelet-version=v1.34-rc",
      "a.io/x",
    ]);
    expect(lookup.code).toBe(2);
    expect(lookup.stderr).toContain(`flag --kubelet-version takes a kubelet minor version, ${SUPPORTED}`);
    const accepted = await runSim(["validate", "--kubelet-version=v1.33.7", config]);
    expect(accepted).toMatchObject({ code: 0, stdout: "valid: 1 provider from 1 file\n", stderr: "" });
  });

  it("is in the help of every command that reads a config", async () => {
    for (const command of [
      ["validate"],
      ["lookup"],
      ["config", "set-provider"],
      ["config", "remove-provider"],
    ]) {
      const help = await runSim([...command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(
        /--kubelet-version MINOR +The kubelet to agree with: 1\.33, 1\.34, 1\.35, 1\.36 or 1\.37 \(also v1\.34, 1\.34\.12; default 1\.37\)\./,
      );
    }
    expect((await runSim(["verify", "--help"])).stdout).not.toContain("--kubelet-version");
  });
});

describe("--kubelet-version: validate", () => {
  it("a directory: refused by 1.33, read by 1.34 and by default (1.37)", async () => {
    const dir = tmp.path("conf.d");
    mkdirSync(dir);
    writeConfig(`${dir}/a.yaml`, [provider("p1", ["a.io"])]);
    const old = await runSim(["validate", "--kubelet-version", "1.33", dir]);
    const error = `unable to read external registry credential provider configuration from ${JSON.stringify(dir)}: read ${dir}: is a directory`;
    expect(old).toMatchObject({
      code: 1,
      stdout: `${error}\n`,
      stderr: `kubelet-credential-sim: the kubelet 1.33 would not start: ${error}\n`,
    });
    for (const flags of [["--kubelet-version", "1.34"], []]) {
      expect(await runSim(["validate", ...flags, dir])).toMatchObject({
        code: 0,
        stdout: "valid: 1 provider from 1 file\n",
      });
    }
  });

  it("a repeated name: 1.33's validation error, 1.34's merge error", async () => {
    const config = writeConfig(tmp.path("dup.json"), [provider("p1", ["a.io"]), provider("p1", ["b.io"])]);
    const old = await runSim(["validate", "--kubelet-version", "v1.33", config]);
    expect(old.code).toBe(1);
    expect(old.stdout).toBe(`${config}: providers[1].name: Duplicate value: "p1"\n`);
    expect(old.stderr).toBe(
      'kubelet-credential-sim: the kubelet 1.33 would not start: failed to validate credential provider config: providers.name: Duplicate value: "p1"\n',
    );
    const now = await runSim(["validate", "--kubelet-version", "1.34.12", config]);
    expect(now).toMatchObject({
      code: 1,
      stdout: 'duplicate provider name "p1" found in configuration file(s)\n',
      stderr:
        'kubelet-credential-sim: the kubelet 1.34 would not start: duplicate provider name "p1" found in configuration file(s)\n',
    });
  });
});

describe("--kubelet-version: lookup", () => {
  const binDir = makeBinDir(tmp.path("bin"), { echo: "counting" });
  const lookup = (config: string, flags: string[]) =>
    runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--service-account-token",
      TOKEN,
      "--output",
      "json",
      ...flags,
      "echo.v.test/app",
    ]);

  it("1.33: tokenAttributes without cacheType; the plugin may echo the token; a note about the feature gate", async () => {
    const config = writeConfig(tmp.path("sa-133.json"), [
      provider("echo", ["echo.v.test"], { env: { PASSWORD: "token" }, ...attributes() }),
    ]);
    const run = await lookup(config, ["--kubelet-version", "1.33"]);
    expect(run.code).toBe(0);
    const [entry] = JSON.parse(run.stdout) as { credentials: { provider: string }[] }[];
    expect(entry?.credentials).toEqual([
      { provider: "echo", key: "echo.v.test", username: "user", password: "<redacted>" },
    ]);
    expect(run.stderr).toContain(
      "kubelet-credential-sim: note: kubelet 1.33 accepts tokenAttributes only with --feature-gates=KubeletServiceAccountTokenForCredentialProviders=true",
    );
    expect(run.stdout + run.stderr).not.toContain(TOKEN);

    // The same config does not start a 1.34+ kubelet: cacheType is required.
    const now = await lookup(config, []);
    expect(now.code).toBe(1);
    expect(now.stderr.split("\n")).toEqual([
      "kubelet-credential-sim: the kubelet 1.37 would not start: failed to validate credential provider config: providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
      `${config}: providers[0].tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token`,
      "",
    ]);
  });

  it("1.34+: cacheType ServiceAccount; the echoed token is refused. 1.33 does not start with cacheType", async () => {
    const config = writeConfig(tmp.path("sa-134.json"), [
      provider("echo", ["echo.v.test"], {
        env: { PASSWORD: "token" },
        ...attributes({ cacheType: "ServiceAccount" }),
      }),
    ]);
    const now = await lookup(config, ["--kubelet-version", "1.34"]);
    expect(now.code).toBe(1);
    const [entry] = JSON.parse(now.stdout) as { providers: { error?: string }[]; credentials: unknown[] }[];
    expect(entry?.credentials).toEqual([]);
    expect(entry?.providers[0]?.error).toBe(
      `Credential provider plugin returned the service account token as the password for image "echo.v.test/app", which is not allowed when service account cache type is not set to 'Token'`,
    );
    expect(now.stderr).not.toContain("note:");

    const old = await lookup(config, ["--kubelet-version", "1.33"]);
    expect(old).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `kubelet-credential-sim: the kubelet 1.33 would not start: error decoding config ${config}: strict decoding error: unknown field "providers[0].tokenAttributes.cacheType"\n`,
    });
  });
});

describe("--kubelet-version: config set-provider", () => {
  it("checks the result with the chosen kubelet's rules", async () => {
    const config = writeConfig(tmp.path("edit.json"), [provider("p1", ["a.io"])]);
    const entry = JSON.stringify(provider("sa", ["sa.io"], attributes({ cacheType: "Token" })));
    const old = await runSim([
      "config",
      "set-provider",
      "--config",
      config,
      "--provider-json",
      entry,
      "--dry-run",
      "--kubelet-version",
      "1.33",
    ]);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain(
      `the kubelet could not read the result: error decoding config ${config}: strict decoding error: unknown field "providers[1].tokenAttributes.cacheType"`,
    );
    const now = await runSim([
      "config",
      "set-provider",
      "--config",
      config,
      "--provider-json",
      entry,
      "--dry-run",
    ]);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain(`would add sa to ${config}`);
  });
});
