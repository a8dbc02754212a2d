/**
 * The command line's conventions: help, version, usage mistakes as one line and exit status 2,
 * never a stack trace. In process through runCli, plus the real executable once.
 */

import { versionLine } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { runSim } from "../testdata/harness.ts";
import { parseArgs, UsageError } from "./args.ts";
import { type CliIo, runCli } from "./commands.ts";
import { VERSION } from "./version.ts";

async function cli(argv: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (chunk) => (stdout += chunk) },
    stderr: { write: (chunk) => (stderr += chunk) },
    stdin: (async function* () {
      yield stdin;
    })(),
    env: {},
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe("help and version", () => {
  it("--version prints the name, version, runtime and platform", async () => {
    expect(await cli(["--version"])).toEqual({
      code: 0,
      stdout: `${versionLine("kubelet-credential-sim", VERSION)}\n`,
      stderr: "",
    });
    expect((await cli(["lookup", "--version"])).stdout).toBe(
      `${versionLine("kubelet-credential-sim", VERSION)}\n`,
    );
  });

  it("--help lists the commands; no arguments prints it on stderr with status 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: kubelet-credential-sim COMMAND [flags] [args]");
    for (const command of ["validate", "lookup", "verify"]) expect(help.stdout).toContain(`  ${command}  `);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(help.stdout);
  });

  it.each(["validate", "lookup", "verify"])("%s --help documents its flags", async (command) => {
    const help = await cli([command, "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: kubelet-credential-sim ${command}`));
    expect(help.stdout).toContain("  --help ");
    expect(await cli(["help", command])).toEqual(help);
    expect((await cli([command, "-h"])).stdout).toBe(help.stdout);
  });

  it("lookup --help names every flag", async () => {
    const help = (await cli(["lookup", "--help"])).stdout;
    for (const flag of [
      "--config PATH",
      "--bin-dir DIR",
      "--service-account-token TOKEN",
      "--service-account NAMESPACE/NAME",
      "--service-account-annotation KEY=VALUE",
      "--timeout DURATION",
      "--output text|json",
      "--show-secrets",
      "--verify",
    ]) {
      expect(help).toContain(flag);
    }
  });
});

describe("usage mistakes: one line on stderr, status 2", () => {
  it.each([
    [["frobnicate"], 'unknown command "frobnicate" (see kubelet-credential-sim --help)'],
    [["--frob"], 'unknown flag "--frob" (see kubelet-credential-sim --help)'],
    [["help", "frob"], 'unknown command "frob" (see kubelet-credential-sim --help)'],
    [["lookup", "--frob", "x"], 'unknown flag "--frob" (see kubelet-credential-sim lookup --help)'],
    [["lookup", "-c", "x"], 'unknown flag "-c" (see kubelet-credential-sim lookup --help)'],
    [
      ["lookup", "--bin-dir", "d", "x.io/a"],
      "flag --config is required (see kubelet-credential-sim lookup --help)",
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d"],
      "missing argument IMAGE (see kubelet-credential-sim lookup --help)",
    ],
    [
      ["lookup", "--config", "c", "--bin-dir"],
      "flag --bin-dir needs a value (see kubelet-credential-sim lookup --help)",
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d", "--output", "yaml", "x"],
      'flag --output takes text or json, not "yaml" (see kubelet-credential-sim lookup --help)',
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d", "--timeout", "5", "x"],
      'flag --timeout takes a Go duration such as 10s, not "5" (see kubelet-credential-sim lookup --help)',
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d", "--timeout", "2m", "x"],
      "flag --timeout must be more than 0s and at most the kubelet's 1m, not 2m (see kubelet-credential-sim lookup --help)",
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d", "--verify=maybe", "x"],
      'flag --verify takes true or false, not "maybe" (see kubelet-credential-sim lookup --help)',
    ],
    [
      ["lookup", "--config", "c", "--bin-dir", "d", "--service-account", "ns/sa", "x"],
      "--service-account and --service-account-annotation describe the token's service account: give --service-account-token too (see kubelet-credential-sim lookup --help)",
    ],
    [
      [
        "lookup",
        "--config",
        "c",
        "--bin-dir",
        "d",
        "--service-account-token",
        "t",
        "--service-account",
        "nope",
        "x",
      ],
      'flag --service-account takes NAMESPACE/NAME, not "nope" (see kubelet-credential-sim lookup --help)',
    ],
    [
      [
        "lookup",
        "--config",
        "c",
        "--bin-dir",
        "d",
        "--service-account-token",
        "t",
        "--service-account-annotation",
        "novalue",
        "x",
      ],
      'flag --service-account-annotation takes KEY=VALUE, not "novalue" (see kubelet-credential-sim lookup --help)',
    ],
    [
      ["verify", "r.io/a", "--username", "u", "--password-stdin", "extra"],
      'unexpected argument "extra" (see kubelet-credential-sim verify --help)',
    ],
  ])("%j", async (argv, message) => {
    const result = await cli(argv);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `kubelet-credential-sim: ${message}\n` });
  });

  it("verify refuses an empty password on stdin", async () => {
    const result = await cli(["verify", "r.io/a", "--username", "u", "--password-stdin"], "\n");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("stdin held no password");
  });
});

describe("parseArgs", () => {
  const defs = {
    name: { type: "string", description: "" },
    on: { type: "boolean", description: "" },
    many: { type: "list", description: "" },
  } as const;

  it("reads pflag's forms", () => {
    const parsed = parseArgs(["--name=a=b", "pos", "--on", "--many", "1", "--many=2", "--", "--name"], defs);
    expect(parsed.strings.get("name")).toBe("a=b");
    expect(parsed.booleans.get("on")).toBe(true);
    expect(parsed.lists.get("many")).toEqual(["1", "2"]);
    expect(parsed.positionals).toEqual(["pos", "--name"]);
    expect(parseArgs(["--on=false", "-"], defs).booleans.get("on")).toBe(false);
    expect(parseArgs(["--on=false", "-"], defs).positionals).toEqual(["-"]);
  });

  it("refuses what it does not know", () => {
    expect(() => parseArgs(["--nope"], defs)).toThrow(UsageError);
    expect(() => parseArgs(["--=x"], defs)).toThrow('unknown flag "--=x"');
    expect(() => parseArgs(["-name", "x"], defs)).toThrow('unknown flag "-name"');
  });
});

describe("the executable", () => {
  it("runs from source with a shebang, and never prints a stack trace", async () => {
    const version = await runSim(["--version"]);
    expect(version).toMatchObject({
      code: 0,
      stdout: `${versionLine("kubelet-credential-sim", VERSION)}\n`,
      stderr: "",
    });
    const bad = await runSim([
      "lookup",
      "--config",
      "/nonexistent/dir/c.yaml",
      "--bin-dir",
      "/nonexistent",
      "x.io/a",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // One line: the kubelet's own error, which says it all.
    expect(bad.stderr).toMatch(
      /^kubelet-credential-sim: the kubelet 1\.37 would not start: unable to access path "\/nonexistent\/dir\/c\.yaml": [^\n]+\n$/,
    );
  });
});
