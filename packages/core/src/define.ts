/**
 * The SDK surface a vendor writes a provider with: `defineProvider({...})`, then `runProvider`.
 */
import type { FlagSpecs, FlagValues, PositionalSpec } from "./args.ts";
import { builtinFlags } from "./args.ts";
import type { HttpClient } from "./http.ts";
import type { Logger } from "./log.ts";
import { parseSchemelessUrl } from "./match.ts";
import type { CredentialProviderRequest, CredentialProviderResult } from "./protocol.ts";
import type { SecretRegistry } from "./secrets.ts";

/** What a provider is given for one request. */
export interface ProviderContext<F extends FlagSpecs = FlagSpecs> {
  /** The declared flags, parsed. */
  flags: FlagValues<F>;
  /** Positional arguments from the kubelet config's `args`, in order. */
  positionals: string[];
  /**
   * Aborted when the deadline passes. Pass it to every outbound call: the harness answers with an
   * error at the deadline whether or not the provider has returned.
   */
  signal: AbortSignal;
  /** When the deadline passes, in milliseconds since the epoch. */
  deadline: number;
  log: Logger;
  /** Register every secret the provider learns so that it can never be logged. */
  secrets: SecretRegistry;
  /** The outbound HTTP client: timeouts, retries, proxy settings, secrets kept out of logs. */
  http: HttpClient;
  /** The process environment (the kubelet's, plus the config's `env`). */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * What a vendor writes: the provider's name, version, description, flags and `getCredentials`.
 */
export interface ProviderDefinition<F extends FlagSpecs = FlagSpecs> {
  /** The executable's name, as the kubelet config's `providers[].name` gives it. */
  name: string;
  version: string;
  /** One or two sentences for --help. */
  description: string;
  flags?: F;
  positionals?: readonly PositionalSpec[];
  /** Ignore positional arguments beyond `positionals` (the Go plugins tolerate a verb). */
  allowExtraPositionals?: boolean;
  /** The matchImages an operator would configure; shown in --help and used by config generators. */
  defaultMatchImages?: readonly string[];
  /**
   * Answers one request. Throw a `CredentialProviderError` to fail with a clear message; anything
   * else thrown is reported as an internal error. Return the response without kind and
   * apiVersion: the harness answers in the request's apiVersion and validates the answer.
   */
  getCredentials(
    request: CredentialProviderRequest,
    context: ProviderContext<F>,
  ): Promise<CredentialProviderResult> | CredentialProviderResult;
}

/**
 * A provider as `defineProvider` returns it, its defaults filled in: what `runProvider` runs.
 */
export interface Provider<F extends FlagSpecs = FlagSpecs> extends ProviderDefinition<F> {
  flags: F;
  positionals: readonly PositionalSpec[];
  allowExtraPositionals: boolean;
  defaultMatchImages: readonly string[];
}

/**
 * Checks a provider definition once, at start-up, so that a vendor's mistake (a bad name, a flag
 * that shadows a built-in one, an unparsable default pattern) fails their first test run rather
 * than a node.
 */
// biome-ignore lint/complexity/noBannedTypes: an empty flag set is the default.
export function defineProvider<const F extends FlagSpecs = {}>(
  definition: ProviderDefinition<F>,
): Provider<F> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(definition.name)) {
    throw new TypeError(
      `provider name ${JSON.stringify(definition.name)} must be a lowercase executable name`,
    );
  }
  if (!definition.version) throw new TypeError(`provider ${definition.name} needs a version`);
  const flags = (definition.flags ?? {}) as F;
  const shorts = new Set<string>();
  for (const [name, flag] of Object.entries(flags)) {
    if (Object.hasOwn(builtinFlags, name))
      throw new TypeError(`flag --${name} is built in to every provider`);
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(name))
      throw new TypeError(`flag name ${JSON.stringify(name)} is invalid`);
    const short = flag.short;
    if (short === undefined) continue;
    if (!/^[A-Za-z]$/.test(short) || short === "h" || short === "v" || shorts.has(short)) {
      throw new TypeError(`flag --${name}: shorthand ${JSON.stringify(short)} is not one free letter`);
    }
    shorts.add(short);
  }
  for (const pattern of definition.defaultMatchImages ?? []) parseSchemelessUrl(pattern);
  return {
    ...definition,
    flags,
    positionals: definition.positionals ?? [],
    allowExtraPositionals: definition.allowExtraPositionals ?? false,
    defaultMatchImages: definition.defaultMatchImages ?? [],
  };
}
