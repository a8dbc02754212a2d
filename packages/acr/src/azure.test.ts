/**
 * The @azure/identity factory, with the real SDK and MSAL: which credential each identity gets and
 * with which options, that every call they make goes through the run's HTTP client (core's), and,
 * over core's real client against a loopback Entra and IMDS (testdata/fake-azure.ts), what an
 * operator reads when those calls fail, and that core's retry policy is the only one. Waits
 * between attempts are injected: the clock (Date) is advanced by them, never slept; attempt
 * timeouts run on fake timers. Nothing leaves 127.0.0.1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import {
  CloudCallError,
  createHttpClient,
  createLogger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeCertificateFixtures } from "../testdata/certs.ts";
import type { FakeAzure } from "../testdata/fake-azure.ts";
import { loopbackTo, startFakeAzure } from "../testdata/fake-azure.ts";
import {
  buildSdkCredential,
  createAzureCredential,
  credentialOptions,
  loadAzureSdk,
  readPemCertificate,
  tokenExchangeOf,
} from "./azure.ts";
import { createAzureHttp } from "./azure-http.ts";
import { AZURE_CLOUDS } from "./clouds.ts";
import type { CredentialContext, EntraIdentitySpec as IdentitySpec } from "./identity.ts";

const { PEM, ENCRYPTED, PFX, CERT_ONLY } = writeCertificateFixtures();
const SCOPE = "https://containerregistry.azure.net/.default";
const SECRET = "client-secret~0123456789";
const ENTRA = "Entra token (login.microsoftonline.com, tenant tenant-1)";
const SP: IdentitySpec = {
  kind: "clientSecret",
  tenantId: "tenant-1",
  clientId: "sp-client",
  clientSecret: SECRET,
};

/**
 * MSAL keeps managed identity tokens in a cache shared by the whole process (one exec, one
 * request, in production). Each test runs on its own day, a day after the last, so that every
 * token an earlier test got has expired and its calls are made.
 */
let day = 0;
const START = Date.now();
function nextDay(toFake: Array<"Date" | "setTimeout" | "clearTimeout"> = ["Date"]): void {
  vi.useFakeTimers({ toFake, now: START + ++day * 86_400_000 });
}

function context(extra: Partial<CredentialContext> = {}): CredentialContext & { lines: string[] } {
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  return {
    cloud: AZURE_CLOUDS.AzurePublicCloud,
    signal: new AbortController().signal,
    deadline: Date.now() + 50_000,
    env: {},
    log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write: (l: string) => lines.push(l) } }),
    secrets,
    http: { request: () => Promise.reject(new Error("no call expected")) },
    lines,
    ...extra,
  };
}

/** A core HttpClient stand-in that records every call and answers each with a token. */
function recordingHttp() {
  const calls: Array<{ url: URL; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      const target = new URL(String(url));
      calls.push({ url: target, options });
      const seconds = Math.floor(Date.now() / 1000);
      const body = target.pathname.startsWith("/metadata/")
        ? {
            access_token: "imds-token-0123",
            expires_in: "3599",
            expires_on: String(seconds + 3599),
            token_type: "Bearer",
          }
        : { access_token: "entra-token-0123", expires_in: 3599, token_type: "Bearer" };
      const text = JSON.stringify(body);
      const response: HttpResponse = {
        status: 200,
        headers: { "content-type": "application/json" },
        body: Buffer.from(text),
        endpoint: options.endpoint ?? "",
        text: () => text,
        json: () => body,
      };
      return response;
    },
  };
  return { http, calls };
}

async function failure(promise: Promise<unknown>): Promise<CloudCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof CloudCallError) return error;
  throw new Error(`expected a CloudCallError, got ${String(error)}`);
}

describe("credentialOptions", () => {
  it("the cloud's authority, the run's HTTP client, no retries or redirects of the SDK's own", () => {
    const httpClient = { sendRequest: async () => ({}) as never };
    const options = credentialOptions({ cloud: AZURE_CLOUDS.AzureChinaCloud }, httpClient);
    expect(options).toEqual({
      authorityHost: "https://login.chinacloudapi.cn",
      httpClient,
      retryOptions: { maxRetries: 0 },
      redirectOptions: { maxRetries: 0 },
      loggingOptions: { allowLoggingAccountIdentifiers: false, enableUnsafeSupportLogging: false },
      userAgentOptions: { userAgentPrefix: "acr-credential-provider" },
    });
  });
});

describe("every identity's calls go through the run's HTTP client", () => {
  const dir = mkdtempSync(join(tmpdir(), "acr-azure-"));
  const tokenFile = join(dir, "federated-token");
  writeFileSync(tokenFile, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.federated-signature");

  const cases: Array<[string, IdentitySpec, string, string]> = [
    ["a client secret", SP, "ClientSecretCredential", ENTRA],
    [
      "a certificate",
      { kind: "clientCertificate", tenantId: "tenant-1", clientId: "c", certificatePath: PEM },
      "ClientCertificateCredential",
      ENTRA,
    ],
    [
      "an encrypted certificate",
      {
        kind: "clientCertificate",
        tenantId: "tenant-1",
        clientId: "c",
        certificatePath: ENCRYPTED,
        certificatePassword: "test-cert-password",
      },
      "ClientCertificateCredential",
      ENTRA,
    ],
    [
      "a service account token",
      { kind: "serviceAccount", tenantId: "tenant-1", clientId: "c", assertion: "sa-token-0123456789" },
      "ClientAssertionCredential",
      ENTRA,
    ],
    [
      "workload identity",
      { kind: "workloadIdentity", tenantId: "tenant-1", clientId: "c", tokenFilePath: tokenFile },
      "WorkloadIdentityCredential",
      ENTRA,
    ],
    [
      "the system-assigned managed identity",
      { kind: "managedIdentity" },
      "ManagedIdentityCredential",
      "Azure IMDS token",
    ],
    [
      "a user-assigned managed identity by client id",
      { kind: "managedIdentity", clientId: "mi-client-recorded" },
      "ManagedIdentityCredential",
      "Azure IMDS token",
    ],
    [
      "a user-assigned managed identity by resource id",
      { kind: "managedIdentity", resourceId: "/subscriptions/s/rg/recorded" },
      "ManagedIdentityCredential",
      "Azure IMDS token",
    ],
  ];

  beforeEach(() => nextDay());
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(cases)("%s: %s", async (_name, spec, credentialName) => {
    const { http } = recordingHttp();
    const ctx = context({ http });
    const sdk = await loadAzureSdk();
    const azure = createAzureHttp({ http, createHttpHeaders: sdk.createHttpHeaders, secrets: ctx.secrets });
    expect((await buildSdkCredential(sdk.identity, spec, ctx, azure)).constructor.name).toBe(credentialName);
  });

  // The certificate credentials sign with the same MSAL client as the secret's (and the fixture's
  // key is an EC key, which MSAL does not sign with): the e2e test gets them a token.
  it.each(cases.filter(([, spec]) => spec.kind !== "clientCertificate"))(
    "%s: its token call through the client",
    async (_name, spec, _credentialName, endpoint) => {
      const { http, calls } = recordingHttp();
      const ctx = context({ http });
      const token = await (await createAzureCredential(spec, ctx)).getToken(SCOPE, {
        abortSignal: ctx.signal,
      });
      expect(token?.token).toMatch(/^(entra|imds)-token-0123$/);
      expect(calls.map((c) => c.options.endpoint)).toEqual([endpoint]);
      const call = calls[0];
      if (endpoint === ENTRA) {
        expect(`${call?.url.origin}${call?.url.pathname}`).toBe(
          "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token",
        );
        expect(call?.options.method).toBe("POST");
      } else {
        expect(`${call?.url.origin}${call?.url.pathname}`).toBe(
          "http://169.254.169.254/metadata/identity/oauth2/token",
        );
        expect(call?.url.searchParams.get("resource")).toBe("https://containerregistry.azure.net");
      }
      if (spec.kind === "clientSecret") expect(ctx.secrets.redact(spec.clientSecret)).toBe("[REDACTED]");
      if (spec.kind === "serviceAccount") expect(ctx.secrets.redact(spec.assertion)).toBe("[REDACTED]");
      if (spec.kind === "clientCertificate" && spec.certificatePassword) {
        expect(ctx.secrets.redact(spec.certificatePassword)).toBe("[REDACTED]");
      }
      expect(ctx.secrets.redact(token?.token ?? "")).toBe("[REDACTED]");
    },
  );

  it("a managed identity with a federated token in the environment: exchanged as workload identity, through the client", async () => {
    const { http, calls } = recordingHttp();
    const env = {
      AZURE_TENANT_ID: "tenant-1",
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_CLIENT_ID: "env-client",
    };
    const spec: IdentitySpec = { kind: "managedIdentity", clientId: "mi-client" };
    expect(tokenExchangeOf(spec, env)).toEqual({
      tenantId: "tenant-1",
      clientId: "mi-client",
      tokenFilePath: tokenFile,
    });
    expect(
      tokenExchangeOf({ kind: "managedIdentity" }, { ...env, AZURE_CLIENT_ID: undefined }),
    ).toBeUndefined();
    const ctx = context({ http, env });
    await (await createAzureCredential(spec, ctx)).getToken(SCOPE, { abortSignal: ctx.signal });
    expect(calls.map((c) => c.options.endpoint)).toEqual([ENTRA]);
    expect(new URLSearchParams(String(calls[0]?.options.body)).get("client_id")).toBe("mi-client");
  });
});

describe("over core's client, against a loopback Entra and IMDS", () => {
  let azure: FakeAzure;
  let sleeps: number[];
  let logLines: string[];
  beforeEach(async () => {
    azure = await startFakeAzure();
    sleeps = [];
    logLines = [];
    nextDay(["Date", "setTimeout", "clearTimeout"]);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await azure.close();
  });

  /** Core's real client for a run with a 50 s deadline; waits advance the clock instead of sleeping. */
  function coreClient(env: Record<string, string> = {}, onSleep?: () => Promise<void>): HttpClient {
    const secrets = new SecretRegistry();
    return createHttpClient({
      userAgent: "t",
      deadline: Date.now() + 50_000,
      env,
      random: () => 0.5,
      log: createLogger({
        name: "core",
        verbosity: 4,
        secrets,
        sink: { write: (l: string) => logLines.push(l) },
      }),
      sleep: async (ms) => {
        sleeps.push(ms);
        vi.setSystemTime(Date.now() + ms);
        await onSleep?.();
      },
    });
  }

  async function token(spec: IdentitySpec = SP, client: HttpClient = loopbackTo(azure.port, coreClient())) {
    const ctx = context({ http: client });
    const credential = await createAzureCredential(spec, ctx);
    return credential.getToken(SCOPE, { abortSignal: ctx.signal });
  }

  /** Lets real I/O run until `done`, without advancing the fake clock. */
  async function until(done: () => boolean): Promise<void> {
    for (let i = 0; i < 10_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
    if (!done()) throw new Error("condition not reached");
  }

  describe("retries (core's policy, the only one)", () => {
    it("an Entra 429 without Retry-After is retried, then the token", async () => {
      azure.script("entra", { status: 429 }, { status: 429 }, { status: 429 });
      expect((await token())?.token).toMatch(/^fake-entra-token-/);
      expect(azure.calls("entra")).toBe(4);
      expect(sleeps).toHaveLength(3);
    });

    it("an Entra 503 that persists: core's attempts until the deadline, each one call (none multiplied by the SDK)", async () => {
      azure.always("entra", { status: 503 });
      const error = await failure(token());
      expect(error.code).toBe("CLOUD_UNAVAILABLE");
      expect(error.message).toMatch(
        new RegExp(`^${escapeRegExp(ENTRA)} answered HTTP 503 for \\d+ s \\(\\d+ attempts\\)$`),
      );
      expect(error.attempts).toBeGreaterThan(5);
      expect(azure.calls("entra")).toBe(error.attempts);
    });

    it("an IMDS 503 that persists: the same, with the SDK's and MSAL's IMDS retries off", async () => {
      azure.always("imds", { status: 503 });
      const error = await failure(token({ kind: "managedIdentity", clientId: "mi-503" }));
      expect(error.message).toMatch(/^Azure IMDS token answered HTTP 503 for \d+ s \(\d+ attempts\)$/);
      expect(azure.calls("imds")).toBe(error.attempts);
    });

    it("IMDS 410 (being updated) is retried by core; 404 is final, asked once", async () => {
      azure.script("imds", { status: 410 }, { status: 410 });
      expect((await token({ kind: "managedIdentity", clientId: "mi-410" }))?.token).toMatch(
        /^fake-imds-token-/,
      );
      expect(azure.calls("imds")).toBe(3);
      azure.script("imds", {
        status: 404,
        body: '{"error":"invalid_request","error_description":"Identity not found"}',
      });
      const error = await failure(token({ kind: "managedIdentity", clientId: "mi-404" }));
      expect(error.message).toBe("Azure IMDS token answered HTTP 404: Identity not found (invalid_request)");
      expect(error.code).toBe("CLOUD_AUTH_FAILED");
      expect(azure.calls("imds")).toBe(4);
    });

    it("an Entra hang is retried within the deadline (the attempt times out at 10 s)", async () => {
      azure.script("entra", "hang");
      const pending = token();
      await until(() => azure.calls("entra") === 1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect((await pending)?.token).toMatch(/^fake-entra-token-/);
      expect(azure.calls("entra")).toBe(2);
    });

    it("an Entra answer whose body stalls is retried", async () => {
      azure.script("entra", "slowBody");
      const pending = token();
      await until(() => azure.calls("entra") === 1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect((await pending)?.token).toMatch(/^fake-entra-token-/);
      expect(azure.calls("entra")).toBe(2);
    });

    it("a connection reset is retried", async () => {
      azure.script("entra", "reset");
      expect((await token())?.token).toMatch(/^fake-entra-token-/);
      expect(azure.calls("entra")).toBe(2);
    });

    it("a proxy that refuses the connection is retried (here: then refuses the CONNECT, which is final)", async () => {
      const proxy = http.createServer((_request, response) => response.writeHead(405).end());
      const connects: string[] = [];
      proxy.on("connect", (request, socket) => {
        connects.push(request.url ?? "");
        socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      });
      const port = await freePort();
      // Down for the first attempt; up by the second.
      const client = coreClient({ HTTPS_PROXY: `http://127.0.0.1:${port}` }, async () => {
        if (!proxy.listening) await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
      });
      try {
        const error = await failure(token(SP, client));
        expect(error).toMatchObject({ endpoint: ENTRA, fault: "proxy", attempts: 2 });
        expect(logLines.join("")).toContain("ECONNREFUSED");
        expect(connects).toEqual(["login.microsoftonline.com:443"]);
      } finally {
        proxy.close();
      }
    });
  });

  describe("what the operator reads", () => {
    it("a reset that persists: the connection failure, naming Entra, not MSAL's network_error", async () => {
      azure.always("entra", "reset");
      const error = await failure(token());
      expect(error.code).toBe("CLOUD_UNAVAILABLE");
      expect(error.message).toMatch(
        new RegExp(`^${escapeRegExp(ENTRA)} dropped the connection \\(ECONNRESET\\) for \\d+ s`),
      );
      expect(error.message).not.toMatch(/network_error|aka\.ms/);
    });

    it("an HTML page answered 200 is malformed, naming Entra, quoting none of it", async () => {
      azure.script("entra", "html");
      const error = await failure(token());
      expect(error).toMatchObject({ code: "INVALID_RESPONSE", fault: "malformed", endpoint: ENTRA });
      expect(error.message).toBe(`${ENTRA} answered HTTP 200 with a body that is not JSON`);
    });

    it("an AADSTS refusal: CLOUD_AUTH_FAILED with the code and a short description; no secret, no link", async () => {
      azure.script("entra", {
        status: 401,
        body: JSON.stringify({
          error: "invalid_client",
          error_description:
            "AADSTS7000215: Invalid client secret provided. Trace ID: 1b2c Correlation ID: 3d4e Timestamp: 2026-06-01 00:00:00Z",
          error_codes: [7000215],
          error_uri: "https://login.microsoftonline.com/error?code=7000215",
        }),
      });
      const error = await failure(token());
      expect(error.code).toBe("CLOUD_AUTH_FAILED");
      expect(error.message).toBe(
        `${ENTRA} answered HTTP 401: AADSTS7000215: Invalid client secret provided. (invalid_client)`,
      );
      expect(error.message).not.toContain(SECRET);
      expect(azure.calls("entra")).toBe(1);
    });

    it("an Entra answer over 1 MiB is too-large, not read to its end and not retried", async () => {
      azure.script("entra", { huge: 2 * 1024 * 1024 });
      const error = await failure(token());
      expect(error).toMatchObject({ code: "INVALID_RESPONSE", fault: "too-large", endpoint: ENTRA });
      expect(error.message).toBe(`${ENTRA} sent an answer larger than 1 MiB`);
      expect(azure.calls("entra")).toBe(1);
    });

    it("an IMDS answer over 1 MiB too", async () => {
      azure.script("imds", { huge: 2 * 1024 * 1024 });
      const error = await failure(token({ kind: "managedIdentity", clientId: "mi-huge" }));
      expect(error).toMatchObject({ fault: "too-large", endpoint: "Azure IMDS token" });
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("readPemCertificate", () => {
  const read = (path: string, password?: string, secrets = new SecretRegistry()) =>
    readPemCertificate(path, password, { secrets });

  it("reads a PEM with the certificate and its key, and registers the key as a secret", async () => {
    const secrets = new SecretRegistry();
    const text = await read(PEM, undefined, secrets);
    expect(text).toContain("-----BEGIN CERTIFICATE-----");
    const key =
      /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(readFileSync(PEM, "utf8"))?.[0] ??
      "";
    expect(secrets.redact(key)).toBe("[REDACTED]");
  });

  it("reads an encrypted key with its password", async () => {
    expect(await read(ENCRYPTED, "test-cert-password")).toContain("ENCRYPTED PRIVATE KEY");
  });

  it.each([
    ["a PKCS#12 file", PFX, undefined, "is PKCS#12 (.pfx) or DER, but @azure/identity needs PEM"],
    ["a certificate without its key", CERT_ONLY, undefined, "has no private key"],
    ["an encrypted key without a password", ENCRYPTED, undefined, "set aadClientCertPassword"],
    ["an encrypted key with a wrong password", ENCRYPTED, "wrong", "wrong aadClientCertPassword?"],
    ["a missing file", "/nonexistent/sp.pem", undefined, "no such file"],
  ])("refuses %s, naming the file", async (_name, path, password, reason) => {
    const error = await read(path, password).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect((error as Error).message).toContain(`aadClientCertPath ${path}: `);
    expect((error as Error).message).toContain(reason);
  });

  it("the PKCS#12 message says how to convert it", async () => {
    const error = await read(PFX).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain(`openssl pkcs12 -in ${PFX} -out ${PFX}.pem -nodes`);
  });
});
