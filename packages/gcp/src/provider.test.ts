import type {
  HttpClient,
  HttpRequestOptions,
  HttpResponse,
  ProviderContext,
} from "@kubelet-credential-provider/core";
import {
  API_VERSION_V1,
  apiVersions,
  CloudCallError,
  createLogger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { afterEach, describe, expect, it } from "vitest";
import { execProvider, requestRunner } from "../../core/testdata/provider-runs.ts";
import type { ScriptedServer } from "../testdata/scripted-server.ts";
import { reply, startScriptedServer } from "../testdata/scripted-server.ts";
import type { GcpFlags } from "./flags.ts";
import type {
  GoogleAccessToken,
  TokenSourceContext,
  TokenSourceFactory,
  TokenSourceSpec,
} from "./identity.ts";
import {
  ACCESS_TOKEN_USERNAME,
  createGcpProvider,
  provider as defaultProvider,
  VERSION,
} from "./provider.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const NODE_TOKEN = "ya29.node-access-token-0123456789abcdef";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50.c2lnbmF0dXJl";
const FEDERATED = "ya29.federated-token-xyz-0123456789";
const IDP =
  "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster";
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
const META = "http://metadata.google.internal/computeMetadata/v1/";
const GOOGLE = { "metadata-flavor": "Google" };
const b64 = (text: string) => Buffer.from(text).toString("base64");

function response(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers,
    body: new TextEncoder().encode(body),
    endpoint: "",
    text: () => body,
    json: () => JSON.parse(body),
  };
}

interface SetupOptions {
  flags?: Partial<ProviderContext<GcpFlags>["flags"]>;
  positionals?: string[];
  env?: Record<string, string>;
  token?: GoogleAccessToken | Error | { token: string; expiresAt?: unknown };
  http?: Record<string, HttpResponse | Error>;
}

function setup(options: SetupOptions = {}) {
  const httpCalls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, requestOptions = {}) {
      httpCalls.push({ url: String(url), options: requestOptions });
      const answer = options.http?.[String(url)];
      if (answer === undefined) throw new Error(`unexpected ${String(url)}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const built: Array<{ spec: TokenSourceSpec; context: TokenSourceContext }> = [];
  let tokenCalls = 0;
  const factory: TokenSourceFactory = (spec, context) => {
    built.push({ spec, context });
    return {
      async getAccessToken() {
        tokenCalls++;
        const token = options.token ?? { token: NODE_TOKEN, expiresAt: new Date(NOW + 3600_000) };
        if (token instanceof Error) throw token;
        return token as GoogleAccessToken;
      },
    };
  };
  const provider = createGcpProvider({ tokenSourceFactory: factory, now: () => NOW });
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const controller = new AbortController();
  const context: ProviderContext<GcpFlags> = {
    flags: {
      authFlow: undefined,
      "identity-provider": undefined,
      "project-id": undefined,
      "workload-identity-provider": undefined,
      "impersonate-service-account": undefined,
      ...options.flags,
    },
    positionals: options.positionals ?? ["get-credentials"],
    signal: controller.signal,
    deadline: NOW + 50_000,
    log: createLogger({
      name: "auth-provider-gcp",
      verbosity: 10,
      secrets,
      sink: { write: (l: string) => lines.push(l) },
    }),
    secrets,
    http,
    env: options.env ?? {},
  };
  const { run, fail } = requestRunner(provider, context);
  return { run, fail, httpCalls, built, secrets, lines, context, tokenCalls: () => tokenCalls };
}

describe("gcr flow: the node's credentials", () => {
  it("the metadata server's token under the registry host, cached by registry for half its validity", async () => {
    const { run, built, context, secrets, httpCalls } = setup();
    expect(await run("us-docker.pkg.dev/my-project/repo/app:1")).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: "30m0s",
      auth: { "us-docker.pkg.dev": { username: ACCESS_TOKEN_USERNAME, password: NODE_TOKEN } },
    });
    expect(ACCESS_TOKEN_USERNAME).toBe("oauth2accesstoken");
    expect(built).toHaveLength(1);
    expect(built[0]?.spec).toEqual({ kind: "metadata" });
    expect(built[0]?.context).toMatchObject({ deadline: NOW + 50_000 });
    expect(built[0]?.context.now?.()).toBe(NOW);
    expect(built[0]?.context.signal).toBe(context.signal);
    expect(built[0]?.context.http).toBe(context.http);
    expect(built[0]?.context.env).toBe(context.env);
    expect(secrets.reveals(NODE_TOKEN)).toBe(true);
    expect(httpCalls).toEqual([]);
  });

  it("lower-cases the host and keys by it", async () => {
    for (const [image, key] of [
      ["GCR.io/p/app", "gcr.io"],
      ["EU.gcr.io/p/app", "eu.gcr.io"],
      ["container.cloud.google.com/x/y", "container.cloud.google.com"],
    ] as const) {
      expect(Object.keys((await setup().run(image)).auth ?? {})).toEqual([key]);
    }
  });

  it("Application Default Credentials when GOOGLE_APPLICATION_CREDENTIALS is set", async () => {
    const { run, built } = setup({ env: { GOOGLE_APPLICATION_CREDENTIALS: "/etc/gcp/sa.json" } });
    await run("gcr.io/p/app");
    expect(built[0]?.spec).toEqual({ kind: "applicationDefault", file: "/etc/gcp/sa.json" });
  });

  it("--impersonate-service-account: that account's token, with the node's credentials as source", async () => {
    const email = "puller@my-project.iam.gserviceaccount.com";
    const { run, built } = setup({ flags: { "impersonate-service-account": email } });
    await run("gcr.io/p/app");
    expect(built[0]?.spec).toEqual({
      kind: "impersonated",
      source: { kind: "metadata" },
      targetPrincipal: email,
    });
    const adc = setup({
      flags: { "impersonate-service-account": email },
      env: { GOOGLE_APPLICATION_CREDENTIALS: "/a.json" },
    });
    await adc.run("gcr.io/p/app");
    expect(adc.built[0]?.spec).toEqual({
      kind: "impersonated",
      source: { kind: "applicationDefault", file: "/a.json" },
      targetPrincipal: email,
    });
  });

  it.each([
    ["without an expiry", { token: NODE_TOKEN }, "INVALID_RESPONSE", /the token source gave no expiry/],
    [
      "with an expiry that is not a date",
      { token: NODE_TOKEN, expiresAt: "soon" },
      "INVALID_RESPONSE",
      /gave no expiry/,
    ],
    [
      "expired",
      { token: NODE_TOKEN, expiresAt: new Date(NOW - 1) },
      "INVALID_RESPONSE",
      /had already expired/,
    ],
    [
      "expiring now",
      { token: NODE_TOKEN, expiresAt: new Date(NOW) },
      "INVALID_RESPONSE",
      /had already expired/,
    ],
    [
      "expiring within a minute",
      { token: NODE_TOKEN, expiresAt: new Date(NOW + 59_000) },
      "INVALID_RESPONSE",
      /expires within a minute/,
    ],
  ])("a custom source's token %s: an error, never cacheDuration 0s", async (_, token, code, message) => {
    const failure = await setup({ token }).fail("gcr.io/p/a");
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain(NODE_TOKEN);
  });

  it("a token good for two minutes: answered, cached for one", async () => {
    const result = await setup({ token: { token: NODE_TOKEN, expiresAt: new Date(NOW + 120_000) } }).run(
      "gcr.io/p/a",
    );
    expect(result.cacheDuration).toBe("1m0s");
  });

  it("an unannotated service account in the request: still the node's credentials (as upstream)", async () => {
    const { run, built } = setup({ flags: { "identity-provider": IDP, "project-id": "my-project" } });
    await run("gcr.io/p/app", { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { other: "x" } });
    expect(built[0]?.spec).toEqual({ kind: "metadata" });
  });

  it("a cloud call's error passes through, naming the endpoint and the fault", async () => {
    const throttled = new CloudCallError({
      endpoint: "GCE metadata token",
      fault: "throttled",
      status: 429,
      detail: "throttled (HTTP 429)",
      attempts: 10,
      elapsedMs: 40_000,
    });
    const failure = await setup({ token: throttled }).fail("gcr.io/p/app");
    expect(failure).toBe(throttled);
    expect(failure.message).toBe("GCE metadata token throttled (HTTP 429) for 40 s (10 attempts)");
  });

  it("a custom source's foreign error: INTERNAL naming the identity, its message (which may quote an answer) left out", async () => {
    const error = new TypeError(
      `Cannot create property 'refresh_token' on string '{"access_token":"${NODE_TOKEN}"'`,
    );
    const failure = await setup({ token: error }).fail("gcr.io/p/app");
    expect(failure.code).toBe("INTERNAL");
    expect(failure.message).toBe(
      "access token for the node's default service account (metadata server): the token source failed (TypeError)",
    );
  });

  it("an empty token is an error, never an empty password", async () => {
    expect((await setup({ token: { token: "" } }).fail("gcr.io/p/a")).code).toBe("CLOUD_AUTH_FAILED");
  });
});

describe("hosts", () => {
  it.each([
    "docker.io/library/nginx",
    "gcr.io.evil.example/p/app",
    "evil.example/gcr.io/app",
    "gcr.io:443/p/app",
    "us-docker.pkg.dev:5000/p/r/i",
    "a.b.gcr.io/p/app",
    "ghcr.io/x/y",
    "localhost:5000/x",
  ])("%s: NOT_MY_REGISTRY naming the host, before any token or metadata request", async (image) => {
    for (const authFlow of ["gcr", "dockercfg", "dockercfg-url"]) {
      const { fail, built, httpCalls, tokenCalls } = setup({
        flags: { authFlow },
        env: { GOOGLE_APPLICATION_CREDENTIALS: "/a.json" },
      });
      const error = await fail(image, {
        serviceAccountToken: SA_TOKEN,
        serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" },
      });
      expect(error.code).toBe("NOT_MY_REGISTRY");
      expect(error.message).toContain(image.split("/")[0]?.toLowerCase());
      expect(built).toEqual([]);
      expect(tokenCalls()).toBe(0);
      expect(httpCalls).toEqual([]);
    }
  });

  it("a Google host with a port: the hint says to drop it", async () => {
    expect((await setup().fail("gcr.io:443/p/app")).message).toMatch(/default port only/);
  });
});

describe("flags are checked before anything else", () => {
  it("an invalid --authFlow is a usage error, even for a foreign host", async () => {
    const { fail, built } = setup({ flags: { authFlow: "GCR" } });
    expect(await fail("docker.io/x")).toMatchObject({ code: "USAGE" });
    expect(built).toEqual([]);
  });

  it("--identity-provider without --project-id", async () => {
    expect(await setup({ flags: { "identity-provider": IDP } }).fail("gcr.io/p/a")).toMatchObject({
      code: "USAGE",
      message: expect.stringMatching(/needs --project-id/),
    });
  });

  it("the verb", async () => {
    expect(await setup({ positionals: ["get"] }).fail("gcr.io/p/a")).toMatchObject({ code: "USAGE" });
  });
});

describe("GKE workload identity", () => {
  const flags = { "identity-provider": IDP, "project-id": "my-project" };
  const annotated = {
    serviceAccountToken: SA_TOKEN,
    serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" },
  };
  const sts = (answer: HttpResponse | Error) => ({ "https://sts.googleapis.com/v1/token": answer });
  const ok = response(
    200,
    JSON.stringify({ access_token: FEDERATED, expires_in: 3600, token_type: "Bearer" }),
  );

  it("the pod's token exchanged at STS with the pool audience; no node identity", async () => {
    const { run, httpCalls, built, secrets } = setup({ flags, http: sts(ok) });
    expect(await run("europe-west1-docker.pkg.dev/p/r/i", annotated)).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: "30m0s",
      auth: { "europe-west1-docker.pkg.dev": { username: ACCESS_TOKEN_USERNAME, password: FEDERATED } },
    });
    expect(built).toEqual([]);
    expect(httpCalls.map((c) => `${c.options.method} ${c.url}`)).toEqual([
      "POST https://sts.googleapis.com/v1/token",
    ]);
    const body = JSON.parse(String(httpCalls[0]?.options.body));
    expect(body.audience).toBe(`identitynamespace:my-project.svc.id.goog:${IDP}`);
    expect(body.subject_token).toBe(SA_TOKEN);
    expect(secrets.reveals(FEDERATED)).toBe(true);
  });

  it("STS failure: an error, never a fall back to the node", async () => {
    const refused = response(
      400,
      JSON.stringify({ error: "invalid_grant", error_description: "bad audience" }),
    );
    const { fail, built } = setup({ flags, http: sts(refused) });
    expect(await fail("gcr.io/p/a", annotated)).toMatchObject({ code: "CLOUD_AUTH_FAILED" });
    expect(built).toEqual([]);
    const reset = new CloudCallError({
      endpoint: "Google STS token exchange",
      fault: "connection",
      detail: "dropped the connection (ECONNRESET)",
      attempts: 12,
      elapsedMs: 48_000,
    });
    const down = setup({ flags, http: sts(reset) });
    expect(await down.fail("gcr.io/p/a", annotated)).toBe(reset);
    expect(down.built).toEqual([]);
  });

  it.each([
    [{ access_token: FEDERATED, expires_in: 0 }, "expired", /issued a credential that had already expired/],
    [{ access_token: FEDERATED }, "malformed", /without expires_in/],
    [`{"access_token":"${FEDERATED}"`, "malformed", /with a body that is not JSON/],
  ])("STS answering %j: %s, never an answer", async (body, fault, message) => {
    const answer = response(200, typeof body === "string" ? body : JSON.stringify(body));
    const failure = await setup({ flags, http: sts(answer) }).fail("gcr.io/p/a", annotated);
    expect(failure).toMatchObject({ fault, endpoint: "Google STS token exchange" });
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain(FEDERATED);
  });

  it("annotated but no token: an error", async () => {
    const { fail, built, httpCalls } = setup({ flags });
    const error = await fail("gcr.io/p/a", {
      serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" },
    });
    expect(error).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/no service account token/),
    });
    expect(built).toEqual([]);
    expect(httpCalls).toEqual([]);
  });

  it("annotated but no --identity-provider: an error", async () => {
    const { fail, built } = setup();
    expect(await fail("gcr.io/p/a", annotated)).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/--identity-provider is not set/),
    });
    expect(built).toEqual([]);
  });

  it("annotated with a dockercfg flow: an error", async () => {
    const { fail, httpCalls } = setup({ flags: { ...flags, authFlow: "dockercfg" } });
    expect(await fail("gcr.io/p/a", annotated)).toMatchObject({ code: "CONFIG_INVALID" });
    expect(httpCalls).toEqual([]);
  });

  it('an annotation other than "true" does not opt in', async () => {
    const { run, built } = setup({ flags });
    await run("gcr.io/p/a", {
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "True" },
    });
    expect(built[0]?.spec).toEqual({ kind: "metadata" });
  });
});

describe("workload identity pool outside GKE", () => {
  const flags = { "workload-identity-provider": POOL };

  it("the pod's token, impersonating the annotated service account", async () => {
    const { run, built, httpCalls } = setup({ flags });
    await run("gcr.io/p/a", {
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "puller@p.iam.gserviceaccount.com" },
    });
    expect(built[0]?.spec).toEqual({
      kind: "workloadIdentityPool",
      audience: POOL,
      subjectToken: SA_TOKEN,
      serviceAccount: "puller@p.iam.gserviceaccount.com",
    });
    expect(httpCalls).toEqual([]);
  });

  it("without the annotation: the federated token itself", async () => {
    const { run, built } = setup({ flags });
    await run("gcr.io/p/a", { serviceAccountToken: SA_TOKEN });
    expect(built[0]?.spec).toEqual({ kind: "workloadIdentityPool", audience: POOL, subjectToken: SA_TOKEN });
  });

  it("an annotation that is not an email is an error", async () => {
    const { fail, built } = setup({ flags });
    const error = await fail("gcr.io/p/a", {
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "not-an-email" },
    });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(built).toEqual([]);
  });

  it("without a service account token (no tokenAttributes): the node's credentials", async () => {
    const { run, built } = setup({ flags });
    await run("gcr.io/p/a");
    expect(built[0]?.spec).toEqual({ kind: "metadata" });
  });
});

describe("dockercfg flows", () => {
  const cfg = JSON.stringify({
    "https://gcr.io": { auth: b64("_json_key:gcr-secret-0123") },
    "us-docker.pkg.dev/team": { username: "ar", password: "ar-secret-0123" },
    "docker.io": { auth: b64("hub:hub-secret-0123") },
  });

  it("dockercfg: only the entries for the image, keyed by registry; no token is requested", async () => {
    const { run, built, httpCalls, secrets } = setup({
      flags: { authFlow: "dockercfg" },
      http: { [`${META}instance/attributes/google-dockercfg`]: response(200, cfg, GOOGLE) },
    });
    expect(await run("gcr.io/p/app")).toEqual({
      cacheKeyType: "Image",
      auth: { "gcr.io": { username: "_json_key", password: "gcr-secret-0123" } },
    });
    expect(built).toEqual([]);
    expect(httpCalls[0]?.options.headers).toEqual({ "Metadata-Flavor": "Google" });
    for (const secret of ["gcr-secret-0123", "ar-secret-0123", "hub-secret-0123"])
      expect(secrets.reveals(secret)).toBe(true);
  });

  it("dockercfg-url, via GCE_METADATA_HOST; the URL is fetched without the metadata header", async () => {
    const base = "http://127.0.0.1:8080/computeMetadata/v1/";
    const { run, httpCalls } = setup({
      flags: { authFlow: "dockercfg-url" },
      env: { GCE_METADATA_HOST: "127.0.0.1:8080" },
      http: {
        [`${base}instance/attributes/google-dockercfg-url`]: response(
          200,
          "https://cfg.example/d.json",
          GOOGLE,
        ),
        "https://cfg.example/d.json": response(200, cfg),
      },
    });
    expect(await run("us-docker.pkg.dev/team/r/i")).toEqual({
      cacheKeyType: "Image",
      auth: { "us-docker.pkg.dev/team": { username: "ar", password: "ar-secret-0123" } },
    });
    expect(httpCalls.map((c) => c.url)).toEqual([
      `${base}instance/attributes/google-dockercfg-url`,
      "https://cfg.example/d.json",
    ]);
    expect(httpCalls[1]?.options.headers).toBeUndefined();
  });

  it("host-only entries: cached by registry", async () => {
    const { run } = setup({
      flags: { authFlow: "dockercfg" },
      http: {
        [`${META}instance/attributes/google-dockercfg`]: response(
          200,
          JSON.stringify({ "gcr.io": { auth: "Zm9vOmJhcg" } }),
          GOOGLE,
        ),
      },
    });
    expect(await run("gcr.io/p/app")).toEqual({
      cacheKeyType: "Registry",
      auth: { "gcr.io": { username: "foo", password: "bar" } },
    });
  });

  it("no entry for the image: an error, not an empty answer", async () => {
    const { fail } = setup({
      flags: { authFlow: "dockercfg" },
      http: { [`${META}instance/attributes/google-dockercfg`]: response(200, cfg, GOOGLE) },
    });
    const error = await fail("eu.gcr.io/p/app");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(/has no credentials for eu.gcr.io\/p\/app/);
    expect(error.message).not.toMatch(/secret/);
  });

  it("a malformed auth field: an error", async () => {
    const { fail } = setup({
      flags: { authFlow: "dockercfg" },
      http: {
        [`${META}instance/attributes/google-dockercfg`]: response(
          200,
          JSON.stringify({ "gcr.io": { auth: "pants" } }),
          GOOGLE,
        ),
      },
    });
    expect(await fail("gcr.io/p/app")).toMatchObject({ code: "CONFIG_INVALID" });
  });
});

describe("KUBE_SIDECAR_CACHE_* override the cache fields", () => {
  it("in the gcr flow", async () => {
    const { run } = setup({ env: { KUBE_SIDECAR_CACHE_DURATION: "5m", KUBE_SIDECAR_CACHE_TYPE: "image" } });
    expect(await run("gcr.io/p/a")).toMatchObject({ cacheKeyType: "Image", cacheDuration: "5m0s" });
  });

  it("in a dockercfg flow", async () => {
    const { run } = setup({
      flags: { authFlow: "dockercfg" },
      env: { KUBE_SIDECAR_CACHE_TYPE: "global" },
      http: {
        [`${META}instance/attributes/google-dockercfg`]: response(
          200,
          JSON.stringify({ "gcr.io": { auth: "Zm9vOmJhcg" } }),
          GOOGLE,
        ),
      },
    });
    expect(await run("gcr.io/p/a")).toMatchObject({ cacheKeyType: "Global" });
  });

  it("an invalid value is an error before any token is requested", async () => {
    const { fail, built } = setup({ env: { KUBE_SIDECAR_CACHE_TYPE: "Registry" } });
    expect(await fail("gcr.io/p/a")).toMatchObject({ code: "CONFIG_INVALID" });
    expect(built).toEqual([]);
  });
});

describe("the executable's provider", () => {
  it("is named and versioned as the Go plugin, with its matchImages", () => {
    expect(defaultProvider.name).toBe("auth-provider-gcp");
    expect(defaultProvider.version).toBe(VERSION);
    expect([...defaultProvider.defaultMatchImages]).toEqual([
      "container.cloud.google.com",
      "gcr.io",
      "*.gcr.io",
      "*.pkg.dev",
    ]);
    expect(Object.keys(defaultProvider.flags).sort()).toEqual([
      "authFlow",
      "identity-provider",
      "impersonate-service-account",
      "project-id",
      "workload-identity-provider",
    ]);
  });
});

describe("through the harness", () => {
  async function exec(
    argv: string[],
    request: unknown,
    env: Record<string, string> = {},
    token?: GoogleAccessToken,
  ) {
    const provider = createGcpProvider({
      tokenSourceFactory: () => ({
        getAccessToken: async () =>
          token ?? { token: NODE_TOKEN, expiresAt: new Date(Date.now() + 3600_000) },
      }),
    });
    return execProvider(provider, argv, request, env);
  }

  it.each(apiVersions)(
    "%s: answers in the request's apiVersion; no token on stderr at -v 10",
    async (apiVersion) => {
      const { stdout, stderr, code } = await exec(["get-credentials", "--authFlow=gcr", "-v", "10"], {
        kind: "CredentialProviderRequest",
        apiVersion,
        image: "us-docker.pkg.dev/p/r/i",
      });
      expect(code).toBe(0);
      const answer = JSON.parse(stdout);
      expect(answer).toMatchObject({
        kind: "CredentialProviderResponse",
        apiVersion,
        cacheKeyType: "Registry",
        auth: { "us-docker.pkg.dev": { username: "oauth2accesstoken", password: NODE_TOKEN } },
      });
      expect(answer.cacheDuration).toMatch(/^(29m5\d|30m0)s$/);
      expect(stderr).not.toContain(NODE_TOKEN);
      expect(stderr).toContain("Artifact Registry us-docker.pkg.dev");
    },
  );

  it.each(apiVersions)("%s: a spoofed host fails with one line, nothing on stdout", async (apiVersion) => {
    const { stdout, stderr, code } = await exec(["get-credentials"], {
      kind: "CredentialProviderRequest",
      apiVersion,
      image: "gcr.io.evil.example/app",
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "auth-provider-gcp: not this provider's registry: gcr.io.evil.example is not a Google container registry: expected gcr.io, <region>.gcr.io, <location>-docker.pkg.dev or container.cloud.google.com\n",
    );
  });

  it("the Go plugin's flag forms: -a, --authFlow value, --v=3", async () => {
    const request = { kind: "CredentialProviderRequest", apiVersion: API_VERSION_V1, image: "gcr.io/p/a" };
    expect((await exec(["get-credentials", "-a", "gcr"], request)).code).toBe(0);
    expect((await exec(["get-credentials", "--authFlow", "gcr", "--v=3"], request)).code).toBe(0);
    const bad = await exec(["get-credentials", "--authFlow=dockerCfg"], request);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^auth-provider-gcp: usage: invalid value "dockerCfg" for authFlow/);
    const noVerb = await exec([], request);
    expect(noVerb.code).toBe(1);
    expect(noVerb.stderr).toMatch(/usage: missing argument GET-CREDENTIALS/);
    // -a is --authFlow itself, as pflag's shorthand: its value is checked as one, the last given wins,
    // and --a is no flag at all (upstream: "unknown flag: --a").
    expect((await exec(["get-credentials", "-a", "bad-flow"], request)).stderr).toMatch(
      /^auth-provider-gcp: usage: invalid value "bad-flow" for authFlow/,
    );
    expect((await exec(["get-credentials", "-a", "bad-flow", "--authFlow", "gcr"], request)).code).toBe(0);
    const long = await exec(["get-credentials", "--a", "gcr"], request);
    expect([long.code, long.stdout]).toEqual([1, ""]);
    expect(long.stderr).toBe('auth-provider-gcp: usage: unknown flag "--a" (see --help)\n');
    const help = await exec(["--help"], request);
    expect(help.stdout).toMatch(
      /^ {2}-a, --authFlow FLOW {2,}Authentication flow: gcr, dockercfg, dockercfg-url/m,
    );
    expect(help.stdout).not.toMatch(/--a /);
  });

  it("the request's service account token never reaches stderr", async () => {
    const { stderr, code } = await exec(["get-credentials", "-v", "10"], {
      kind: "CredentialProviderRequest",
      apiVersion: API_VERSION_V1,
      image: "gcr.io/p/a",
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/--identity-provider is not set/);
    expect(stderr).not.toContain(SA_TOKEN);
  });
});

describe("the executable's provider, through the harness, against a metadata server on loopback", () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const request = { kind: "CredentialProviderRequest", apiVersion: API_VERSION_V1, image: "gcr.io/p/app" };
  const whole = { access_token: NODE_TOKEN, expires_in: 3599, token_type: "Bearer" };

  async function exec(body: unknown, verbosity: string) {
    server = await startScriptedServer([reply(200, body)]);
    const run = await execProvider(createGcpProvider(), ["get-credentials", "-v", verbosity], request, {
      GCE_METADATA_HOST: server.host,
    });
    return { ...run, calls: server.calls };
  }

  it("answers the node's token from the metadata server, cached for half its validity", async () => {
    const { code, stdout, stderr, calls } = await exec(whole, "10");
    expect(code).toBe(0);
    const answer = JSON.parse(stdout);
    expect(answer.auth).toEqual({ "gcr.io": { username: "oauth2accesstoken", password: NODE_TOKEN } });
    expect(answer.cacheDuration).toMatch(/^(29m5\d|30m0)s$/);
    expect(calls.map((c) => c.path)).toEqual(["/computeMetadata/v1/instance/service-accounts/default/token"]);
    expect(stderr).not.toContain(NODE_TOKEN);
  });

  it.each([
    ["the closing brace missing", `{"access_token":"${NODE_TOKEN}","expires_in":3599,"token_type":"Bearer"`],
    ["a trailing byte", `${JSON.stringify(whole)}x`],
    ["a bare JSON string", JSON.stringify(JSON.stringify(whole))],
  ])(
    "a token answer with %s: one line naming the endpoint, no token on stderr at -v 0 or -v 10",
    async (_, body) => {
      for (const verbosity of ["0", "10"]) {
        const { code, stdout, stderr } = await exec(body, verbosity);
        expect(code).toBe(1);
        expect(stdout).toBe("");
        expect(stderr).not.toContain(NODE_TOKEN);
        expect(stderr).not.toContain("refresh_token");
        const last = stderr.trimEnd().split("\n").at(-1);
        expect(last).toMatch(
          /^auth-provider-gcp: invalid response: GCE metadata token answered HTTP 200 with (a body that is not JSON|JSON that is not an object \(a string\))$/,
        );
        if (verbosity === "0") expect(stderr.trimEnd().split("\n")).toHaveLength(1);
        await server?.close();
        server = undefined;
      }
    },
  );

  it("expires_in 0: an error, not an answer with cacheDuration 0s", async () => {
    const { code, stdout, stderr } = await exec({ ...whole, expires_in: 0 }, "0");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /^auth-provider-gcp: invalid response: GCE metadata token issued a credential that had already expired \(at .+\); check the node's clock\n$/,
    );
  });
});
