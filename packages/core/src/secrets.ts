/**
 * The redaction registry. Every secret the process learns is registered here, and every byte the
 * process writes to stderr passes through `redact`, so a secret cannot be printed by accident at
 * any verbosity, in a log line or in an error message.
 */

const MASK = "[REDACTED]";
const WITHHELD = "[line withheld: it would reveal a secret]";

export class SecretRegistry {
  #secrets = new Set<string>();
  // Longest first, so that a secret containing another is masked as a whole.
  #ordered: string[] = [];

  /**
   * Registers a secret, with the forms in which it is commonly printed (JSON-escaped, URL-encoded),
   * so it stays masked inside a logged request body or a quoted error message.
   */
  add(secret: string | undefined | null): void {
    if (!secret) return;
    const forms = [secret, JSON.stringify(secret).slice(1, -1), _safeEncodeURIComponent(secret)];
    let changed = false;
    for (const form of forms) {
      if (form && !this.#secrets.has(form)) {
        this.#secrets.add(form);
        changed = true;
      }
    }
    if (changed) this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** True when `text` contains a registered secret. */
  reveals(text: string): boolean {
    return this.#ordered.some((secret) => text.includes(secret));
  }

  /**
   * Masks every registered secret in `text`. Overlapping occurrences are masked as one run. If the
   * masked text could still spell a secret (a secret that is part of the mask itself, or one that
   * only appears once its neighbours were masked), the whole text is withheld instead: losing a
   * log line is better than leaking a credential.
   */
  redact(text: string): string {
    if (this.#ordered.length === 0) return text;
    const covered = new Uint8Array(text.length);
    let any = false;
    for (const secret of this.#ordered) {
      for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
        covered.fill(1, at, at + secret.length);
        any = true;
      }
    }
    if (!any) return text;
    let out = "";
    for (let i = 0; i < text.length; i++) {
      if (!covered[i]) out += text[i];
      else if (i === 0 || !covered[i - 1]) out += MASK;
    }
    if (!this.reveals(out)) return out;
    return this.reveals(WITHHELD) ? "" : WITHHELD;
  }
}

function _safeEncodeURIComponent(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // Lone surrogates cannot be URI-encoded, and cannot appear in an encoded body either.
    return value;
  }
}
