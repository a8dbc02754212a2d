/**
 * The tier's two last lines, added up across its test files (which vitest runs in separate
 * workers, so each records its cells as JSON lines in a file):
 *
 *   kubelet conformance: <versions>: N passed, M failed
 *   upstream differential: <plugins and versions>: N scenarios, M unexplained
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const file = resolve(import.meta.dirname, "../.conformance-runs.jsonl");

export type Cell =
  /** One kubelet conformance cell: a minor, a provider, a config, a request apiVersion. */
  | { kind: "kubelet"; kubelet: string; ok: boolean }
  /** One differential scenario: upstream's answer against ours, explained or not. */
  | { kind: "upstream"; plugin: string; version: string; explained: boolean };

export function record(cell: Cell): void {
  appendFileSync(file, `${JSON.stringify(cell)}\n`);
}

export function resetRecords(): void {
  rmSync(file, { force: true });
}

export function summaryLines(): string[] {
  const cells: Cell[] = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Cell)
    : [];
  const kubelet = cells.filter((c): c is Extract<Cell, { kind: "kubelet" }> => c.kind === "kubelet");
  const upstream = cells.filter((c): c is Extract<Cell, { kind: "upstream" }> => c.kind === "upstream");
  const versions = [...new Set(kubelet.map((c) => c.kubelet))].sort(_byVersion).join(", ") || "none run";
  const plugins =
    [...new Set(upstream.map((c) => `${c.plugin} ${c.version}`))].sort().join(", ") || "none run";
  const passed = kubelet.filter((c) => c.ok).length;
  const unexplained = upstream.filter((c) => !c.explained).length;
  return [
    `kubelet conformance: ${versions}: ${passed} passed, ${kubelet.length - passed} failed`,
    `upstream differential: ${plugins}: ${upstream.length} scenarios, ${unexplained} unexplained`,
  ];
}

function _byVersion(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
