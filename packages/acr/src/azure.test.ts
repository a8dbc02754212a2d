/**
 * The @azure/identity factory: which credential each identity gets, built with which options, and
 * the certificate checks. One test lets a credential call out, to a local proxy that refuses every
 * CONNECT: it shows the Entra call goes through HTTPS_PROXY from the run's env to the cloud's
 * authority host, and fails typed. Nothing leaves 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { writeCertificateFixtures } from "../testdata/certs.ts";
import {
  createAzureCredential,
  credentialOptions,
  ENTRA_ATTEMPT_TIMEOUT_MS,
  readPemCertificate,
} from "./azure.ts";
import { AZURE_CLOUDS } from "./clouds.ts";
import { toEntraError } from "./errors.ts";
import type { CredentialContext, IdentitySpec } from "./identity.ts";

const { PEM, ENCRYPTED, PFX, CERT_ONLY } = writeCertificateFixtures();

function context(extra: Partial<CredentialContext> = {}): CredentialContext {
  const secrets = new SecretRegistry();
  return {
    cloud: AZURE_CLOUDS.AzureChinaCloud,
    signal: new AbortController().signal,
    deadline: Date.now() + 50_000,
    env: {},
    log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write() {} } }),
    secrets,
    ...extra,
  };
}

type Policy = {
  sendRequest(request: Record<string, unknown>, next: (r: unknown) => Promise<unknown>): Promise<unknown>;
};

describe("credentialOptions", () => {
  it("the cloud's authority, the SDK's retries, no redirects, no account identifiers in logs", async () => {
    const options = await credentialOptions(context());
    expect(options).toMatchObject({
      authorityHost: "https://login.chinacloudapi.cn",
      retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
      redirectOptions: { maxRetries: 0 },
      loggingOptions: { allowLoggingAccountIdentifiers: false, enableUnsafeSupportLogging: false },
    });
    expect(options.additionalPolicies).toHaveLength(1);
    expect(options.additionalPolicies?.[0]?.position).toBe("perRetry");
  });

  async function send(url: string, extra: Partial<CredentialContext> = {}, agent?: unknown) {
    const options = await credentialOptions(context(extra));
    const policy = options.additionalPolicies?.[0]?.policy as unknown as Policy;
    const request: Record<string, unknown> = { url, timeout: 0, agent };
    await policy.sendRequest(request, async (r) => r);
    return request;
  }

  it("https calls: core's proxy agent (HTTPS_PROXY, NO_PROXY by core's rules), a timeout per attempt", async () => {
    const request = await send("https://login.chinacloudapi.cn/t/oauth2/v2.0/token", {
      env: { HTTPS_PROXY: "http://proxy:3128" },
    });
    expect(request.agent).toBeInstanceOf(https.Agent);
    expect((request.agent as object).constructor.name).toBe("EnvProxyAgent");
    expect(request.timeout).toBe(ENTRA_ATTEMPT_TIMEOUT_MS);
  });

  it("the timeout never runs past the deadline", async () => {
    const request = await send("https://login.chinacloudapi.cn/x", { deadline: Date.now() + 1500 });
    expect(request.timeout).toBeGreaterThan(0);
    expect(request.timeout).toBeLessThanOrEqual(1500);
  });

  it("plain http (the metadata service): direct unless a proxy applies; loopback never proxied", async () => {
    const env = { HTTP_PROXY: "http://proxy:3128", NO_PROXY: "169.254.169.254" };
    const sdkChoice = { sdk: true };
    const imds = await send("http://169.254.169.254/metadata/identity/oauth2/token", { env }, sdkChoice);
    expect(imds.agent).toBeInstanceOf(http.Agent);
    expect(imds.agent).not.toBeInstanceOf(https.Agent);
    const loopback = await send(
      "http://127.0.0.1:40342/metadata/identity/oauth2/token",
      { env: { HTTP_PROXY: "http://proxy:3128" } },
      sdkChoice,
    );
    expect(loopback.agent).toBeInstanceOf(http.Agent);
    const proxied = await send("http://10.0.0.5/token", { env }, sdkChoice);
    expect(proxied.agent).toBe(sdkChoice);
  });
});

describe("createAzureCredential", () => {
  const cases: Array<[IdentitySpec, string]> = [
    [
      { kind: "serviceAccount", tenantId: "t", clientId: "c", assertion: "sa-token-0123456789" },
      "ClientAssertionCredential",
    ],
    [
      { kind: "workloadIdentity", tenantId: "t", clientId: "c", tokenFilePath: "/var/run/token" },
      "WorkloadIdentityCredential",
    ],
    [{ kind: "managedIdentity" }, "ManagedIdentityCredential"],
    [{ kind: "managedIdentity", clientId: "mi-client" }, "ManagedIdentityCredential"],
    [{ kind: "managedIdentity", resourceId: "/subscriptions/s/rg/x" }, "ManagedIdentityCredential"],
    [
      { kind: "clientSecret", tenantId: "t", clientId: "c", clientSecret: "client-secret-0123456789" },
      "ClientSecretCredential",
    ],
    [
      { kind: "clientCertificate", tenantId: "t", clientId: "c", certificatePath: PEM },
      "ClientCertificateCredential",
    ],
    [
      {
        kind: "clientCertificate",
        tenantId: "t",
        clientId: "c",
        certificatePath: ENCRYPTED,
        certificatePassword: "test-cert-password",
      },
      "ClientCertificateCredential",
    ],
  ];
  it.each(cases.map(([spec, name]) => [spec.kind, name, spec] as const))(
    "%s: %s",
    async (_kind, name, spec) => {
      const ctx = context();
      const credential = await createAzureCredential(spec, ctx);
      expect(credential.constructor.name).toBe(name);
      expect(typeof credential.getToken).toBe("function");
      if (spec.kind === "clientSecret") expect(ctx.secrets.redact(spec.clientSecret)).toBe("[REDACTED]");
      if (spec.kind === "serviceAccount") expect(ctx.secrets.redact(spec.assertion)).toBe("[REDACTED]");
      if (spec.kind === "clientCertificate" && spec.certificatePassword) {
        expect(ctx.secrets.redact(spec.certificatePassword)).toBe("[REDACTED]");
      }
    },
  );

  it("the token request goes to the cloud's authority through HTTPS_PROXY from the run's env, and fails typed", {
    timeout: 30_000,
  }, async () => {
    const connects: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on("connect", (req, socket) => {
      connects.push(req.url ?? "");
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const ctx = context({
        env: { HTTPS_PROXY: `http://127.0.0.1:${port}` },
        deadline: Date.now() + 20_000,
      });
      const spec: IdentitySpec = {
        kind: "clientSecret",
        tenantId: "tenant-1",
        clientId: "c",
        clientSecret: "client-secret-0123456789",
      };
      const credential = await createAzureCredential(spec, ctx);
      const error = await credential.getToken(ctx.cloud.acrScope, { abortSignal: ctx.signal }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(connects.length).toBeGreaterThan(0);
      expect(new Set(connects)).toEqual(new Set(["login.chinacloudapi.cn:443"]));
      const typed = toEntraError(error, "Entra token");
      expect(["CLOUD_UNAVAILABLE", "CLOUD_AUTH_FAILED"]).toContain(typed.code);
      expect(typed.message).not.toContain("client-secret-0123456789");
      expect(typed.message).not.toContain("\n");
    } finally {
      proxy.close();
    }
  });
});

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
