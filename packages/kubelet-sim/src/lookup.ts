/**
 * The kubelet's side of a credential lookup for one image (`pluginProvider.provide` and
 * `providersDockerKeyring.Lookup`, kubelet 1.33 to 1.37, see kubelet-versions.ts): normalise the image, ask every provider whose
 * matchImages match it (from the provider's cache, else by running its plugin), and merge the
 * answers in the keyring's order.
 *
 * A simulator keeps its caches for its lifetime, so later images of one run hit what earlier ones
 * cached, exactly as on a node; it counts how often it ran each plugin.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CredentialProvider, CredentialProviderConfig } from "@kubelet-credential-provider/config";
import { parseImage, SecretRegistry, urlsMatch } from "@kubelet-credential-provider/core";
import { type CacheInfo, cacheBaseKey, cacheLifetimeNanos, PluginCache } from "./cache.ts";
import { decodePluginResponse, invalidCacheKeyTypeError, type PluginAuth, passwordsIn } from "./decode.ts";
import { KUBELET_PLUGIN_TIMEOUT_MS, pluginPath, runFailure, runPluginProcess } from "./exec.ts";
import { mergeCredentials } from "./keyring.ts";
import { DEFAULT_KUBELET_VERSION, type KubeletVersion } from "./kubelet-versions.ts";
import { whyNoMatch } from "./patterns.ts";
import { encodePluginRequest } from "./request.ts";
import { messageOf } from "./text.ts";
import { echoGuardError, type ServiceAccount, serviceAccountDecision } from "./tokens.ts";

/** How one matching provider answered for an image. */
export interface ProviderReport {
  name: string;
  /** The plugin ran for this image (whether or not it then failed). */
  executed: boolean;
  /** The answer came from the provider's cache. */
  cached: boolean;
  /** Why the provider gave nothing: the kubelet's reason. Secrets are not masked here. */
  error?: string;
  /** How the kubelet keeps the answer (for an answer, fresh or from the cache). */
  cache?: CacheInfo;
}

/** A pattern that did not match an image, and why (patterns.ts's whyNoMatch). */
export interface UnmatchedPattern {
  provider: string;
  pattern: string;
  reason: string;
}

/** A credential for the image, as the kubelet would hand it to the container runtime. */
export interface CredentialReport {
  provider: string;
  key: string;
  username: string;
  password: string;
}

/** Everything the kubelet would do for one image. */
export interface ImageReport {
  /** The image as given. */
  image: string;
  /** The image as the kubelet looks it up: the repository, no tag or digest; null when invalid. */
  normalizedImage: string | null;
  /** Set when the image reference is invalid (the kubelet would not pull it at all). */
  error?: string;
  /** The providers whose matchImages match, in config order. */
  providers: ProviderReport[];
  /** When no provider matches: every provider's patterns, each with why it does not match. */
  unmatched?: UnmatchedPattern[];
  /** The credentials that match the image, in the order the kubelet would try them. */
  credentials: CredentialReport[];
}

/** Options for {@link createKubeletSimulator}. */
export interface KubeletSimulatorOptions {
  /** A validated config (see loadConfig). */
  config: CredentialProviderConfig;
  /** The kubelet's --image-credential-provider-bin-dir. */
  binDir: string;
  /** The plugin timeout; the kubelet's is a fixed 1 minute. */
  timeoutMs?: number;
  /** The kubelet's own environment, which plugins inherit. Default: this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The pod's service account; none by default. */
  serviceAccount?: ServiceAccount;
  /** Every password and token met is registered here. Default: a new registry. */
  secrets?: SecretRegistry;
  /** The clock for cache expiry, in milliseconds. Default Date.now. */
  now?: () => number;
  /**
   * Where to keep each plugin run's raw stderr (`N-NAME.stderr`), unredacted: for operators who
   * want to see what a plugin said when it succeeded, and for tests that scan it for leaks.
   */
  pluginStderrDir?: string;
  /** The kubelet minor to behave as (the echo guard, the global cache key). Default: the newest. */
  kubeletVersion?: KubeletVersion;
}

/** Per-lookup options. */
export interface LookupOptions {
  /** The pod's service account for this lookup, overriding the simulator's; null for none. */
  serviceAccount?: ServiceAccount | null;
}

/** A kubelet's credential provider machinery, with its caches. */
export interface KubeletSimulator {
  /** Looks up the credentials for one image as the kubelet would before pulling it. */
  lookup(image: string, options?: LookupOptions): Promise<ImageReport>;
  /** How many times each provider's plugin was run, for every provider in config order. */
  execCounts(): Record<string, number>;
  readonly secrets: SecretRegistry;
}

interface _ProviderState {
  provider: CredentialProvider;
  cache: PluginCache;
  execs: number;
}

/** Creates a simulator. It checks nothing up front: see `checkPluginBinaries` and `loadConfig`. */
export function createKubeletSimulator(options: KubeletSimulatorOptions): KubeletSimulator {
  const secrets = options.secrets ?? new SecretRegistry();
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? KUBELET_PLUGIN_TIMEOUT_MS;
  const baseEnv = options.env ?? process.env;
  const kubelet = options.kubeletVersion ?? DEFAULT_KUBELET_VERSION;
  const states: _ProviderState[] = options.config.providers.map((provider) => ({
    provider,
    cache: new PluginCache(now, kubelet.globalCacheKey),
    execs: 0,
  }));
  secrets.add(options.serviceAccount?.token);
  let runNumber = 0;

  const provide = async (
    state: _ProviderState,
    image: string,
    serviceAccount: ServiceAccount | undefined,
  ): Promise<{ report: ProviderReport; auth: Record<string, PluginAuth> }> => {
    const { provider } = state;
    const report: ProviderReport = { name: provider.name, executed: false, cached: false };
    const fail = (error: string) => ({ report: { ...report, error }, auth: {} });

    const decision = serviceAccountDecision(provider, serviceAccount);
    if (!decision.run) return fail(decision.error);

    const cached = state.cache.get(image, decision.cacheKey);
    if (cached !== undefined)
      return { report: { ...report, cached: true, cache: cached.info }, auth: cached.auth };

    const path = pluginPath(options.binDir, provider.name);
    const stdin = encodePluginRequest(provider.apiVersion, image, {
      ...(decision.token === undefined ? {} : { token: decision.token }),
      ...(decision.annotations === undefined ? {} : { annotations: decision.annotations }),
    });
    state.execs++;
    report.executed = true;
    const run = await runPluginProcess({
      path,
      args: provider.args ?? [],
      env: _pluginEnv(baseEnv, provider),
      stdin,
      timeoutMs,
    });
    if (options.pluginStderrDir !== undefined) {
      runNumber++;
      await mkdir(options.pluginStderrDir, { recursive: true });
      await writeFile(join(options.pluginStderrDir, `${runNumber}-${provider.name}.stderr`), run.stderr);
    }
    const stdout = run.stdout.toString("utf8");
    // Before any message can quote them: whatever the plugin meant as passwords is a secret.
    for (const password of passwordsIn(stdout)) secrets.add(password);

    const failure = runFailure(provider.name, image, run, path);
    if (failure !== undefined) return fail(failure);
    const decoded = decodePluginResponse(stdout, provider.apiVersion);
    if (!decoded.ok) return fail(decoded.error);
    const response = decoded.response;
    for (const entry of Object.values(response.auth)) secrets.add(entry.password);

    // The echo guard came with cacheType, in 1.34.
    if (decision.echoGuard && kubelet.echoGuard) {
      const echoed = echoGuardError(response.auth, decision.token, image);
      if (echoed !== undefined) return fail(echoed);
    }
    const baseKey = cacheBaseKey(response.cacheKeyType, image, kubelet.globalCacheKey);
    if (baseKey === undefined) return fail(invalidCacheKeyTypeError(response.cacheKeyType));

    const lifetime = cacheLifetimeNanos(response.cacheDuration, provider.defaultCacheDuration);
    const info: CacheInfo = {
      keyType: response.cacheKeyType,
      key: baseKey,
      duration: response.cacheDuration ?? provider.defaultCacheDuration ?? "0s",
      durationFrom: response.cacheDuration === undefined ? "defaultCacheDuration" : "cacheDuration",
      expiresAt:
        lifetime === undefined ? null : new Date(now() + Number(lifetime / 1_000_000n)).toISOString(),
    };
    if (lifetime !== undefined) state.cache.add(baseKey, decision.cacheKey, response.auth, lifetime, info);
    return { report: { ...report, cache: info }, auth: response.auth };
  };

  return {
    secrets,
    execCounts: () => Object.fromEntries(states.map((state) => [state.provider.name, state.execs])),
    async lookup(image, lookupOptions = {}) {
      const serviceAccount =
        lookupOptions.serviceAccount === undefined
          ? options.serviceAccount
          : (lookupOptions.serviceAccount ?? undefined);
      secrets.add(serviceAccount?.token);
      const report: ImageReport = { image, normalizedImage: null, providers: [], credentials: [] };
      let normalized: string;
      try {
        normalized = parseImage(image).repository;
      } catch (error) {
        return { ...report, error: messageOf(error) };
      }
      report.normalizedImage = normalized;

      const answers: { provider: string; auth: Record<string, PluginAuth> }[] = [];
      for (const state of states) {
        if (!state.provider.matchImages.some((pattern) => urlsMatch(pattern, normalized))) continue;
        const { report: providerReport, auth } = await provide(state, normalized, serviceAccount);
        report.providers.push(providerReport);
        answers.push({ provider: state.provider.name, auth });
      }
      report.credentials = mergeCredentials(normalized, answers);
      if (report.providers.length === 0) {
        report.unmatched = states.flatMap(({ provider }) =>
          provider.matchImages.map((pattern) => ({
            provider: provider.name,
            pattern,
            reason: whyNoMatch(pattern, normalized) ?? "matches",
          })),
        );
      }
      return report;
    },
  };
}

/** The kubelet's environment plus the provider's env entries; a config entry wins. */
function _pluginEnv(
  base: Readonly<Record<string, string | undefined>>,
  provider: CredentialProvider,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  for (const { name, value } of provider.env ?? []) env[name] = value;
  return env;
}
