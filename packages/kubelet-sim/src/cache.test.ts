import { createHash } from "node:crypto";
import type { CredentialProvider } from "@kubelet-credential-provider/config";
import { describe, expect, it } from "vitest";
import {
  type CacheInfo,
  cacheBaseKey,
  cacheLifetimeNanos,
  GLOBAL_CACHE_KEY,
  PluginCache,
  registryOf,
} from "./cache.ts";
import { echoGuardError, serviceAccountDecision, tokenHash } from "./tokens.ts";

describe("cache keys and lifetimes", () => {
  it("keys by image, registry (host and port) or one global key", () => {
    expect(cacheBaseKey("Image", "r.io:5000/a/b")).toBe("r.io:5000/a/b");
    expect(cacheBaseKey("Registry", "r.io:5000/a/b")).toBe("r.io:5000");
    expect(cacheBaseKey("Global", "r.io:5000/a/b")).toBe(GLOBAL_CACHE_KEY);
    expect(cacheBaseKey("image", "r.io/a")).toBeUndefined();
    expect(registryOf("docker.io/library/nginx")).toBe("docker.io");
  });

  it("uses cacheDuration, else defaultCacheDuration; zero means not cached", () => {
    expect(cacheLifetimeNanos("10m", "1h")).toBe(600_000_000_000n);
    expect(cacheLifetimeNanos(undefined, "1h")).toBe(3_600_000_000_000n);
    expect(cacheLifetimeNanos("0s", "1h")).toBeUndefined();
    expect(cacheLifetimeNanos(undefined, "0")).toBeUndefined();
    expect(cacheLifetimeNanos("-1s", "1h")).toBe(-1_000_000_000n);
  });

  it("expires entries once the clock is past their expiry; looks up image, then registry, then global", () => {
    let now = 1_000;
    const cache = new PluginCache(() => now);
    const info = (key: string): CacheInfo => ({
      keyType: "Registry",
      key,
      duration: "1m",
      durationFrom: "cacheDuration",
      expiresAt: "1970-01-01T00:01:01.000Z",
    });
    cache.add("r.io", "", { "r.io": { username: "u", password: "p" } }, 60_000_000_000n, info("r.io"));
    expect(cache.get("r.io/a", "")?.info).toEqual(info("r.io"));
    expect(cache.get("r.io/a", "")).toBeDefined();
    expect(cache.get("r.io/a", "sa")).toBeUndefined();
    now += 60_000;
    expect(cache.get("r.io/b", "")).toBeDefined();
    now += 1;
    expect(cache.get("r.io/b", "")).toBeUndefined();
    cache.add("r.io/a", "", {}, -1n, info("r.io/a"));
    expect(cache.get("r.io/a", "")).toBeUndefined();
    cache.add(
      GLOBAL_CACHE_KEY,
      "",
      { g: { username: "", password: "" } },
      1_000_000_000n,
      info(GLOBAL_CACHE_KEY),
    );
    expect(cache.get("other.io/x", "")?.auth).toEqual({ g: { username: "", password: "" } });
  });
});

describe("service account decisions", () => {
  const provider = (
    attributes: Partial<NonNullable<CredentialProvider["tokenAttributes"]>> | undefined,
  ): CredentialProvider => ({
    name: "p",
    matchImages: ["r.io"],
    defaultCacheDuration: "1m",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    ...(attributes === undefined
      ? {}
      : {
          tokenAttributes: {
            serviceAccountTokenAudience: "aud",
            cacheType: "ServiceAccount",
            requireServiceAccount: true,
            ...attributes,
          },
        }),
  });
  const sa = {
    namespace: "ns",
    name: "sa",
    token: "tok",
    annotations: { "a/req": "1", "a/opt": "2", other: "3" },
  };

  it("ignores the service account for a provider without tokenAttributes", () => {
    expect(serviceAccountDecision(provider(undefined), sa)).toEqual({
      run: true,
      cacheKey: "",
      echoGuard: false,
    });
  });

  it("keys by service account, or by token too with cacheType Token", () => {
    const bySa = serviceAccountDecision(provider({ requiredServiceAccountAnnotationKeys: ["a/req"] }), sa);
    const otherToken = serviceAccountDecision(provider({ requiredServiceAccountAnnotationKeys: ["a/req"] }), {
      ...sa,
      token: "t2",
    });
    expect(bySa).toMatchObject({ run: true, token: "tok", annotations: { "a/req": "1" }, echoGuard: true });
    expect(bySa.run && otherToken.run && bySa.cacheKey === otherToken.cacheKey).toBe(true);
    const byToken = serviceAccountDecision(provider({ cacheType: "Token" }), sa);
    const byOtherToken = serviceAccountDecision(provider({ cacheType: "Token" }), { ...sa, token: "t2" });
    expect(byToken).toMatchObject({ run: true, echoGuard: false });
    expect(byToken.run && byOtherToken.run && byToken.cacheKey !== byOtherToken.cacheKey).toBe(true);
    expect(tokenHash("tok")).toBe(`sha256:${createHash("sha256").update("tok").digest("hex")}`);
    expect(tokenHash("")).toBe("");
  });

  it("runs without a token when no service account is required", () => {
    expect(serviceAccountDecision(provider({ requireServiceAccount: false }), undefined)).toEqual({
      run: true,
      cacheKey: "",
      echoGuard: false,
    });
  });

  it("the echo guard", () => {
    expect(echoGuardError({ r: { password: "tok" } }, "tok", "r.io/a")).toContain(
      "returned the service account token",
    );
    expect(echoGuardError({ r: { password: "other" } }, "tok", "r.io/a")).toBeUndefined();
    expect(echoGuardError({ r: { password: "" } }, undefined, "r.io/a")).toBeUndefined();
  });
});
