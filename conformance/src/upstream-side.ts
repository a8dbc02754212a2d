/**
 * Runs one scenario on both sides, upstream first, each against a fresh emulator, and compares the
 * observations field by field against the named differences.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import type { DifferenceField, NamedDifference } from "./upstream-differences.ts";
import { explain } from "./upstream-differences.ts";
import type { Observation } from "./upstream-run.ts";
import { FIELDS, leakedSecrets, observe, runBinary, stderrExcerpt } from "./upstream-run.ts";
import type { Scenario, SideContext } from "./upstream-scenarios.ts";
import { requestJson } from "./upstream-scenarios.ts";

export type Side = "upstream" | "ours";

export interface SideResult {
  observation: Observation;
  /** Secrets found verbatim in stdout or stderr (a leak: upstream's are only reported). */
  leaked: number;
  serviceAccountToken: boolean;
  ms: number;
  /** For failure messages only: stderr's first lines, secrets masked. */
  excerpt: string;
}

export interface FieldVerdict {
  field: DifferenceField;
  equal: boolean;
  difference?: NamedDifference;
}

export interface ScenarioResult {
  scenario: Scenario;
  upstream: SideResult;
  ours: SideResult;
  verdicts: FieldVerdict[];
  explained: boolean;
}

/**
 * Runs `binary` (upstream's) or ours; identity-binding scenarios run upstream through `ibWrapper`,
 * which gives it the emulator's CA at the fixed /etc/kubernetes/certs/ca.crt in a private mount
 * namespace.
 */
export async function runScenario(
  scenario: Scenario,
  binaries: Record<Side, string>,
  options: { dir: string; ibWrapper: string; apiServerAddress?: string },
): Promise<ScenarioResult> {
  const shared = new Map<string, unknown>();
  const upstream = await _runSide(scenario, "upstream", binaries.upstream, shared, options);
  const ours = await _runSide(scenario, "ours", binaries.ours, shared, options);
  const verdicts: FieldVerdict[] = FIELDS.map((field) => {
    const equal = upstream.observation[field] === ours.observation[field];
    return equal ? { field, equal } : { field, equal, difference: explain(scenario.id, field) };
  });
  if (scenario.oursArgs)
    verdicts.push({ field: "args", equal: false, difference: explain(scenario.id, "args") });
  const explained = verdicts.every((v) => v.equal || v.difference !== undefined);
  return { scenario, upstream, ours, verdicts, explained };
}

async function _runSide(
  scenario: Scenario,
  side: Side,
  binary: string,
  shared: Map<string, unknown>,
  options: { dir: string; ibWrapper: string; apiServerAddress?: string },
): Promise<SideResult> {
  const { dir } = options;
  const emulator = await startEmulator(
    scenario.identityBindings && options.apiServerAddress
      ? { apiServerAddress: options.apiServerAddress }
      : {},
  );
  try {
    const known: Record<string, string> = {};
    const ctx: SideContext = {
      emulator,
      dir,
      known,
      once: <T>(key: string, make: () => T): T => {
        if (!shared.has(key)) shared.set(key, make());
        return shared.get(key) as T;
      },
    };
    const prepared = (await scenario.prepare?.(ctx)) ?? {};
    for (const [name, content] of Object.entries(prepared.files ?? {})) {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
    }
    // Ours' --ib-ca-file, and what the wrapper copies to /etc/kubernetes/certs/ca.crt for upstream.
    writeFileSync(join(dir, "ca.crt"), emulator.caPem, { mode: 0o644 });
    const fill = (arg: string) =>
      arg.replaceAll("{dir}", dir).replaceAll("{ib-ip}", options.apiServerAddress ?? "127.0.0.1");
    let args = scenario.args.map(fill);
    if (side === "ours") args.push(...(scenario.oursArgs ?? []).map(fill));
    let file = binary;
    if (side === "upstream" && scenario.identityBindings) {
      const overlay = join(dir, "overlay");
      mkdirSync(overlay, { recursive: true });
      args = [overlay, join(dir, "ca.crt"), binary, ...args];
      file = options.ibWrapper;
    }
    const env = { ...emulator.env(), SSL_CERT_FILE: emulator.caFile, ...prepared.env };
    const run = await runBinary(file, args, requestJson(scenario, prepared.serviceAccountToken), env);
    return {
      observation: observe(emulator, run, known),
      leaked: leakedSecrets(emulator, run, known).length,
      serviceAccountToken: prepared.serviceAccountToken !== undefined,
      ms: run.ms,
      excerpt: stderrExcerpt(emulator, run, known),
    };
  } finally {
    await emulator.close();
  }
}

/**
 * The identity-bindings wrapper: a private mount namespace where a tmpfs-backed overlay on /etc
 * holds the emulator's CA at /etc/kubernetes/certs/ca.crt, then the plugin. The real /etc is
 * never written. Arguments: the scratch dir for the tmpfs, the CA file, the plugin, its args.
 */
export function writeIbWrapper(path: string): void {
  writeFileSync(
    path,
    `#!/bin/sh
exec /usr/bin/unshare -m --propagation private /bin/sh -c '
set -e
scratch=$1; ca=$2; shift 2
/usr/bin/mount -t tmpfs tmpfs "$scratch"
/usr/bin/mkdir -p "$scratch/up" "$scratch/work"
/usr/bin/mount -t overlay overlay -o "lowerdir=/etc,upperdir=$scratch/up,workdir=$scratch/work" /etc
/usr/bin/mkdir -p /etc/kubernetes/certs
/usr/bin/cp "$ca" /etc/kubernetes/certs/ca.crt
exec "$@"' sh "$@"
`,
  );
  chmodSync(path, 0o755);
}
