/**
 * Every secret the emulator hands out, so a test can scan every byte a provider wrote for leaks.
 * Each is unique and random with a recognisable prefix: a leak names the endpoint that issued it,
 * and no two calls can be confused.
 */
import { randomBytes } from "node:crypto";

const _prefixPattern = /^[A-Za-z0-9._~-]*$/;

export class Ledger {
  readonly #issued: string[] = [];
  readonly #seen = new Set<string>();

  /** `prefix` + 24 random hex characters, recorded before it is returned. */
  issueSecret(prefix: string): string {
    // The secret travels in headers, URLs and JSON; keep it free of characters that need escaping.
    if (!_prefixPattern.test(prefix))
      throw new Error(`secret prefix ${JSON.stringify(prefix)} is not URL-safe`);
    let secret: string;
    do secret = `${prefix}${randomBytes(12).toString("hex")}`;
    while (this.#seen.has(secret));
    this.#seen.add(secret);
    this.#issued.push(secret);
    return secret;
  }

  /** In issue order; a copy. */
  issued(): string[] {
    return [...this.#issued];
  }

  has(secret: string): boolean {
    return this.#seen.has(secret);
  }
}
