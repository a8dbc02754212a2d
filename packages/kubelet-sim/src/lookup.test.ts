/**
 * The simulator as a library, with real plugin processes: the cache keys of service account mode
 * (which one CLI run, having one token, cannot show) and cache expiry on an injected clock.
 */
import type { CredentialProvider } from "@kubelet-credential-provider/config";
import { afterAll, describe, expect, it } from "vitest";
import { countLines, makeBinDir, scratch } from "../testdata/harness.ts";
import { createKubeletSimulator } from "./lookup.ts";
import type { ServiceAccount } from "./tokens.ts";

const tmp = scratch("library");
afterAll(() => tmp.remove());
const binDir = makeBinDir(tmp.path("bin"), {
  "by-sa": "counting",
  "by-token": "counting",
  clock: "counting",
  optional: "counting",
});

function provider(
  name: string,
  env: Record<string, string>,
  extra: Partial<CredentialProvider> = {},
): CredentialProvider {
  return {
    name,
    matchImages: ["*.sa.test"],
    defaultCacheDuration: "10m",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    env: Object.entries({ COUNT_FILE: tmp.path(`${name}.count`), ...env }).map(([n, value]) => ({
      name: n,
      value,
    })),
    ...extra,
  };
}

const account = (token: string, extra: Partial<ServiceAccount> = {}): ServiceAccount => ({
  namespace: "team",
  name: "puller",
  token,
  annotations: { "example.com/tenant": "t1" },
  ...extra,
});

const tokenAttributes = (cacheType: string, requireServiceAccount = true) => ({
  tokenAttributes: {
    serviceAccountTokenAudience: "registry",
    cacheType,
    requireServiceAccount,
    optionalServiceAccountAnnotationKeys: ["example.com/tenant"],
  },
});

function simulator(providers: CredentialProvider[], now?: () => number) {
  return createKubeletSimulator({
    config: { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers },
    binDir,
    env: { PATH: process.env.PATH },
    ...(now === undefined ? {} : { now }),
  });
}

describe("service account cache keys", () => {
  it("cacheType ServiceAccount: one entry per service account and annotations, whatever the token", async () => {
    const kubelet = simulator([
      provider("by-sa", { CACHE_KEY_TYPE: "Registry" }, tokenAttributes("ServiceAccount")),
    ]);
    const served = async (serviceAccount: ServiceAccount) => {
      const report = await kubelet.lookup("a.sa.test/app", { serviceAccount });
      return report.providers[0]?.cached ? "cache" : "exec";
    };
    expect(await served(account("token-1"))).toBe("exec");
    expect(await served(account("token-2"))).toBe("cache");
    expect(await served(account("token-3", { name: "other" }))).toBe("exec");
    expect(await served(account("token-4", { annotations: { "example.com/tenant": "t2" } }))).toBe("exec");
    // An annotation the provider does not pass is not part of the key.
    expect(
      await served(account("token-5", { annotations: { "example.com/tenant": "t1", unrelated: "x" } })),
    ).toBe("cache");
    expect(await served(account("token-6", { uid: "another-uid" }))).toBe("exec");
    expect(kubelet.execCounts()).toEqual({ "by-sa": 4 });
  });

  it("cacheType Token: one entry per token", async () => {
    const kubelet = simulator([provider("by-token", { CACHE_KEY_TYPE: "Global" }, tokenAttributes("Token"))]);
    for (const token of ["token-1", "token-2", "token-1", "token-2"]) {
      await kubelet.lookup("a.sa.test/app", { serviceAccount: account(token) });
    }
    expect(kubelet.execCounts()).toEqual({ "by-token": 2 });
    const tokens = countLines(tmp.path("by-token.count")).map(
      (line) => JSON.parse(line.split(" args=")[0] as string).serviceAccountToken,
    );
    expect(tokens).toEqual(["token-1", "token-2"]);
  });

  it("a pod without a service account has its own entry", async () => {
    const kubelet = simulator([provider("optional", {}, tokenAttributes("ServiceAccount", false))]);
    await kubelet.lookup("a.sa.test/app", { serviceAccount: null });
    await kubelet.lookup("a.sa.test/app", { serviceAccount: account("token-1") });
    await kubelet.lookup("a.sa.test/other", { serviceAccount: null });
    expect(kubelet.execCounts()).toEqual({ optional: 2 });
  });

  it("registers every token and password as a secret", async () => {
    const kubelet = simulator([provider("by-sa", {}, tokenAttributes("ServiceAccount"))]);
    const report = await kubelet.lookup("b.sa.test/app", { serviceAccount: account("token-registered") });
    const password = report.credentials[0]?.password ?? "";
    expect(kubelet.secrets.redact(`token-registered ${password}`)).toBe("[REDACTED] [REDACTED]");
  });
});

describe("cache expiry", () => {
  it("serves an answer until its cacheDuration has passed", async () => {
    let now = 0;
    const kubelet = simulator(
      [provider("clock", { CACHE_KEY_TYPE: "Registry", CACHE_DURATION: "1m" })],
      () => now,
    );
    const served = async () =>
      (await kubelet.lookup("a.sa.test/app")).providers[0]?.cached ? "cache" : "exec";
    expect(await served()).toBe("exec");
    now = 60_000;
    expect(await served()).toBe("cache");
    now = 60_001;
    expect(await served()).toBe("exec");
    expect(kubelet.execCounts()).toEqual({ clock: 2 });
  });
});
