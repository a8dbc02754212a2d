/**
 * The rehearsal's last line, from what its tests recorded (vitest runs them in a worker, the line
 * is printed by the reporter in vitest.config.ts):
 *
 *   release rehearsal: published core, config, ecr, acr, gcp ... to Verdaccio 6.10.4 (73 packages
 *   mirrored); npm-installed and ran ecr, acr, gcp on Node v22.18.0; install.sh installed ... over HTTPS;
 *   docs/writing-a-provider.md from an empty directory built ... with kcp-build and passed its test
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const file = resolve(import.meta.dirname, "../.rehearsal-runs.jsonl");

export type Record =
  | { kind: "npm"; name: string; version: string; node: string }
  | { kind: "assets"; names: string[]; arch: string; source: string }
  | { kind: "registry"; verdaccio: string; mirrored: number; published: string[] }
  /** `arches`: the platforms built, as `<os>-<arch>`. */
  | { kind: "vendor"; executable: string; arches: string[]; node: string };

export function recordSummary(record: Record): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

export function resetSummary(): void {
  rmSync(file, { force: true });
}

export function summaryLine(): string {
  const records: Record[] = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record)
    : [];
  const registry = records.find((r): r is Extract<Record, { kind: "registry" }> => r.kind === "registry");
  const npm = records.filter((r): r is Extract<Record, { kind: "npm" }> => r.kind === "npm");
  const assets = records.find((r): r is Extract<Record, { kind: "assets" }> => r.kind === "assets");
  const vendor = records.find((r): r is Extract<Record, { kind: "vendor" }> => r.kind === "vendor");
  if (!registry || npm.length === 0 || !assets || !vendor)
    return "release rehearsal: incomplete (see the failures above)";
  const node = [...new Set(npm.map((r) => r.node))].join(", ");
  return (
    `release rehearsal: published ${registry.published.join(", ")} to Verdaccio ${registry.verdaccio} ` +
    `(${registry.mirrored} third-party packages mirrored); npm-installed ${npm.map((r) => `${r.name}@${r.version}`).join(", ")} ` +
    `from it and ran them on Node ${node}; install.sh installed ${assets.names.join(", ")} (linux-${assets.arch}) ` +
    `from the release assets over ${assets.source}; docs/writing-a-provider.md from an empty directory built ` +
    `${vendor.executable} for ${vendor.arches.join(", ")} with kcp-build and passed its kubelet-credential-sim test on Node ${vendor.node}`
  );
}
