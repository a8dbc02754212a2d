/**
 * What the suite ran, added up across its test files: each file records its cases here (one JSON
 * line each, in a file, since vitest runs files in separate workers), and the reporter in
 * vitest.config.ts prints the totals as the suite's last line.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";

/** `ADVERSARIAL_LONG=1` (`pnpm --filter @kubelet-credential-provider/adversarial test:long`): the long variants. */
export const LONG = process.env.ADVERSARIAL_LONG === "1";

const file = resolve(import.meta.dirname, "../.adversarial-runs.jsonl");

export type Ran =
  | { kind: "fuzz"; provider: string; cases: number }
  | {
      kind: "fault";
      provider: string;
      endpoint: string;
      fault: string;
      mode: "transient" | "persistent";
      ok: boolean;
    }
  | { kind: "secrets"; provider: string; path: string; ok: boolean }
  | { kind: "burst"; provider: string; setting: string; execs: number; answered: number };

export function record(ran: Ran): void {
  appendFileSync(file, `${JSON.stringify(ran)}\n`);
}

export function resetRecords(): void {
  rmSync(file, { force: true });
}

/** One line: what ran, and how it ended. */
export function summaryLine(passed: number, failed: number): string {
  const runs: Ran[] = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Ran)
    : [];
  const fuzz = runs
    .filter((r) => r.kind === "fuzz")
    .reduce((n, r) => n + (r.kind === "fuzz" ? r.cases : 0), 0);
  const faults = runs.filter((r) => r.kind === "fault");
  const endpoints = new Set(faults.map((r) => (r.kind === "fault" ? r.endpoint : "")));
  const kinds = new Set(faults.map((r) => (r.kind === "fault" ? r.fault : "")));
  const secrets = runs.filter((r) => r.kind === "secrets").length;
  const bursts = runs.filter((r) => r.kind === "burst");
  const execs = bursts.reduce((n, r) => n + (r.kind === "burst" ? r.execs : 0), 0);
  const answered = bursts.reduce((n, r) => n + (r.kind === "burst" ? r.answered : 0), 0);
  return (
    `adversarial${LONG ? " (long)" : ""}: ${fuzz} fuzzed requests, ${faults.length} fault cells ` +
    `(${endpoints.size} endpoints x ${kinds.size} faults), ${secrets} secret scans, ` +
    `${bursts.length} bursts (${answered}/${execs} execs answered): ${passed} passed, ${failed} failed`
  );
}
