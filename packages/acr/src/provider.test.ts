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
  CredentialProviderError,
  createHttpResponse,
  createLogger,
  SecretRegistry,
  versionLine,
} from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { execProvider, requestRunner } from "../../core/testdata/provider-runs.ts";
import type { CredentialContext, CredentialFactory, EntraToken, IdentitySpec } from "./identity.ts";
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from "./identity.ts";
import type { AcrFlags } from "./provider.ts";
import { ACR_MATCH_IMAGES, createAcrProvider, provider as defaultProvider, VERSION } from "./provider.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const FILE = "/etc/kubernetes/azure.json";
const SERVER = "myacr.azurecr.io";
const ENTRA = "eyJ0eXAiOiJKV1QifQ.entra-access-token.for-acr-scope-0123456789";
const CLIENT_SECRET = "sp-secret~Q8Q~not.a.real.secret.0123";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50.c2lnbmF0dXJl";
/** An answer of core's client; a malformed body names the endpoint "x" unless told. */
const response = (status: number, body = "", headers: Record<string, string> = {}, endpoint = "x") =>
  createHttpResponse(status, body, headers, endpoint);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const refreshToken = (claims: Record<string, unknown>) =>
  `${b64({ alg: "RS256" })}.${b64(claims)}.acr-refresh-sig-0123`;
const REFRESH = refreshToken({ exp: NOW / 1000 + 3 * 3600, iss: "Azure Container Registry" });

const IB_SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
const IB_TOKEN = "eyJ0eXAiOiJKV1QifQ.identity-bindings-access-token.0123456789";
const CLUSTER_CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const IB_FLAGS = { "ib-sni-name": IB_SNI, "ib-apiserver-ip": "10.0.0.1" };
const MANAGED = { cloud: "AzurePublicCloud", tenantId: "tenant-1", useManagedIdentityExtension: true };

interface SetupOptions {
  azureJson?: unknown;
  /** The answers to GET /v2/ and POST /oauth2/exchange, by URL path. */
  challenge?: HttpResponse;
  exchange?: HttpResponse | Error;
  token?: EntraToken | null | Error;
  flags?: Partial<ProviderContext<AcrFlags>["flags"]>;
  positionals?: string[];
  /** The answer of identity bindings' token endpoint. */
  ib?: HttpResponse;
  /** Files besides azure.json, by path (the cluster CA of identity bindings). */
  files?: Record<string, string>;
}

const challengeFor = (host: string) =>
  response(401, "", { "www-authenticate": `Bearer realm="https://${host}/oauth2/token",service="${host}"` });

function setup(options: SetupOptions = {}) {
  const httpCalls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, requestOptions = {}) {
      const target = new URL(String(url));
      httpCalls.push({ url: target.href, options: requestOptions });
      if (target.hostname === IB_SNI) {
        return options.ib ?? response(200, JSON.stringify({ access_token: IB_TOKEN, expires_in: 3599 }));
      }
      if (target.pathname === "/v2/") return options.challenge ?? challengeFor(target.hostname);
      if (target.pathname === "/oauth2/exchange") {
        const answer = options.exchange ?? response(200, JSON.stringify({ refresh_token: REFRESH }));
        if (answer instanceof Error) throw answer;
        return answer;
      }
      throw new Error(`unexpected ${target.href}`);
    },
  };
  const built: Array<{ spec: IdentitySpec; context: CredentialContext }> = [];
  const tokenCalls: Array<{ scope: string; abortSignal: AbortSignal }> = [];
  const factory: CredentialFactory = (spec, context) => {
    built.push({ spec, context });
    return {
      async getToken(scope, { abortSignal }) {
        tokenCalls.push({ scope, abortSignal });
        const token =
          options.token === undefined ? { token: ENTRA, expiresOnTimestamp: NOW + 3600_000 } : options.token;
        if (token instanceof Error) throw token;
        return token;
      },
    };
  };
  const files: string[] = [];
  const readFile = async (path: string) => {
    files.push(path);
    const other = options.files?.[path];
    if (other !== undefined) return new TextEncoder().encode(other);
    if (path !== FILE) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return new TextEncoder().encode(JSON.stringify(options.azureJson ?? MANAGED));
  };
  const provider = createAcrProvider({ credentialFactory: factory, readFile, now: () => NOW });
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const controller = new AbortController();
  const log = createLogger({
    name: "acr-credential-provider",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  const context: ProviderContext<AcrFlags> = {
    flags: {
      "registry-mirror": [],
      "ib-sni-name": undefined,
      "ib-apiserver-ip": undefined,
      "ib-default-client-id": undefined,
      "ib-default-tenant-id": undefined,
      "ib-ca-file": undefined,
      ...options.flags,
    } as ProviderContext<AcrFlags>["flags"],
    positionals: options.positionals ?? [FILE],
    signal: controller.signal,
    deadline: NOW + 50_000,
    log,
    secrets,
    http,
    env: { HTTPS_PROXY: "http://proxy.corp:3128" },
  };
  const { run, fail } = requestRunner(provider, context);
  return { run, fail, httpCalls, built, tokenCalls, files, secrets, lines, context };
}

const form = (call: { options: HttpRequestOptions } | undefined) =>
  Object.fromEntries(new URLSearchParams(String(call?.options.body)));

describe("managed identity (the AKS default)", () => {
  it("challenge, Entra token, exchange: the refresh token under the login server, cached for half its validity", async () => {
    const { run, httpCalls, built, tokenCalls, files, context } = setup();
    expect(await run(`${SERVER}/team/app`)).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: "1h30m0s",
      auth: { [SERVER]: { username: "00000000-0000-0000-0000-000000000000", password: REFRESH } },
    });
    expect(files).toEqual([FILE]);
    expect(httpCalls.map((c) => `${c.options.method} ${c.url}`)).toEqual([
      `GET https://${SERVER}/v2/`,
      `POST https://${SERVER}/oauth2/exchange`,
    ]);
    expect(form(httpCalls[1])).toEqual({
      grant_type: "access_token",
      service: SERVER,
      tenant: "tenant-1",
      access_token: ENTRA,
    });
    expect(built).toHaveLength(1);
    expect(built[0]?.spec).toEqual({ kind: "managedIdentity" });
    expect(built[0]?.context).toMatchObject({
      cloud: { name: "AzurePublicCloud", authorityHost: "https://login.microsoftonline.com" },
      deadline: NOW + 50_000,
    });
    expect(built[0]?.context.signal).toBe(context.signal);
    expect(built[0]?.context.http).toBe(context.http);
    expect(built[0]?.context.env).toBe(context.env);
    expect(built[0]?.context.secrets).toBe(context.secrets);
    expect(tokenCalls).toEqual([
      { scope: "https://containerregistry.azure.net/.default", abortSignal: context.signal },
    ]);
  });

  it("lower-cases the login server, and serves hashed and regional login servers", async () => {
    for (const [image, key] of [
      ["MyACR.AzureCR.io/App", SERVER],
      ["demo-abc123.azurecr.io/app:1", "demo-abc123.azurecr.io"],
      ["myacr.eastus2.geo.azurecr.io/app", "myacr.eastus2.geo.azurecr.io"],
    ] as const) {
      const { run, httpCalls } = setup();
      expect(Object.keys((await run(image)).auth ?? {})).toEqual([key]);
      expect(httpCalls[0]?.url).toBe(`https://${key}/v2/`);
    }
  });

  it("user-assigned by client id or resource id", async () => {
    const byClient = setup({ azureJson: { ...MANAGED, userAssignedIdentityID: "mi-client-id" } });
    await byClient.run(`${SERVER}/app`);
    expect(byClient.built[0]?.spec).toEqual({ kind: "managedIdentity", clientId: "mi-client-id" });
    const id =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/k";
    const byResource = setup({ azureJson: { ...MANAGED, userAssignedIdentityID: id } });
    await byResource.run(`${SERVER}/app`);
    expect(byResource.built[0]?.spec).toEqual({ kind: "managedIdentity", resourceId: id });
  });
});

describe("--registry-mirror", () => {
  it("answers an image on the mirror with the target's credentials, keyed under both hosts", async () => {
    const { run, httpCalls } = setup({
      flags: { "registry-mirror": ["mcr.microsoft.com:myacr.azurecr.io"] },
    });
    const result = await run("mcr.microsoft.com/oss/nginx:1");
    expect(Object.keys(result.auth ?? {})).toEqual([SERVER, "mcr.microsoft.com"]);
    expect(result.auth?.["mcr.microsoft.com"]).toEqual(result.auth?.[SERVER]);
    expect(httpCalls.every((c) => c.url.startsWith(`https://${SERVER}/`))).toBe(true);
  });

  it("a bad entry is a usage error, before anything else", async () => {
    const { fail, files } = setup({ flags: { "registry-mirror": ["mcr.microsoft.com:evil.example"] } });
    expect((await fail(`${SERVER}/app`)).code).toBe("USAGE");
    expect(files).toEqual([]);
  });
});

describe("service principal", () => {
  const SP = { tenantId: "tenant-1", aadClientId: "client-1", aadClientSecret: CLIENT_SECRET };

  it("exchanges too: the client secret is never the registry password (unlike the Go plugin)", async () => {
    const { run, built, secrets, lines } = setup({ azureJson: SP });
    const result = await run(`${SERVER}/app`);
    expect(result.auth?.[SERVER]).toEqual({
      username: "00000000-0000-0000-0000-000000000000",
      password: REFRESH,
    });
    expect(JSON.stringify(result)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(result)).not.toContain("client-1");
    expect(built[0]?.spec).toEqual({
      kind: "clientSecret",
      tenantId: "tenant-1",
      clientId: "client-1",
      clientSecret: CLIENT_SECRET,
    });
    expect(secrets.redact(CLIENT_SECRET)).toBe("[REDACTED]");
    expect(lines.join("")).not.toContain(CLIENT_SECRET);
  });

  it("with a certificate", async () => {
    const { run, built } = setup({
      azureJson: {
        tenantId: "t",
        aadClientId: "c",
        aadClientCertPath: "/etc/sp.pem",
        aadClientCertPassword: "pw-0123",
      },
    });
    await run(`${SERVER}/app`);
    expect(built[0]?.spec).toEqual({
      kind: "clientCertificate",
      tenantId: "t",
      clientId: "c",
      certificatePath: "/etc/sp.pem",
      certificatePassword: "pw-0123",
    });
  });

  it("workload identity", async () => {
    const { run, built } = setup({
      azureJson: {
        tenantId: "t",
        aadClientId: "c",
        aadFederatedTokenFile: "/var/run/secrets/token",
        useFederatedWorkloadIdentityExtension: true,
      },
    });
    await run(`${SERVER}/app`);
    expect(built[0]?.spec).toEqual({
      kind: "workloadIdentity",
      tenantId: "t",
      clientId: "c",
      tokenFilePath: "/var/run/secrets/token",
    });
  });
});

describe("service-account mode", () => {
  const annotations = { [CLIENT_ID_ANNOTATION]: "app-1", [TENANT_ID_ANNOTATION]: "tenant-sa" };

  it("the pod's token is the client assertion of the annotated application, in its tenant", async () => {
    const { run, built, httpCalls } = setup();
    await run(`${SERVER}/app`, { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: annotations });
    expect(built[0]?.spec).toEqual({
      kind: "serviceAccount",
      tenantId: "tenant-sa",
      clientId: "app-1",
      assertion: SA_TOKEN,
    });
    expect(form(httpCalls[1]).tenant).toBe("tenant-sa");
  });

  it.each([
    ["missing", {}],
    ["empty", { ...annotations, [CLIENT_ID_ANNOTATION]: "" }],
  ])("an annotation %s: a clear error, and no call at all", async (_name, value) => {
    const { fail, built, httpCalls } = setup();
    const error = await fail(`${SERVER}/app`, {
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: value,
    });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(CLIENT_ID_ANNOTATION);
    expect(built).toEqual([]);
    expect(httpCalls).toEqual([]);
  });
});

describe("identity bindings (--ib-sni-name, --ib-apiserver-ip)", () => {
  const files = { "/etc/kubernetes/certs/ca.crt": CLUSTER_CA };
  const saRequest = {
    serviceAccountToken: SA_TOKEN,
    serviceAccountAnnotations: { [CLIENT_ID_ANNOTATION]: "app-ib" },
  };

  it("the API server issues the Entra token for the pod's token: dialled at the address, trusting only the cluster CA", async () => {
    const { run, built, httpCalls, files: read, secrets } = setup({ flags: IB_FLAGS, files });
    expect(await run(`${SERVER}/app`, saRequest)).toMatchObject({
      auth: { [SERVER]: { password: REFRESH } },
    });
    expect(built).toEqual([]);
    expect(read).toEqual([FILE, "/etc/kubernetes/certs/ca.crt"]);
    expect(httpCalls.map((c) => `${c.options.method} ${c.url}`)).toEqual([
      `GET https://${SERVER}/v2/`,
      `POST https://${IB_SNI}/`,
      `POST https://${SERVER}/oauth2/exchange`,
    ]);
    const ib = httpCalls[1];
    expect(ib?.options).toMatchObject({
      connectTo: "10.0.0.1",
      endpoint: `AKS identity bindings (${IB_SNI} at 10.0.0.1)`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(Buffer.from(ib?.options.ca as Uint8Array).toString()).toBe(CLUSTER_CA);
    expect(form(ib)).toEqual({
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      scope: "https://containerregistry.azure.net/.default",
      client_assertion: SA_TOKEN,
      client_id: "app-ib",
    });
    // The exchange names azure.json's tenant, as upstream's does.
    expect(form(httpCalls[2])).toMatchObject({ access_token: IB_TOKEN, tenant: "tenant-1" });
    expect(secrets.redact(`${IB_TOKEN} ${SA_TOKEN}`)).not.toContain("identity-bindings-access-token");
  });

  it("--ib-default-client-id when the service account has no client id annotation; the annotation wins", async () => {
    const flags = { ...IB_FLAGS, "ib-default-client-id": "app-default" };
    const without = setup({ flags, files });
    await without.run(`${SERVER}/app`, { serviceAccountToken: SA_TOKEN });
    expect(form(without.httpCalls[1]).client_id).toBe("app-default");
    const withAnnotation = setup({ flags, files });
    await withAnnotation.run(`${SERVER}/app`, saRequest);
    expect(form(withAnnotation.httpCalls[1]).client_id).toBe("app-ib");
  });

  it("--ib-ca-file names another CA file", async () => {
    const { run, files: read } = setup({
      flags: { ...IB_FLAGS, "ib-ca-file": "/run/ca.pem" },
      files: { "/run/ca.pem": CLUSTER_CA },
    });
    await run(`${SERVER}/app`, saRequest);
    expect(read).toContain("/run/ca.pem");
  });

  it.each([
    ["no service account token", {}, /carries no service account token/],
    [
      "no client id anywhere",
      { serviceAccountToken: SA_TOKEN },
      /acr-client-id is missing and --ib-default-client-id is not given/,
    ],
    [
      "an empty client id annotation (it wins over the default, as upstream's)",
      { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { [CLIENT_ID_ANNOTATION]: " " } },
      /acr-client-id is empty/,
    ],
  ])("%s: CONFIG_INVALID, and no call", async (_name, request, message) => {
    const { fail, httpCalls } = setup({ flags: { ...IB_FLAGS, "ib-default-client-id": undefined }, files });
    const error = await fail(`${SERVER}/app`, request);
    expect([error.code, error.message]).toEqual(["CONFIG_INVALID", expect.stringMatching(message)]);
    expect(httpCalls).toEqual([]);
  });

  it.each([
    ["missing", {}, /cluster CA \/etc\/kubernetes\/certs\/ca\.crt cannot be read \(ENOENT\)/],
    ["empty", { files: { "/etc/kubernetes/certs/ca.crt": "" } }, /is empty/],
    ["not PEM", { files: { "/etc/kubernetes/certs/ca.crt": "garbage" } }, /holds no PEM certificate/],
  ])("a cluster CA file %s: CONFIG_INVALID naming it, and no token call", async (_name, extra, message) => {
    const { fail, httpCalls } = setup({ flags: IB_FLAGS, ...extra });
    const error = await fail(`${SERVER}/app`, saRequest);
    expect([error.code, error.message]).toEqual(["CONFIG_INVALID", expect.stringMatching(message)]);
    expect(httpCalls.map((c) => c.url)).toEqual([`https://${SERVER}/v2/`]);
  });

  it("a refusal names the endpoint and the OAuth error word, never the description", async () => {
    const { fail } = setup({
      flags: IB_FLAGS,
      files,
      ib: response(401, JSON.stringify({ error: "invalid_client", error_description: `leak ${SA_TOKEN}` })),
    });
    const error = await fail(`${SERVER}/app`, saRequest);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toMatch(
      /AKS identity bindings \(mycluster-dns-1a2b3c4d\.hcp\.eastus\.azmk8s\.io at 10\.0\.0\.1\) answered HTTP 401 \(invalid_client\): the service account must be bound/,
    );
    expect(error.message).not.toContain("leak");
  });

  it.each([
    ["no access_token", { expires_in: 3599 }],
    ["no expires_in", { access_token: IB_TOKEN }],
  ])("an answer with %s is INVALID_RESPONSE", async (_name, body) => {
    const { fail } = setup({ flags: IB_FLAGS, files, ib: response(200, JSON.stringify(body)) });
    const error = await fail(`${SERVER}/app`, saRequest);
    expect([error.code, error.message]).toEqual([
      "INVALID_RESPONSE",
      expect.stringContaining("without an access_token string and a numeric expires_in"),
    ]);
    expect(error.message).not.toContain(IB_TOKEN);
  });

  it("a token that expires within a minute is an error naming identity bindings", async () => {
    const { fail } = setup({
      flags: IB_FLAGS,
      files,
      ib: response(200, JSON.stringify({ access_token: IB_TOKEN, expires_in: 30 })),
    });
    const error = await fail(`${SERVER}/app`, saRequest);
    expect(error.message).toMatch(/AKS identity bindings/);
  });
});

describe("clouds", () => {
  it("China: login.chinacloudapi.cn, *.azurecr.cn", async () => {
    const { run, built, tokenCalls } = setup({ azureJson: { ...MANAGED, cloud: "AzureChinaCloud" } });
    await run("myacr.azurecr.cn/app");
    expect(built[0]?.context.cloud).toMatchObject({
      name: "AzureChinaCloud",
      authorityHost: "https://login.chinacloudapi.cn",
    });
    expect(tokenCalls[0]?.scope).toBe("https://containerregistry.azure.net/.default");
  });

  it("US Government: login.microsoftonline.us, *.azurecr.us", async () => {
    const { run, built } = setup({ azureJson: { ...MANAGED, cloud: "azureusgovernmentcloud" } });
    expect(Object.keys((await run("myacr.azurecr.us/app")).auth ?? {})).toEqual(["myacr.azurecr.us"]);
    expect(built[0]?.context.cloud.authorityHost).toBe("https://login.microsoftonline.us");
  });

  it.each([
    ["myacr.azurecr.cn/app", "AzurePublicCloud", "is a login server of AzureChinaCloud"],
    ["myacr.azurecr.us/app", "AzurePublicCloud", "is a login server of AzureUSGovernmentCloud"],
    ["myacr.azurecr.de/app", "AzurePublicCloud", "the retired Azure Germany cloud"],
    ["myacr.azurecr.io/app", "AzureChinaCloud", "is a login server of AzurePublicCloud"],
  ])("%s with %s: refused, no Entra token for another cloud's registry", async (image, cloud, reason) => {
    const { fail, built, httpCalls } = setup({ azureJson: { ...MANAGED, cloud } });
    const error = await fail(image);
    expect(error.code).toBe("NOT_MY_REGISTRY");
    expect(error.message).toContain(reason);
    expect(built).toEqual([]);
    expect(httpCalls).toEqual([]);
  });
});

describe("spoofed hosts never reach the token source", () => {
  it.each([
    "foo.azurecr.io.example/bar/image:version",
    "docker/foo.azurecr.io/bar/image:version",
    "foo.azurecr.io.azurecr.cn/app",
    "foo-azurecr-io.azurecr.cn/app",
    "foo.eastus2.data.azurecr.io/app",
    "foo.azurecr.io:443/app",
    "docker.io/library/busybox",
    "mcr.microsoft.com/app",
  ])("%s", async (image) => {
    const { fail, built, httpCalls, tokenCalls, files } = setup();
    const error = await fail(image);
    expect(error.code).toBe("NOT_MY_REGISTRY");
    expect(built).toEqual([]);
    expect(tokenCalls).toEqual([]);
    expect(httpCalls).toEqual([]);
    expect(files).toEqual([]);
  });

  it("says how to fix a port", async () => {
    expect((await setup().fail("foo.azurecr.io:443/app")).message).toContain("drop the port");
  });

  it("a realm on another host: the challenge is refused before any Entra token is asked for", async () => {
    const { fail, built, httpCalls } = setup({
      challenge: response(401, "", {
        "www-authenticate": 'Bearer realm="https://evil.example/oauth2/token",service="myacr.azurecr.io"',
      }),
    });
    const error = await fail(`${SERVER}/app`);
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain("refusing to send the Entra token there");
    expect(built).toEqual([]);
    expect(httpCalls).toHaveLength(1);
  });
});

describe("cacheDuration", () => {
  it.each([
    ["3 h left", { exp: NOW / 1000 + 3 * 3600 }, "1h30m0s"],
    ["1 min left", { exp: NOW / 1000 + 60 }, "30s"],
    ["far future, capped", { exp: NOW / 1000 + 30 * 86400 }, "6h0m0s"],
  ])("%s: %s", async (_name, claims, expected) => {
    const token = refreshToken(claims);
    const { run } = setup({ exchange: response(200, JSON.stringify({ refresh_token: token })) });
    expect((await run(`${SERVER}/app`)).cacheDuration).toBe(expected);
  });

  it('an unreadable exp: "0s" and a warning at -v 2', async () => {
    const { run, lines } = setup({
      exchange: response(200, JSON.stringify({ refresh_token: "opaque-refresh-token-0123" })),
    });
    expect((await run(`${SERVER}/app`)).cacheDuration).toBe("0s");
    expect(lines.join("")).toContain("warning: the ACR refresh token has no readable exp claim");
  });
});

describe("expired credentials are errors, never answers", () => {
  it.each([
    ["expired", NOW / 1000 - 10, "had already expired"],
    ["expiring within a minute", NOW / 1000 + 59, "expires within a minute"],
  ])("a refresh token %s: INVALID_RESPONSE naming the exchange", async (_name, exp, reason) => {
    const token = refreshToken({ exp });
    const { fail } = setup({ exchange: response(200, JSON.stringify({ refresh_token: token })) });
    const error = await fail(`${SERVER}/app`);
    expect(error).toBeInstanceOf(CloudCallError);
    expect(error).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "expired",
      endpoint: `ACR exchange (${SERVER})`,
    });
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain(token);
  });

  it.each([
    ["expired", NOW - 1000, "had already expired"],
    ["expiring within a minute", NOW + 59_000, "expires within a minute"],
  ])(
    "an Entra token %s: INVALID_RESPONSE naming where it came from; never exchanged",
    async (_name, expiresOnTimestamp, reason) => {
      const sp = setup({
        azureJson: { tenantId: "tenant-1", aadClientId: "c", aadClientSecret: CLIENT_SECRET },
        token: { token: ENTRA, expiresOnTimestamp },
      });
      const error = await sp.fail(`${SERVER}/app`);
      expect(error).toMatchObject({
        code: "INVALID_RESPONSE",
        fault: "expired",
        endpoint: "Entra token (login.microsoftonline.com, tenant tenant-1)",
      });
      expect(error.message).toContain(reason);
      expect(sp.httpCalls.map((c) => c.url)).toEqual([`https://${SERVER}/v2/`]);

      const managed = setup({ token: { token: ENTRA, expiresOnTimestamp } });
      expect(await managed.fail(`${SERVER}/app`)).toMatchObject({
        fault: "expired",
        endpoint: "Azure IMDS token",
      });
    },
  );

  it("a token valid for a minute and more is answered", async () => {
    const { run } = setup({ token: { token: ENTRA, expiresOnTimestamp: NOW + 60_000 } });
    expect((await run(`${SERVER}/app`)).auth?.[SERVER]?.password).toBe(REFRESH);
  });
});

describe("secrets", () => {
  it("registers the Entra token, the refresh token and the client secret; logs none at -v 10", async () => {
    const { run, secrets, lines } = setup({
      azureJson: { tenantId: "t", aadClientId: "c", aadClientSecret: CLIENT_SECRET },
    });
    await run(`${SERVER}/app`, { serviceAccountToken: undefined });
    for (const secret of [ENTRA, REFRESH, CLIENT_SECRET]) {
      expect(secrets.redact(`x ${secret} y`)).toBe("x [REDACTED] y");
    }
    const log = lines.join("");
    expect(log).toContain("identity: service principal c in tenant t with a client secret");
    for (const secret of [ENTRA, REFRESH, CLIENT_SECRET]) expect(log).not.toContain(secret);
  });
});

describe("errors", () => {
  it("an Entra refusal is CLOUD_AUTH_FAILED with the AADSTS code", async () => {
    const refusal = Object.assign(new Error("invalid_client"), {
      name: "AuthenticationError",
      statusCode: 401,
      errorResponse: {
        error: "invalid_client",
        errorDescription: "AADSTS7000215: Invalid client secret provided. Trace ID: x",
      },
    });
    const { fail, httpCalls } = setup({ token: refusal });
    const error = await fail(`${SERVER}/app`);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "Entra token for managed identity from https://login.microsoftonline.com: AADSTS7000215: Invalid client secret provided. (HTTP 401, invalid_client)",
    );
    expect(httpCalls.map((c) => c.url)).toEqual([`https://${SERVER}/v2/`]);
  });

  it("a failed call of the token source is reported as core's CloudCallError, as it is", async () => {
    const outage = new CloudCallError({
      endpoint: "Entra token (login.microsoftonline.com, tenant tenant-1)",
      fault: "server-error",
      status: 503,
      detail: "answered HTTP 503",
      attempts: 11,
      elapsedMs: 45_000,
    });
    expect(await setup({ token: outage }).fail(`${SERVER}/app`)).toBe(outage);
    expect(outage.message).toBe(
      "Entra token (login.microsoftonline.com, tenant tenant-1) answered HTTP 503 for 45 s (11 attempts)",
    );
  });

  it("no token is CLOUD_AUTH_FAILED", async () => {
    expect((await setup({ token: null }).fail(`${SERVER}/app`)).code).toBe("CLOUD_AUTH_FAILED");
    expect((await setup({ token: { token: "" } }).fail(`${SERVER}/app`)).code).toBe("CLOUD_AUTH_FAILED");
  });

  it("throttling and outages of the registry pass through typed", async () => {
    const throttled = new CredentialProviderError(
      "CLOUD_THROTTLED",
      "POST https://myacr.azurecr.io/oauth2/exchange answered 429",
    );
    expect(await setup({ exchange: throttled }).fail(`${SERVER}/app`)).toBe(throttled);
  });

  it("a malformed exchange answer is INVALID_RESPONSE, quoting none of it", async () => {
    const error = await setup({ exchange: response(200, "{not json", {}, `ACR exchange (${SERVER})`) }).fail(
      `${SERVER}/app`,
    );
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toBe(`ACR exchange (${SERVER}) answered HTTP 200 with a body that is not JSON`);
  });

  it("a missing azure.json is CONFIG_INVALID naming it", async () => {
    const provider = createAcrProvider({
      credentialFactory: () => {
        throw new Error("never");
      },
      readFile: async () => {
        throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      },
    });
    const { context } = setup();
    const error = await Promise.resolve(
      provider.getCredentials(
        { kind: "CredentialProviderRequest", apiVersion: API_VERSION_V1, image: `${SERVER}/app` },
        context,
      ),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect((error as Error).message).toContain(FILE);
  });
});

describe("the definition", () => {
  it("is named as the Go plugin, takes azure.json, --registry-mirror and the --ib-* flags, matches what AKS configures", () => {
    expect(defaultProvider.name).toBe("acr-credential-provider");
    expect(defaultProvider.version).toBe(VERSION);
    expect(defaultProvider.positionals).toEqual([expect.objectContaining({ name: "azure.json" })]);
    expect(Object.keys(defaultProvider.flags)).toEqual([
      "registry-mirror",
      "ib-sni-name",
      "ib-apiserver-ip",
      "ib-default-client-id",
      "ib-default-tenant-id",
      "ib-ca-file",
    ]);
    expect(defaultProvider.defaultMatchImages).toEqual(ACR_MATCH_IMAGES);
  });
});

describe("through the harness", () => {
  async function exec(argv: string[], request: object) {
    const provider = createAcrProvider({
      credentialFactory: () => {
        throw new Error("never called");
      },
      readFile: async () => new TextEncoder().encode(JSON.stringify(MANAGED)),
    });
    return execProvider(provider, argv, request);
  }

  it.each(apiVersions)("%s: a spoofed host fails with one line, nothing on stdout", async (apiVersion) => {
    const { stdout, stderr, code } = await exec([FILE, "-v", "10"], {
      kind: "CredentialProviderRequest",
      apiVersion,
      image: "foo.azurecr.io.example/app",
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const last = stderr.trim().split("\n").at(-1) ?? "";
    expect(last).toContain("foo.azurecr.io.example is not an Azure Container Registry login server");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("azure.json is a required argument", async () => {
    const { stdout, stderr, code } = await exec([], {
      kind: "CredentialProviderRequest",
      apiVersion: API_VERSION_V1,
      image: `${SERVER}/a`,
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe("acr-credential-provider: usage: missing argument AZURE.JSON (see --help)\n");
  });

  it("--help and --version work without azure.json", async () => {
    const help = await exec(["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("acr-credential-provider");
    expect(help.stdout).toContain("--registry-mirror");
    const version = await exec(["--version"], {});
    expect(version).toMatchObject({
      code: 0,
      stdout: `${versionLine("acr-credential-provider", VERSION)}\n`,
    });
  });

  it("a second argument is a usage error, as in the Go plugin", async () => {
    const { code, stderr } = await exec([FILE, "extra"], {
      kind: "CredentialProviderRequest",
      apiVersion: API_VERSION_V1,
      image: `${SERVER}/a`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('unexpected argument "extra"');
  });
});
