/**
 * The lookup report, for people (text) and for programs (JSON). Passwords are `<redacted>` unless
 * shown on purpose. Free text that came from a plugin or a registry (an error, a plugin's stderr)
 * has every registered secret masked. A name (an image, a credential's key, a username) is shown
 * as it is, or `<redacted>` when it is a password as a whole: a password masked inside a host name
 * (`a.exam[REDACTED]le.com` for the password `p`) hides nothing and garbles the report. The service
 * account token is masked everywhere.
 */
import type { SecretRegistry } from "@kubelet-credential-provider/core";
import type { CacheInfo } from "./cache.ts";
import type { ImageReport, UnmatchedPattern } from "./lookup.ts";
import { safeLine, safeLines } from "./text.ts";

/** The placeholder for a password that is not shown. */
export const REDACTED = "<redacted>";

/** An image's report with the verification of its credentials, when asked for. */
export interface LookupEntry extends ImageReport {
  verified?: boolean;
  verifyError?: string;
  /** For the text report: what the registry said. */
  verifyMessage?: string;
}

/** Options for the reports. */
export interface ReportOptions {
  secrets: SecretRegistry;
  /** Print passwords (stdout only). The service account token is still masked. */
  showSecrets: boolean;
  /** Masks only the service account token, for passwords shown on purpose. */
  tokenSecrets: SecretRegistry;
}

/** One entry of `lookup --output json`: what the tests and scripts read (README, "JSON output"). */
export interface LookupJsonEntry {
  image: string;
  normalizedImage: string | null;
  error?: string;
  providers: Array<{ name: string; executed: boolean; cached: boolean; error?: string; cache?: CacheInfo }>;
  unmatched?: UnmatchedPattern[];
  credentials: Array<{ provider: string; key: string; username: string; password: string }>;
  verified?: boolean;
  verifyError?: string;
}

/** The JSON document of `lookup --output json`: one entry per image, in the order given. */
export function lookupJson(entries: readonly LookupEntry[], options: ReportOptions): LookupJsonEntry[] {
  const mask = (text: string) => options.secrets.redact(text);
  const name = (text: string) => _name(text, options);
  return entries.map((entry) => ({
    image: name(entry.image),
    normalizedImage: entry.normalizedImage,
    ...(entry.error === undefined ? {} : { error: mask(entry.error) }),
    providers: entry.providers.map((provider) => ({
      name: provider.name,
      executed: provider.executed,
      cached: provider.cached,
      ...(provider.error === undefined ? {} : { error: mask(provider.error) }),
      ...(provider.cache === undefined
        ? {}
        : { cache: { ...provider.cache, key: name(provider.cache.key) } }),
    })),
    ...(entry.unmatched === undefined ? {} : { unmatched: entry.unmatched }),
    credentials: entry.credentials.map((credential) => ({
      provider: credential.provider,
      key: name(credential.key),
      username: name(credential.username),
      password: _password(credential.password, options),
    })),
    ...(entry.verified === undefined ? {} : { verified: entry.verified }),
    ...(entry.verifyError === undefined ? {} : { verifyError: mask(entry.verifyError) }),
  }));
}

/** The text report: a block per image. */
export function lookupText(entries: readonly LookupEntry[], options: ReportOptions): string[] {
  const safe = (text: string) => safeLine(text, options.secrets);
  const name = (text: string) => safeLine(_name(text, options), options.tokenSecrets);
  const lines: string[] = [];
  for (const entry of entries) {
    if (entry.normalizedImage === null) {
      lines.push(`${name(entry.image)}: invalid image: ${safe(entry.error ?? "")}`);
      continue;
    }
    lines.push(`${name(entry.image)} -> ${name(entry.normalizedImage)}`);
    if (entry.providers.length === 0) {
      lines.push("  no provider matches this image: the kubelet pulls it without plugin credentials");
      for (const { provider, pattern, reason } of entry.unmatched ?? []) {
        lines.push(`    ${provider} ${JSON.stringify(pattern)}: ${safe(reason)}`);
      }
    }
    for (const provider of entry.providers) {
      if (provider.error !== undefined) {
        const [first = "", ...rest] = safeLines(provider.error, options.secrets);
        lines.push(`  provider ${provider.name}: failed${provider.executed ? " (executed)" : ""}: ${first}`);
        for (const line of rest) lines.push(`      ${line}`);
      } else {
        const how = provider.cached ? "served from cache" : "executed";
        lines.push(
          `  provider ${provider.name}: ${how}${provider.cache ? `; ${_cacheText(provider.cache, name)}` : ""}`,
        );
      }
    }
    for (const credential of entry.credentials) {
      lines.push(
        `  credential ${name(credential.key)} from ${credential.provider}: username ${JSON.stringify(name(credential.username))}, password ${options.showSecrets ? JSON.stringify(_password(credential.password, options)) : REDACTED}`,
      );
    }
    if (entry.providers.length > 0 && entry.credentials.length === 0) {
      lines.push("  no credential matches this image: the kubelet pulls it without credentials");
    }
    if (entry.verified !== undefined) {
      const message = safe(entry.verifyMessage ?? entry.verifyError ?? "");
      lines.push(`  verify: ${entry.verified ? message : `not accepted: ${message}`}`);
    }
  }
  return lines;
}

/**
 * The summary table the text report ends with: a row per image and provider that matched it (or
 * none), what the kubelet got, and how long it keeps it.
 */
export function lookupSummary(entries: readonly LookupEntry[], options: ReportOptions): string[] {
  const name = (text: string) => safeLine(_name(text, options), options.tokenSecrets);
  const rows: string[][] = [["IMAGE", "PROVIDER", "ANSWER", "CACHE KEY", "FOR", "UNTIL"]];
  for (const entry of entries) {
    const image = name(entry.normalizedImage ?? entry.image);
    if (entry.normalizedImage === null) rows.push([image, "-", "invalid image", "", "", ""]);
    else if (entry.providers.length === 0) rows.push([image, "-", "no provider matches", "", "", ""]);
    for (const provider of entry.providers) {
      const answer = provider.error !== undefined ? "failed" : provider.cached ? "from cache" : "executed";
      const cache = provider.cache;
      rows.push([
        image,
        provider.name,
        answer,
        cache ? `${cache.keyType} ${name(cache.key)}` : "",
        cache ? cache.duration : "",
        cache ? (cache.expiresAt ?? "not cached") : "",
      ]);
    }
  }
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) =>
    `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ")}`.trimEnd(),
  );
}

/** `cached by Registry "registry.example.com" for 6h (the answer's cacheDuration), until 2026-…` */
function _cacheText(cache: CacheInfo, name: (text: string) => string): string {
  const source =
    cache.durationFrom === "cacheDuration"
      ? "the answer's cacheDuration"
      : "the provider's defaultCacheDuration";
  if (cache.expiresAt === null) return `not cached (${cache.duration}, ${source})`;
  return `cached by ${cache.keyType} ${JSON.stringify(name(cache.key))} for ${cache.duration} (${source}), until ${cache.expiresAt}`;
}

/** `executed NAME N times` (`1 time`), one line per configured provider. */
export function execCountLines(counts: Readonly<Record<string, number>>): string[] {
  return Object.entries(counts).map(
    ([name, count]) => `executed ${name} ${count} ${count === 1 ? "time" : "times"}`,
  );
}

/** A name as it is, `<redacted>` when it is a password (or several) as a whole; never the token. */
function _name(text: string, options: ReportOptions): string {
  if (
    text !== "" &&
    /^(\[REDACTED\])+$/.test(options.secrets.redact(text)) &&
    !options.tokenSecrets.reveals(text)
  ) {
    return REDACTED;
  }
  return options.tokenSecrets.redact(text);
}

function _password(password: string, options: ReportOptions): string {
  return options.showSecrets ? options.tokenSecrets.redact(password) : REDACTED;
}
