import { describe, expect, it } from "vitest";
import { DEFAULT_DEADLINE_MS, parseArgs } from "./args.ts";
import { CredentialProviderError } from "./errors.ts";

const spec = {
  flags: {
    authFlow: { type: "string", description: "flow", default: "gcr" },
    region: { type: "string", description: "region" },
    verbose: { type: "boolean", description: "b" },
    "registry-mirror": { type: "list", description: "mirrors", short: "r" },
  },
  positionals: [{ name: "config", description: "config file" }],
  allowExtraPositionals: false,
} as const;

const parse = (argv: string[]) => parseArgs(argv, spec);

describe("parseArgs", () => {
  it("applies defaults", () => {
    const args = parse([]);
    expect(args.flags).toEqual({ authFlow: "gcr", region: undefined, verbose: false, "registry-mirror": [] });
    expect(args.verbosity).toBe(0);
    expect(args.deadlineMs).toBe(DEFAULT_DEADLINE_MS);
  });

  it.each([
    [["--authFlow=dockercfg"], "dockercfg"],
    [["--authFlow", "dockercfg"], "dockercfg"],
    [["-authFlow", "dockercfg"], "dockercfg"],
    [["-authFlow=dockercfg"], "dockercfg"],
  ])("string flag %j", (argv, value) => {
    expect(parse(argv).flags.authFlow).toBe(value);
  });

  it.each([
    [["-v", "4"], 4],
    [["-v=4"], 4],
    [["-v4"], 4],
    [["--v=6"], 6],
    [["--v", "10"], 10],
    [["--v=99"], 10],
  ])("verbosity %j", (argv, level) => {
    expect(parse(argv).verbosity).toBe(level);
  });

  it("booleans take an optional value", () => {
    expect(parse(["--verbose"]).flags.verbose).toBe(true);
    expect(parse(["--verbose=false"]).flags.verbose).toBe(false);
  });

  it.each([[["-r", "a:b"]], [["-r=a:b"]], [["--registry-mirror", "a:b"]]])(
    "a shorthand %j is its flag",
    (argv) => {
      expect(parse(argv).flags["registry-mirror"]).toEqual(["a:b"]);
    },
  );

  it("a shorthand is not a long name: --r is unknown", () => {
    expect(() => parse(["--r", "a:b"])).toThrow(/unknown flag "--r"/);
  });

  it.each([
    [["--vmodule=gc*=3"]],
    [["--log_dir", "/var/log"]],
    [["--log-dir=/var/log"]],
    [["-logtostderr=false"]],
    [["--alsologtostderr", "--skip_headers", "--one_output=true"]],
    [["--log-flush-frequency", "5s", "--stderrthreshold=INFO", "--log_file_max_size", "1800"]],
  ])("klog's other flags %j are accepted and change nothing", (argv) => {
    const args = parse([...argv, "config.json"]);
    expect(args.flags).toEqual(parse(["config.json"]).flags);
    expect(args.positionals).toEqual(["config.json"]);
    expect(args.verbosity).toBe(0);
  });

  it("a klog boolean still takes only true or false", () => {
    expect(() => parse(["--logtostderr=maybe"])).toThrow(/takes true or false/);
  });

  it("list flags repeat and split on commas", () => {
    expect(parse(["--registry-mirror", "a:b,c:d", "--registry-mirror=e:f"]).flags["registry-mirror"]).toEqual(
      ["a:b", "c:d", "e:f"],
    );
  });

  it("collects positionals and honours --", () => {
    expect(parse(["/etc/azure.json"]).positionals).toEqual(["/etc/azure.json"]);
    expect(parse(["--", "--weird-name"]).positionals).toEqual(["--weird-name"]);
  });

  it("parses --deadline as a Go duration", () => {
    expect(parse(["--deadline=1.5s"]).deadlineMs).toBe(1500);
  });

  it.each([
    [["--nope"], /unknown flag "--nope"/],
    [["--region"], /--region needs a value/],
    [["--verbose=maybe"], /true or false/],
    [["-v", "x"], /-v takes a number/],
    [["--deadline=2m"], /at most 59s/],
    [["--deadline=0s"], /more than 0s/],
    [["--deadline=soon"], /Go duration/],
    [["a", "b"], /unexpected argument "b"/],
  ])("refuses %j", (argv, message) => {
    expect(() => parse(argv)).toThrow(CredentialProviderError);
    expect(() => parse(argv)).toThrow(message);
  });

  it("tolerates extra positionals when the provider asks for it", () => {
    const args = parseArgs(["get-credentials", "extra"], { ...spec, allowExtraPositionals: true });
    expect(args.positionals).toEqual(["get-credentials", "extra"]);
  });

  it("requires required positionals", () => {
    const required = { ...spec, positionals: [{ name: "config", description: "c", required: true }] };
    expect(() => parseArgs([], required)).toThrow(/missing argument CONFIG/);
  });

  it("answers --help and --version without the required positionals", () => {
    const required = { ...spec, positionals: [{ name: "config", description: "c", required: true }] };
    expect(parseArgs(["--help"], required).help).toBe(true);
    expect(parseArgs(["--version"], required).version).toBe(true);
  });
});
