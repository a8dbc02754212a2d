/**
 * Making untrusted text (a plugin's stderr, an error from a registry) safe to print: every
 * registered secret masked, control characters escaped so that nothing can forge a line or drive
 * a terminal.
 */
import type { SecretRegistry } from "@kubelet-credential-provider/core";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const _CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One printable line: secrets masked, line breaks and other control characters escaped. */
export function safeLine(text: string, secrets: SecretRegistry): string {
  const escaped = secrets.redact(text).replace(_CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
  // Escaping could itself spell a secret that contains a backslash sequence: mask once more.
  return secrets.redact(escaped);
}

/** Several printable lines (a plugin's stderr): masked as a whole, then each line made safe. */
export function safeLines(text: string, secrets: SecretRegistry): string[] {
  return secrets
    .redact(text)
    .replace(/\s+$/, "")
    .split(/\r?\n/)
    .map((line) => safeLine(line, secrets));
}

/** The message of anything thrown, on one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s*\n\s*/g, " ");
}
