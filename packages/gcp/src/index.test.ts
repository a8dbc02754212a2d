/**
 * The package's public surface, by name, and its start-up cost: the kubelet execs the provider on
 * every cache miss, so importing it must load neither node:https nor the token sources (imported
 * by the first gcr request). And no Google client library is loaded at all: every call is the
 * package's own, on core's HTTP client.
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

/** The modules the provider imports on the first gcr request. */
const LAZY = ["token-sources.ts", "adc.ts", "oauth2.ts", "iam.ts", "external-account.ts"] as const;

describe("start-up cost", () => {
  it("importing the package or the provider loads no token source, no Google library, nor https", () => {
    for (const module of ["./index.ts", "./provider.ts"]) {
      expect({ module, ...loaded(`await import(${JSON.stringify(url(module))});`) }).toEqual({
        module,
        libraries: [],
        lazy: [],
        https: false,
      });
    }
  });

  it("a token fetched by every default source loads no Google library and no node:http(s): all traffic is context.http's", {
    timeout: 30_000,
  }, () => {
    const code = `
      const { createTokenSourceFactory } = await import(${JSON.stringify(url("./token-sources.ts"))});
      const { createLogger, SecretRegistry } = await import("@kubelet-credential-provider/core");
      const { generateKeyPairSync } = await import("node:crypto");
      const pem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" });
      const files = {
        "/sa.json": JSON.stringify({ type: "service_account", client_email: "a@p.iam.gserviceaccount.com", private_key: pem }),
        "/user.json": JSON.stringify({ type: "authorized_user", client_id: "c", client_secret: "s", refresh_token: "r" }),
        "/pool.json": JSON.stringify({ type: "external_account", audience: "//iam.googleapis.com/x", subject_token_type: "urn:ietf:params:oauth:token-type:jwt", credential_source: { file: "/subject" }, service_account_impersonation_url: "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/t@p.iam.gserviceaccount.com:generateAccessToken" }),
        "/subject": "subject-token",
      };
      const json = (status, body, headers = {}) => {
        const text = JSON.stringify(body);
        return { status, headers: { "metadata-flavor": "Google", ...headers }, body: new TextEncoder().encode(text), endpoint: "", text: () => text, json: () => JSON.parse(text) };
      };
      const expireTime = new Date(Date.now() + 3600000).toISOString();
      const http = { request: async (u) => String(u).includes("iamcredentials")
        ? json(200, { accessToken: "ya29.iam", expireTime })
        : json(200, { access_token: "ya29.x", expires_in: 3600 }) };
      const secrets = new SecretRegistry();
      const factory = createTokenSourceFactory({ readFile: async (p) => files[p] });
      const context = { signal: new AbortController().signal, deadline: Date.now() + 10000, env: {}, secrets, http,
        log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write() {} } }) };
      for (const spec of [
        { kind: "metadata" },
        { kind: "applicationDefault", file: "/sa.json" },
        { kind: "applicationDefault", file: "/user.json" },
        { kind: "applicationDefault", file: "/pool.json" },
        { kind: "impersonated", source: { kind: "metadata" }, targetPrincipal: "t@p.iam.gserviceaccount.com" },
        { kind: "workloadIdentityPool", audience: "//iam.googleapis.com/x", subjectToken: "s", serviceAccount: "t@p.iam.gserviceaccount.com" },
      ]) await (await factory(spec, context)).getAccessToken();`;
    const report = loaded(code);
    expect(report.lazy).toEqual([...LAZY].sort());
    expect(report).toMatchObject({ libraries: [], https: false });
  });
});

function url(module: string): string {
  return new URL(module, import.meta.url).pathname;
}

/**
 * Runs `code` in a fresh Node and reports which of LIBRARIES and LAZY it loaded, and whether
 * node:https; the run fails if `code` loaded node:http.
 */
function loaded(code: string): { libraries: string[]; lazy: string[]; https: boolean } {
  const probe = `${code}
      if (process.moduleLoadList.includes("NativeModule http")) throw new Error("node:http was loaded");`;
  const { urls, https } = probeLoads(probe, new URL("..", import.meta.url).pathname);
  const libraries = LIBRARIES.filter((name) => urls.some((u) => u.includes(`/node_modules/${name}/`)));
  const lazy = LAZY.filter((name) => urls.some((u) => u.endsWith(`/gcp/src/${name}`))).sort();
  return { libraries, lazy, https };
}
