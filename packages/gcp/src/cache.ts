/**
 * The Go plugin's cache overrides: `KUBE_SIDECAR_CACHE_DURATION` (a Go duration) and
 * `KUBE_SIDECAR_CACHE_TYPE` (`image`, `registry` or `global`, case-sensitive) replace the cache
 * fields of every answer. Empty or unset: the provider's own choice. An invalid value is an error,
 * as it is for the Go plugin.
 */
import type { CacheKeyType, CredentialProviderResult } from "@kubelet-credential-provider/core";
import {
  CredentialProviderError,
  formatDurationNanos,
  parseDurationNanos,
} from "@kubelet-credential-provider/core";

export const CACHE_DURATION_ENV = "KUBE_SIDECAR_CACHE_DURATION";
export const CACHE_TYPE_ENV = "KUBE_SIDECAR_CACHE_TYPE";

const CACHE_TYPES: Readonly<Record<string, CacheKeyType>> = {
  image: "Image",
  registry: "Registry",
  global: "Global",
};

export interface CacheOverrides {
  cacheDuration?: string;
  cacheKeyType?: CacheKeyType;
}

/**
 * Reads the overrides from the environment.
 *
 * @throws CredentialProviderError `CONFIG_INVALID`
 */
export function cacheOverrides(env: Readonly<Record<string, string | undefined>>): CacheOverrides {
  const overrides: CacheOverrides = {};
  const duration = env[CACHE_DURATION_ENV];
  if (duration) {
    let nanos: bigint;
    try {
      nanos = parseDurationNanos(duration);
    } catch {
      throw new CredentialProviderError(
        "CONFIG_INVALID",
        `${CACHE_DURATION_ENV} ${JSON.stringify(duration.slice(0, 50))} is not a Go duration such as 10m`,
      );
    }
    if (nanos < 0n) {
      throw new CredentialProviderError("CONFIG_INVALID", `${CACHE_DURATION_ENV} ${duration} is negative`);
    }
    overrides.cacheDuration = formatDurationNanos(nanos);
  }
  const type = env[CACHE_TYPE_ENV];
  if (type) {
    const keyType = Object.hasOwn(CACHE_TYPES, type) ? CACHE_TYPES[type] : undefined;
    if (!keyType) {
      throw new CredentialProviderError(
        "CONFIG_INVALID",
        `${CACHE_TYPE_ENV} ${JSON.stringify(type.slice(0, 50))} is not one of image, registry, global`,
      );
    }
    overrides.cacheKeyType = keyType;
  }
  return overrides;
}

/** The result with the overrides applied. */
export function applyCacheOverrides(
  result: CredentialProviderResult,
  overrides: CacheOverrides,
): CredentialProviderResult {
  return {
    ...result,
    ...(overrides.cacheKeyType !== undefined && { cacheKeyType: overrides.cacheKeyType }),
    ...(overrides.cacheDuration !== undefined && { cacheDuration: overrides.cacheDuration }),
  };
}
