/**
 * The package's public surface, by name, and its start-up cost: the kubelet execs the provider on
 * every cache miss, so importing it must load nothing from google-auth-library, gaxios or
 * gcp-metadata (they are loaded by the first request that needs a token from the library).
 */
import { describe, expect, it } from "vitest";
import { probeLoads } from "../../core/testdata/module-probe.ts";
import * as gcp from "./index.ts";

describe("@kubelet-credential-provider/gcp exports", () => {
  it("exactly the documented runtime names", () => {
    expect(Object.keys(gcp).sort()).toEqual([
      "ACCESS_TOKEN_USERNAME",
      "APPLICATION_CREDENTIALS_ENV",
      "AUTH_FLOWS",
      "CACHE_DURATION_ENV",
      "CACHE_TYPE_ENV",
      "ENABLE_WI_IMAGE_PULL_ANNOTATION",
      "GCP_MATCH_IMAGES",
      "GCP_SERVICE_ACCOUNT_ANNOTATION",
      "STS_TOKEN_URL",
      "cacheOverrides",
      "createGcpProvider",
      "decodeDockerConfigAuth",
      "gkeWorkloadIdentityAudience",
      "metadataBaseUrl",
      "parseDockerConfig",
      "parseGoogleRegistry",
      "provider",
      "selectCredentials",
      "selectIdentity",
      "validateOptions",
    ]);
  });
});

const LIBRARIES = [
  "google-auth-library",
  "gaxios",
  "gcp-metadata",
  "google-logging-utils",
  "node-fetch",
] as const;

describe("start-up cost", () => {
  it("importing the package, the provider or the library factory loads none of google-auth-library, gaxios, gcp-metadata, nor https", () => {
    for (const module of ["./index.ts", "./provider.ts", "./google.ts"]) {
      expect({ module, ...loaded(`await import(${JSON.stringify(url(module))});`) }).toEqual({
        module,
        libraries: [],
        https: false,
      });
    }
  });

  it("the probe sees the library once a token source is built", { timeout: 30_000 }, () => {
    const code = `
      const { createGoogleTokenSource } = await import(${JSON.stringify(url("./google.ts"))});
      const { createLogger, SecretRegistry } = await import("@kubelet-credential-provider/core");
      const secrets = new SecretRegistry();
      await createGoogleTokenSource({ kind: "metadata" }, {
        signal: new AbortController().signal, deadline: Date.now() + 10000, env: {}, secrets,
        http: { request: async () => { throw new Error("no network in the probe"); } },
        log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write() {} } }),
      });`;
    const { libraries } = loaded(code);
    expect(libraries).toContain("google-auth-library");
    expect(libraries).toContain("gaxios");
    expect(libraries).toContain("gcp-metadata");
  });
});

function url(module: string): string {
  return new URL(module, import.meta.url).pathname;
}

/** Runs `code` in a fresh Node and reports which of LIBRARIES it loaded, and whether https. */
function loaded(code: string): { libraries: string[]; https: boolean } {
  const { urls, https } = probeLoads(code, new URL("..", import.meta.url).pathname);
  const libraries = LIBRARIES.filter((name) => urls.some((u) => u.includes(`/node_modules/${name}/`)));
  return { libraries, https };
}
