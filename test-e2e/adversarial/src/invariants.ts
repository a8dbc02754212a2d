/**
 * What must hold of every run, whatever was thrown at it: exit 0 with exactly one valid response
 * in the request's apiVersion, or exit 1 with nothing on stdout and the error as one line; never
 * a stack trace; and no secret on stderr in any form a library could print it in.
 */
import { credentialProviderResponseSchema } from "@kubelet-credential-provider/core";
import type { ExecResult } from "./exec.ts";

export interface Verdict {
  ok: boolean;
  /** Why not, for the failure message. */
  problems: string[];
}

export interface OutcomeRules {
  provider: string;
  /** The request's apiVersion, when the request had one the answer must carry. */
  apiVersion?: string;
  /** At -v 0 the error is the only stderr line; above, it is the last. */
  verbose?: boolean;
  withinMs: number;
}

/** Checks the protocol invariant of one run. */
export function checkOutcome(run: ExecResult, rules: OutcomeRules): Verdict {
  const problems: string[] = [];
  if (run.signal) problems.push(`killed by ${run.signal}`);
  if (run.ms > rules.withinMs) problems.push(`took ${Math.round(run.ms)} ms, over ${rules.withinMs} ms`);
  if (/\n\s+at .+[(:]\d+/.test(run.stderr) || /^\s+at /m.test(run.stderr))
    problems.push("a stack trace on stderr");
  if (run.code === 0) {
    const lines = run.stdout.split("\n");
    if (lines.length !== 2 || lines[1] !== "") problems.push("stdout is not exactly one line");
    try {
      const parsed = credentialProviderResponseSchema.safeParse(JSON.parse(run.stdout));
      if (!parsed.success) problems.push(`stdout is not a valid response: ${parsed.error.message}`);
      else if (rules.apiVersion && parsed.data.apiVersion !== rules.apiVersion) {
        problems.push(`answered in ${parsed.data.apiVersion}, asked in ${rules.apiVersion}`);
      }
    } catch {
      problems.push("stdout is not JSON");
    }
  } else if (run.code === 1) {
    if (run.stdout !== "") problems.push("exit 1 with something on stdout");
    const lines = run.stderr.split("\n").filter((line) => line !== "");
    if (lines.length === 0) problems.push("exit 1 with nothing on stderr");
    else if (!rules.verbose && lines.length !== 1) problems.push(`${lines.length} stderr lines at -v 0`);
    const last = lines.at(-1) ?? "";
    if (!last.startsWith(`${rules.provider}: `))
      problems.push(`the error line does not name ${rules.provider}`);
  } else {
    problems.push(`exit status ${run.code}`);
  }
  return { ok: problems.length === 0, problems };
}

/** The error line of a failed run (the last stderr line). */
export function errorLine(run: ExecResult): string {
  return run.stderr.split("\n").filter(Boolean).at(-1) ?? "";
}

/**
 * Every form in which a secret could be printed: as text, JSON-escaped, URL-encoded, as hex (as
 * Node prints a Buffer, spaced, and as a plain hex string) and as base64 (at each of the three
 * alignments it can take inside a longer base64 text). Short values are skipped: they would match
 * by chance.
 */
export function secretForms(secret: string): string[] {
  if (secret.length < 8) return [];
  const bytes = Buffer.from(secret);
  const hex = bytes.toString("hex");
  const forms = new Set([
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    hex,
    // Node's <Buffer 74 6f 6b ...> cuts after 50 bytes: the first 16 are enough to recognise.
    hex.slice(0, 32).replace(/(..)(?!$)/g, "$1 "),
  ]);
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // Drop the characters that mix in the padding bytes or the end, keep a long stable middle.
    const start = Math.ceil((shift * 4) / 3) + 1;
    const middle = padded.slice(start, Math.max(start, padded.length - 4));
    if (middle.length >= 12) forms.add(middle);
  }
  return [...forms];
}

/** The secrets (by a short label, never the value) that appear in `text` in any form. */
export function leakedSecrets(text: string, secrets: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const secret of secrets) {
    if (secretForms(secret).some((form) => text.includes(form))) {
      leaked.push(`${secret.slice(0, 4)}… (${secret.length} chars)`);
    }
  }
  return leaked;
}

/** `text` with every form of every secret masked, for a failure message that must not leak either. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets)
    for (const form of secretForms(secret)) out = out.replaceAll(form, "[SECRET]");
  return out;
}
