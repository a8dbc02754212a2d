/**
 * The kubelet's per-provider credential cache (`pluginProvider.cache` in plugin.go): entries keyed
 * by the response's cacheKeyType (the image, its registry host, or one global key) together with the
 * service account part of the key, each with an expiry. A lookup tries the image's key, then its
 * registry's, then the global one. An entry is expired once the clock is past its expiry.
 */
import { parseDurationNanos } from "@kubelet-credential-provider/core";
import type { PluginAuth } from "./decode.ts";

/**
 * The key of a `Global` answer from kubelet 1.34 (the angle brackets keep it apart from any image or
 * host); 1.33's is `global` (see kubelet-versions.ts).
 */
export const GLOBAL_CACHE_KEY = "<global>";

/** The kubelet's parseRegistry: everything before the image's first `/` (host and port). */
export function registryOf(image: string): string {
  return image.split("/")[0] ?? "";
}

/** The base cache key for a cacheKeyType, or undefined for a cacheKeyType the kubelet refuses. */
export function cacheBaseKey(
  cacheKeyType: string,
  image: string,
  globalKey: string = GLOBAL_CACHE_KEY,
): string | undefined {
  if (cacheKeyType === "Image") return image;
  if (cacheKeyType === "Registry") return registryOf(image);
  if (cacheKeyType === "Global") return globalKey;
  return undefined;
}

/**
 * How long the kubelet keeps an answer, in nanoseconds: the response's cacheDuration when present,
 * otherwise the provider's defaultCacheDuration; undefined when the answer is not cached at all
 * (an explicit "0s", or no cacheDuration and a zero default). A negative cacheDuration is cached
 * already expired, as in the kubelet.
 */
export function cacheLifetimeNanos(
  cacheDuration: string | undefined,
  defaultCacheDuration: string | undefined,
): bigint | undefined {
  if (cacheDuration !== undefined) {
    const nanos = parseDurationNanos(cacheDuration);
    return nanos === 0n ? undefined : nanos;
  }
  const fallback = defaultCacheDuration === undefined ? 0n : parseDurationNanos(defaultCacheDuration);
  return fallback === 0n ? undefined : fallback;
}

/** How the kubelet keeps one answer, for the report. */
export interface CacheInfo {
  /** The response's cacheKeyType: `Image`, `Registry` or `Global`. */
  keyType: string;
  /** The key it is kept under: the image, its registry host, or the global key. */
  key: string;
  /** How long: the response's cacheDuration, else the provider's defaultCacheDuration. */
  duration: string;
  /** Which of the two the duration is. */
  durationFrom: "cacheDuration" | "defaultCacheDuration";
  /** When the kubelet drops it (ISO 8601), or null when it is not kept at all (a zero duration). */
  expiresAt: string | null;
}

interface _Entry {
  auth: Record<string, PluginAuth>;
  info: CacheInfo;
  expiresAtNanos: bigint;
}

/** One provider's cache. `now` is in milliseconds, like Date.now. */
export class PluginCache {
  #entries = new Map<string, _Entry>();
  #now: () => number;
  #globalKey: string;

  /** `globalKey`: the kubelet minor's key of a `Global` answer. */
  constructor(now: () => number = Date.now, globalKey: string = GLOBAL_CACHE_KEY) {
    this.#now = now;
    this.#globalKey = globalKey;
  }

  /** The cached answer for `image`: its own key first, then its registry's, then the global one. */
  get(
    image: string,
    serviceAccountKey: string,
  ): { auth: Record<string, PluginAuth>; info: CacheInfo } | undefined {
    for (const base of [image, registryOf(image), this.#globalKey]) {
      const key = _key(base, serviceAccountKey);
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      if (this.#nowNanos() > entry.expiresAtNanos) {
        this.#entries.delete(key);
        continue;
      }
      return { auth: entry.auth, info: entry.info };
    }
    return undefined;
  }

  /** Stores an answer under a base key for `lifetimeNanos` from now; `info` is what the report shows. */
  add(
    baseKey: string,
    serviceAccountKey: string,
    auth: Record<string, PluginAuth>,
    lifetimeNanos: bigint,
    info: CacheInfo,
  ): void {
    this.#entries.set(_key(baseKey, serviceAccountKey), {
      auth,
      info,
      expiresAtNanos: this.#nowNanos() + lifetimeNanos,
    });
  }

  /** The number of entries, expired ones included until a lookup meets them. */
  get size(): number {
    return this.#entries.size;
  }

  #nowNanos(): bigint {
    return BigInt(Math.round(this.#now() * 1000)) * 1000n;
  }
}

// Unambiguous, like the kubelet's length-prefixed cryptobyte key.
function _key(base: string, serviceAccountKey: string): string {
  return JSON.stringify([base, serviceAccountKey]);
}
