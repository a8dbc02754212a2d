/** gcp.json's `cacheEnv`: KUBE_SIDECAR_CACHE_DURATION and KUBE_SIDECAR_CACHE_TYPE. */
import { describe, expect, it } from "vitest";
import { applyCacheOverrides, cacheOverrides } from "./cache.ts";

describe("cacheOverrides", () => {
  it("unset or empty: no override", () => {
    expect(cacheOverrides({})).toEqual({});
    expect(cacheOverrides({ KUBE_SIDECAR_CACHE_DURATION: "", KUBE_SIDECAR_CACHE_TYPE: "" })).toEqual({});
  });

  it.each([
    ["image", "Image"],
    ["registry", "Registry"],
    ["global", "Global"],
  ])("KUBE_SIDECAR_CACHE_TYPE=%s", (value, keyType) => {
    expect(cacheOverrides({ KUBE_SIDECAR_CACHE_TYPE: value })).toEqual({ cacheKeyType: keyType });
  });

  it.each(["Image", "REGISTRY", "node", " image"])("KUBE_SIDECAR_CACHE_TYPE=%j is refused", (value) => {
    expect(() => cacheOverrides({ KUBE_SIDECAR_CACHE_TYPE: value })).toThrow(
      /not one of image, registry, global/,
    );
  });

  it.each([
    ["10m", "10m0s"],
    ["1h30m", "1h30m0s"],
    ["0", "0s"],
    ["90s", "1m30s"],
    ["1.5h", "1h30m0s"],
  ])("KUBE_SIDECAR_CACHE_DURATION=%s is %s", (value, duration) => {
    expect(cacheOverrides({ KUBE_SIDECAR_CACHE_DURATION: value })).toEqual({ cacheDuration: duration });
  });

  it.each(["10", "ten minutes", "-1m", "1d"])("KUBE_SIDECAR_CACHE_DURATION=%j is refused", (value) => {
    expect(() => cacheOverrides({ KUBE_SIDECAR_CACHE_DURATION: value })).toThrow(
      /KUBE_SIDECAR_CACHE_DURATION/,
    );
  });
});

describe("applyCacheOverrides", () => {
  const result = { cacheKeyType: "Registry" as const, cacheDuration: "29m59s", auth: {} };
  it("replaces only what is set", () => {
    expect(applyCacheOverrides(result, {})).toEqual(result);
    expect(applyCacheOverrides(result, { cacheKeyType: "Image" })).toEqual({
      ...result,
      cacheKeyType: "Image",
    });
    expect(applyCacheOverrides(result, { cacheDuration: "0s" })).toEqual({ ...result, cacheDuration: "0s" });
  });
});
