/** Small helpers that every provider needs and would otherwise each get slightly wrong. */
import type https from "node:https";
import { formatDuration } from "./duration.ts";
import type { EnvProxyAgentOptions } from "./proxy-agent.ts";

export interface CacheDurationOptions {
  /** Share of the remaining validity the kubelet may cache for. Default 0.5, as the ECR plugin does. */
  fraction?: number;
  /** Upper bound in seconds. */
  maxSeconds?: number;
  now?: number;
}

/**
 * The `cacheDuration` for a credential that expires at `expiresAt`: a share of the remaining
 * validity in whole seconds, so the kubelet drops it well before the registry would refuse it.
 * Never negative; an expired credential gives "0s" (do not cache).
 */
export function cacheDurationUntil(expiresAt: Date | number, options: CacheDurationOptions = {}): string {
  const { fraction = 0.5, maxSeconds = Number.POSITIVE_INFINITY, now = Date.now() } = options;
  const expiry = typeof expiresAt === "number" ? expiresAt : expiresAt.getTime();
  const remaining = (expiry - now) / 1000;
  if (!Number.isFinite(remaining) || remaining <= 0) return "0s";
  return formatDuration(Math.max(0, Math.min(maxSeconds, Math.floor(remaining * fraction))));
}

/**
 * An https.Agent that honours HTTPS_PROXY and NO_PROXY, for cloud SDKs that do not (the AWS SDK
 * for JavaScript v3 takes it as `httpsAgent` of its Node HTTP handler). Loaded on demand.
 */
export async function createEnvProxyAgent(options: EnvProxyAgentOptions = {}): Promise<https.Agent> {
  const { EnvProxyAgent } = await import("./proxy-agent.ts");
  return new EnvProxyAgent(options);
}
