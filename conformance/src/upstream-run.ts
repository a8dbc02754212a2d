/**
 * One side of a differential scenario: a plugin executable (upstream's or ours) run once against
 * its own fresh cloud emulator, with a request on stdin, and what it did reduced to the fields the
 * scenarios compare: exit status, the answer (every secret replaced by a placeholder naming which
 * emulator-issued secret it is), the class of the first stderr line, and the emulator endpoints
 * called, in order. Nothing here prints a secret.
 */
import { spawn } from "node:child_process";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";

export interface RawRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** What a run is compared on. */
export interface Observation {
  exit: string;
  /** The parsed answer, normalised (placeholders, rounded durations), as canonical JSON; or `(empty)`. */
  answer: string;
  /** The first stderr line's class: `silent`, `klog I|W|E|F`, `usage` (cobra's `Error: …`), `text`. */
  stderr: string;
  /** Emulator endpoint ids (the narrower alias where there is one) and host names, in call order. */
  calls: string;
}

export const FIELDS = ["exit", "answer", "stderr", "calls"] as const;
export type Field = (typeof FIELDS)[number];

const TIMEOUT_MS = 90_000;

/** Runs `file` with exactly `env` (no PATH, no HOME, as the kubelet's exec is typically configured). */
export function runBinary(
  file: string,
  args: readonly string[],
  stdin: string,
  env: Record<string, string>,
): Promise<RawRun> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    // A plugin that exits before reading stdin closes the pipe under us: not an error of the run.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Reduces a run to its observation; `known` names secrets the emulator's ledger does not hold. */
export function observe(emulator: Emulator, run: RawRun, known: Record<string, string> = {}): Observation {
  const label = secretLabeller(emulator, known);
  return {
    exit: run.signal ? `signal ${run.signal}` : String(run.code),
    answer: normaliseAnswer(run.stdout, label),
    stderr: stderrClass(run.stderr),
    calls: _collapse(emulator.requests().map((call) => `${call.alias ?? call.id} ${_hostname(call.url)}`)),
  };
}

/** stderr's first lines with every secret masked, to say why a run failed (never compared). */
export function stderrExcerpt(emulator: Emulator, run: RawRun, known: Record<string, string> = {}): string {
  let text = run.stderr.split("\n").slice(0, 4).join("\n");
  for (const secret of [...emulator.issued(), ...Object.values(known)])
    text = text.replaceAll(secret, "<secret>");
  return text;
}

/**
 * The secrets stderr holds verbatim (the ledger's and `known`'s), for the no-leak check; stdout's
 * answer carries the one it hands to the runtime by design.
 */
export function leakedSecrets(emulator: Emulator, run: RawRun, known: Record<string, string> = {}): string[] {
  return [...emulator.issued(), ...Object.values(known)].filter(
    (s) => s.length >= 8 && run.stderr.includes(s),
  );
}

/** Calls in order; a call repeated in a row (retries, whose count depends on timing) shown once. */
function _collapse(calls: string[]): string {
  const out: string[] = [];
  for (const call of calls) {
    const last = out.at(-1);
    if (last === call || last === `${call} (repeated)`) out[out.length - 1] = `${call} (repeated)`;
    else out.push(call);
  }
  return out.join(" → ") || "(none)";
}

function _hostname(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "?";
  }
}

export function stderrClass(stderr: string): string {
  const first = stderr.split("\n").find((line) => line.trim() !== "");
  if (first === undefined) return "silent";
  const klog = /^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d{6}\s+\d+ /.exec(first);
  if (klog) return `klog ${klog[1]}`;
  if (first.startsWith("Error: ")) return "usage";
  return "text";
}

type Labeller = (value: string) => string;

const PREFIX_LABELS: Array<[string, string]> = [
  ["ecr-public-pw-", "<ecr public token>"],
  ["ecr-pw-", "<ecr token>"],
  ["entra-secret-", "<entra client secret>"],
  ["ya29.gce-", "<metadata access token>"],
  ["ya29.dockercfg-", "<dockercfg password>"],
  ["ya29.sa-", "<service account access token>"],
  ["ya29.sts-", "<sts access token>"],
  ["ya29.iam-", "<impersonated access token>"],
  ["web-identity-", "<web identity token>"],
];

function secretLabeller(emulator: Emulator, known: Record<string, string>): Labeller {
  const issued = new Set(emulator.issued());
  const byValue = new Map(Object.entries(known).map(([name, value]) => [value, `<${name}>`]));
  return (value) => {
    if (value === "") return "";
    const named = byValue.get(value);
    if (named) return named;
    if (issued.has(value)) {
      const prefix = PREFIX_LABELS.find(([p]) => value.startsWith(p));
      if (prefix) return prefix[1];
      const claims = _jwtClaims(value);
      if (claims?.grant_type === "refresh_token") return "<acr refresh token>";
      if (claims) return "<entra access token>";
      return "<emulator secret>";
    }
    return "<unrecognised value>";
  };
}

function _jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function normaliseAnswer(stdout: string, label: Labeller): string {
  if (stdout.trim() === "") return "(empty)";
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    return "(not JSON)";
  }
  return canonicalJson(_normalise(answer, label, []));
}

function _normalise(value: unknown, label: Labeller, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => _normalise(v, label, [...path, String(i)]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, _normalise(v, label, [...path, k])]));
  }
  if (typeof value !== "string") return value;
  const key = path.at(-1);
  if (path[0] === "auth" && (key === "password" || key === "auth" || key === "identitytoken"))
    return label(value);
  if (path.length === 1 && key === "cacheDuration") return roundDuration(value);
  return value;
}

/**
 * A Go duration rounded to the minute when it is at least one (half a token's remaining validity
 * depends on how long the run took), re-rendered as Go renders it.
 */
export function roundDuration(value: string): string {
  const seconds = _goSeconds(value);
  if (seconds === undefined || seconds < 60) return value;
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h > 0 ? `${h}h` : ""}${m}m0s`;
}

function _goSeconds(value: string): number | undefined {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0);
}

/** JSON with object keys sorted, so that field order never makes a difference. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(_sorted(value));
}

function _sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, _sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
