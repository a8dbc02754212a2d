/**
 * One lookup scenario, run twice: by the real kubelet code of a minor (the Go harness, which
 * registers the plugins from the config and bin dir as the kubelet does and looks up each image
 * `repeat` times), and by `kubelet-credential-sim lookup --kubelet-version <minor>` with the same
 * images as often. Both exec the provider through a wrapper that counts its execs and keeps its
 * answers, so each run's exec count is what the provider saw, not what either side reports, and
 * each credential the kubelet returns can be traced to the provider that answered it.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ourBinDir } from "./go.ts";

export interface ServiceAccount {
  token: string;
  annotations: Record<string, string>;
}

export interface LookupScenario {
  /** The config's text, as the kubelet reads it (a file, or a directory of files). */
  config: string | Record<string, string>;
  /**
   * The providers the config names, each our executable of that name, or of the name given
   * (`{ "example-a": "example-credential-provider" }`), wrapped.
   */
  providers: string[] | Record<string, string>;
  images: string[];
  repeat: number;
  env: Record<string, string>;
  serviceAccount?: ServiceAccount;
}

/** A lookup's result, as either side reports it. */
export interface Found {
  image: string;
  found: boolean;
  /** In the order returned, with the provider that answered each. */
  credentials: Array<{ provider: string; username: string; password: string }>;
}

export interface SideResult {
  code: number | null;
  /** The registration (config) error, if the run failed before any lookup. */
  error?: string;
  lookups: Found[];
  /** Provider execs, by provider name. */
  execs: Record<string, number>;
  stderr: string;
}

/** Runs the scenario through the kubelet harness and through the simulator. */
export async function runBoth(
  harness: string,
  minor: string,
  scenario: LookupScenario,
): Promise<{ kubelet: SideResult; sim: SideResult }> {
  const dir = mkdtempSync(join(tmpdir(), "kcp-conformance-"));
  try {
    const config = _writeConfig(dir, scenario.config);
    const kubelet = await _side(dir, "kubelet", scenario, (binDir) =>
      _exec(harness, [..._harnessArgs(config, binDir, scenario)], scenario.env).then((run) => ({
        ...run,
        ..._parseHarness(run.stdout),
      })),
    );
    const sim = await _side(dir, "sim", scenario, (binDir) =>
      _exec(
        join(ourBinDir, "kubelet-credential-sim"),
        _simArgs(config, binDir, minor, scenario),
        scenario.env,
      ).then((run) => ({ ...run, ..._parseSim(run) })),
    );
    return { kubelet, sim };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function _side(
  dir: string,
  name: string,
  scenario: LookupScenario,
  run: (binDir: string) => Promise<Omit<SideResult, "execs">>,
): Promise<SideResult> {
  const binDir = join(dir, `bin-${name}`);
  const counts = join(dir, `execs-${name}`);
  mkdirSync(binDir);
  mkdirSync(counts);
  const providers = Array.isArray(scenario.providers)
    ? Object.fromEntries(scenario.providers.map((provider) => [provider, provider]))
    : scenario.providers;
  for (const [provider, executable] of Object.entries(providers)) {
    const wrapper = join(binDir, provider);
    // The kubelet execs <bin dir>/<name> with the config's args and env; the wrapper counts the
    // exec, and keeps a copy of the answer on its way to the kubelet.
    writeFileSync(
      wrapper,
      `#!/bin/bash\nset -o pipefail\necho x >> '${join(counts, `${provider}.execs`)}'\n` +
        `'${join(ourBinDir, executable)}' "$@" | tee -a '${join(counts, `${provider}.answers`)}'\n`,
    );
    chmodSync(wrapper, 0o755);
  }
  const result = await run(binDir);
  const execs: Record<string, number> = {};
  const answeredBy = new Map<string, string>();
  for (const provider of Object.keys(providers)) {
    execs[provider] = _lines(join(counts, `${provider}.execs`)).length;
    for (const line of _lines(join(counts, `${provider}.answers`))) {
      const auth = (JSON.parse(line) as { auth?: Record<string, { password?: string }> }).auth ?? {};
      for (const entry of Object.values(auth)) if (entry.password) answeredBy.set(entry.password, provider);
    }
  }
  const lookups = result.lookups.map((lookup) => ({
    ...lookup,
    credentials: lookup.credentials.map((c) => ({
      ...c,
      provider: c.provider || answeredBy.get(c.password) || "?",
    })),
  }));
  return { ...result, lookups, execs };
}

function _lines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

function _writeConfig(dir: string, config: LookupScenario["config"]): string {
  if (typeof config === "string") {
    const file = join(dir, "config.yaml");
    writeFileSync(file, config);
    return file;
  }
  const configDir = join(dir, "config.d");
  mkdirSync(configDir);
  for (const [name, text] of Object.entries(config)) writeFileSync(join(configDir, name), text);
  return configDir;
}

function _harnessArgs(config: string, binDir: string, scenario: LookupScenario): string[] {
  const args = ["--config", config, "--bin-dir", binDir, "--repeat", String(scenario.repeat)];
  for (const image of scenario.images) args.push("--image", image);
  const sa = scenario.serviceAccount;
  if (sa) {
    args.push("--service-account-token", sa.token);
    for (const [key, value] of Object.entries(sa.annotations)) {
      args.push("--service-account-annotation", `${key}=${value}`);
    }
  }
  return args;
}

function _simArgs(config: string, binDir: string, minor: string, scenario: LookupScenario): string[] {
  const args = ["lookup", "--kubelet-version", minor, "--config", config, "--bin-dir", binDir];
  args.push("--output", "json");
  const sa = scenario.serviceAccount;
  if (sa) {
    args.push("--service-account-token", sa.token);
    for (const [key, value] of Object.entries(sa.annotations)) {
      args.push("--service-account-annotation", `${key}=${value}`);
    }
  }
  for (let round = 0; round < scenario.repeat; round++) args.push(...scenario.images);
  return args;
}

function _parseHarness(stdout: string): Pick<SideResult, "error" | "lookups"> {
  const lines = stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Found & { error?: string });
  const failed = lines.find((line) => line.error !== undefined && line.image === undefined);
  if (failed) return { error: failed.error, lookups: [] };
  return {
    // The harness does not know the provider: _side finds it from the answers it kept.
    lookups: lines.map(({ image, found, credentials }) => ({
      image,
      found,
      credentials: credentials.map(({ username, password }) => ({ provider: "", username, password })),
    })),
  };
}

interface _SimEntry {
  image: string;
  error?: string;
  credentials: Array<{ provider: string; username: string; password: string }>;
}

function _parseSim(run: {
  code: number | null;
  stdout: string;
  stderr: string;
}): Pick<SideResult, "error" | "lookups"> {
  let entries: _SimEntry[];
  try {
    entries = JSON.parse(run.stdout) as _SimEntry[];
  } catch {
    // No report: the config was refused; the last stderr line says why.
    return { error: run.stderr.trim().split("\n").at(-1) ?? "", lookups: [] };
  }
  return {
    lookups: entries.map((entry) => ({
      image: entry.image,
      found: entry.credentials.length > 0,
      credentials: entry.credentials.map(({ provider, username, password }) => ({
        provider,
        username,
        password,
      })),
    })),
  };
}

function _exec(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...env }, maxBuffer: 8 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
      },
    );
  });
}
