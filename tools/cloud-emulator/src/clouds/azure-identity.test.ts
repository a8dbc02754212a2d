/**
 * Where an Azure caller's access token comes from, emulated: Entra ID's token endpoint with a
 * client secret, a certificate-signed assertion (signed here with node:crypto, as MSAL does) or a
 * federated token, and IMDS managed identity; each call kept so a test can say which identity
 * got a token.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ClientCertificate, ClientResponse, Emulator } from "../index.ts";
import { jwtBearer, startEmulator } from "../index.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

const scope = "https://containerregistry.azure.net/.default";
const publicHost = "login.microsoftonline.com";
const tokenUrl = (tenant = emulator.azure.tenantId, host = publicHost) =>
  `https://${host}/${tenant}/oauth2/v2.0/token`;

function postToken(
  params: Record<string, string>,
  tenant = emulator.azure.tenantId,
  host = publicHost,
): Promise<ClientResponse> {
  return emulator.request(`${tokenUrl(tenant, host)}?client-request-id=${randomUUID()}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded;charset=utf-8" },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, ...params }).toString(),
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A client assertion as MSAL builds it: PS256, `x5t#S256` of the certificate. */
function assertion(
  cert: Pick<ClientCertificate, "certPem" | "keyPem">,
  clientId: string,
  overrides: { aud?: string; exp?: number; iss?: string; alg?: "PS256" | "RS256"; key?: string } = {},
): string {
  const der = Buffer.from(cert.certPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
  const alg = overrides.alg ?? "PS256";
  const header =
    alg === "PS256"
      ? { alg, typ: "JWT", "x5t#S256": createHash("sha256").update(der).digest("base64url") }
      : { alg, typ: "JWT", x5t: createHash("sha1").update(der).digest("base64url") };
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud: overrides.aud ?? tokenUrl(),
    exp: overrides.exp ?? now + 600,
    iss: overrides.iss ?? clientId,
    sub: overrides.iss ?? clientId,
    nbf: now,
    jti: randomUUID(),
    iat: now,
  };
  const input = `${b64(header)}.${b64(claims)}`;
  const key = createPrivateKey(overrides.key ?? cert.keyPem);
  const signature =
    alg === "PS256"
      ? sign("sha256", Buffer.from(input), { key, padding: 6, saltLength: 32 })
      : sign("sha256", Buffer.from(input), key);
  return `${input}.${signature.toString("base64url")}`;
}

function expectEntraError(response: ClientResponse, status: number, error: string, code: number) {
  expect(response.status).toBe(status);
  const body = response.json() as { error: string; error_description: string; error_codes: number[] };
  expect(body.error).toBe(error);
  expect(body.error_codes).toEqual([code]);
  expect(body.error_description).toMatch(
    new RegExp(`^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: `),
  );
}

function decodeClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8"));
}

const imds = (query: string, headers: Record<string, string> = { metadata: "true" }) =>
  emulator.request(`${emulator.httpUrl}/metadata/identity/oauth2/token${query}`, { headers });

describe("Entra ID token endpoint", () => {
  it("issues a JWT access token for a registered client secret, in the ledger", async () => {
    const clientId = randomUUID();
    const secret = emulator.azure.registerClientSecret(clientId);
    expect(secret).toMatch(/^entra-secret-[0-9a-f]{24}$/);
    const response = await postToken({ client_id: clientId, client_secret: secret });
    expect(response.status).toBe(200);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    const token = body.access_token as string;
    expect(emulator.issued()).toEqual(expect.arrayContaining([secret, token]));
    const claims = decodeClaims(token);
    expect(claims).toMatchObject({
      aud: "https://containerregistry.azure.net",
      tid: emulator.azure.tenantId,
      appid: clientId,
      iss: `https://sts.windows.net/${emulator.azure.tenantId}/`,
      idtyp: "app",
    });
    expect(claims.oid).toMatch(/^[0-9a-f-]{36}$/);
    expect(emulator.azure.tokenCalls("entra").at(-1)).toMatchObject({
      host: publicHost,
      cloud: "AzurePublicCloud",
      tenantId: emulator.azure.tenantId,
      clientId,
      grantType: "client_credentials",
      credential: "client_secret",
      scope,
      resource: "https://containerregistry.azure.net",
      outcome: "ok",
      principal: { kind: "application", clientId },
      accessToken: token,
    });
    expect(emulator.azure.accessToken(token)?.principal.clientId).toBe(clientId);
  });

  it("refuses a wrong secret (AADSTS7000215), an unknown client and an unknown tenant", async () => {
    const clientId = randomUUID();
    emulator.azure.registerClientSecret(clientId);
    expectEntraError(
      await postToken({ client_id: clientId, client_secret: "nope" }),
      401,
      "invalid_client",
      7000215,
    );
    expect(emulator.azure.tokenCalls().at(-1)).toMatchObject({
      outcome: "invalid_client",
      errorCode: 7000215,
    });
    // A secret of another app is no better.
    const other = emulator.azure.registerClientSecret(randomUUID());
    expectEntraError(
      await postToken({ client_id: clientId, client_secret: other }),
      401,
      "invalid_client",
      7000215,
    );
    expectEntraError(
      await postToken({ client_id: randomUUID(), client_secret: other }),
      400,
      "unauthorized_client",
      700016,
    );
    expectEntraError(
      await postToken({ client_id: clientId, client_secret: other }, randomUUID()),
      400,
      "invalid_tenant",
      90002,
    );
    expectEntraError(await postToken({ client_id: clientId }), 401, "invalid_client", 7000218);
  });

  it("takes secrets per tenant", async () => {
    const clientId = randomUUID();
    const tenant = randomUUID();
    const secret = emulator.azure.registerClientSecret(clientId, tenant);
    expect((await postToken({ client_id: clientId, client_secret: secret }, tenant)).status).toBe(200);
    expectEntraError(
      await postToken({ client_id: clientId, client_secret: secret }),
      400,
      "unauthorized_client",
      700016,
    );
  });

  it("checks grant type and scope as Entra does", async () => {
    const clientId = randomUUID();
    const secret = emulator.azure.registerClientSecret(clientId);
    const base = { client_id: clientId, client_secret: secret };
    expectEntraError(
      await postToken({ ...base, grant_type: "password" }),
      400,
      "unsupported_grant_type",
      70003,
    );
    expectEntraError(
      await postToken({ ...base, scope: "https://containerregistry.azure.net" }),
      400,
      "invalid_scope",
      1002012,
    );
    expectEntraError(await postToken({ ...base, scope: "" }), 400, "invalid_request", 900144);
    expectEntraError(await postToken(base, "common"), 400, "invalid_request", 50059);
    // MSAL may add OIDC scopes; they do not count as a second resource.
    expect((await postToken({ ...base, scope: `${scope} openid offline_access` })).status).toBe(200);
  });

  describe("certificate assertion", () => {
    const clientId = randomUUID();
    let cert: ClientCertificate;
    beforeAll(async () => {
      cert = await emulator.azure.registerClientCertificate(clientId);
    });

    it("writes certificate and key to one 0600 PEM file under the emulator's dir", async () => {
      expect(cert.certPemPath.startsWith(emulator.dir)).toBe(true);
      expect(await readFile(cert.certPemPath, "utf8")).toBe(`${cert.certPem}${cert.keyPem}`);
      expect((await stat(cert.certPemPath)).mode & 0o777).toBe(0o600);
      expect(cert.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
      expect(cert.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    });

    it("accepts PS256 with x5t#S256 and RS256 with x5t, signed by the registered key", async () => {
      for (const alg of ["PS256", "RS256"] as const) {
        const response = await postToken({
          client_id: clientId,
          client_assertion_type: jwtBearer,
          client_assertion: assertion(cert, clientId, { alg }),
        });
        expect(response.status).toBe(200);
        expect(emulator.azure.tokenCalls().at(-1)).toMatchObject({
          credential: "certificate",
          assertionType: jwtBearer,
          thumbprint: cert.thumbprint,
          outcome: "ok",
          principal: { clientId },
        });
      }
    });

    it("accepts the token endpoint under the China alias MSAL calls", async () => {
      const chinaClient = randomUUID();
      const chinaCert = await emulator.azure.registerClientCertificate(chinaClient);
      const host = "login.partner.microsoftonline.cn";
      const response = await postToken(
        {
          client_id: chinaClient,
          client_assertion_type: jwtBearer,
          client_assertion: assertion(chinaCert, chinaClient, { aud: tokenUrl(undefined, host) }),
        },
        emulator.azure.tenantId,
        host,
      );
      expect(response.status).toBe(200);
      expect(emulator.azure.tokenCalls().at(-1)).toMatchObject({ cloud: "AzureChinaCloud", host });
      const claims = decodeClaims((response.json() as { access_token: string }).access_token);
      expect(claims.iss).toBe(`https://sts.chinacloudapi.cn/${emulator.azure.tenantId}/`);
    });

    it("refuses a signature by another key, an unregistered certificate, a wrong aud, iss or exp", async () => {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const otherKey = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
      const send = (clientAssertion: string) =>
        postToken({
          client_id: clientId,
          client_assertion_type: jwtBearer,
          client_assertion: clientAssertion,
        });
      expectEntraError(
        await send(assertion(cert, clientId, { key: otherKey })),
        401,
        "invalid_client",
        700027,
      );
      const unregistered = await emulator.azure.registerClientCertificate(randomUUID());
      expectEntraError(await send(assertion(unregistered, clientId)), 401, "invalid_client", 700027);
      expectEntraError(
        await send(
          assertion(cert, clientId, { aud: "https://login.microsoftonline.com/common/oauth2/v2.0/token" }),
        ),
        401,
        "invalid_client",
        50027,
      );
      expectEntraError(
        await send(assertion(cert, clientId, { aud: tokenUrl(undefined, "login.microsoftonline.us") })),
        401,
        "invalid_client",
        50027,
      );
      expectEntraError(
        await send(assertion(cert, clientId, { iss: randomUUID() })),
        401,
        "invalid_client",
        700021,
      );
      expectEntraError(
        await send(assertion(cert, clientId, { exp: Math.floor(Date.now() / 1000) - 3600 })),
        401,
        "invalid_client",
        700024,
      );
      expect(
        emulator.azure
          .tokenCalls()
          .slice(-6)
          .map((call) => call.outcome),
      ).toEqual(Array(6).fill("invalid_client"));
      const wrongType = await postToken({
        client_id: clientId,
        client_assertion_type: "urn:nope",
        client_assertion: assertion(cert, clientId),
      });
      expectEntraError(wrongType, 400, "invalid_request", 7000217);
    });
  });

  describe("federated token", () => {
    it("accepts an issued service-account-like token for its client only", async () => {
      const clientId = randomUUID();
      const token = emulator.azure.issueFederatedToken(clientId, { subject: "system:serviceaccount:ns:sa" });
      expect(emulator.issued()).toContain(token);
      expect(decodeClaims(token)).toMatchObject({
        aud: ["api://AzureADTokenExchange"],
        sub: "system:serviceaccount:ns:sa",
      });
      const ok = await postToken({
        client_id: clientId,
        client_assertion_type: jwtBearer,
        client_assertion: token,
      });
      expect(ok.status).toBe(200);
      expect(emulator.azure.tokenCalls().at(-1)).toMatchObject({
        credential: "federated",
        federatedToken: token,
        clientId,
        outcome: "ok",
      });
      const elsewhere = randomUUID();
      emulator.azure.registerClientSecret(elsewhere);
      expectEntraError(
        await postToken({ client_id: elsewhere, client_assertion_type: jwtBearer, client_assertion: token }),
        400,
        "invalid_client",
        70021,
      );
    });

    it("accepts a token the test trusts (the kubelet's service account token), in its tenant", async () => {
      const clientId = randomUUID();
      const tenant = randomUUID();
      emulator.azure.trustFederatedToken(clientId, "opaque-service-account-token", tenant);
      const send = (t?: string) =>
        postToken(
          {
            client_id: clientId,
            client_assertion_type: jwtBearer,
            client_assertion: "opaque-service-account-token",
          },
          t,
        );
      expect((await send(tenant)).status).toBe(200);
      expect((await send()).status).toBe(400);
      expectEntraError(
        await postToken(
          { client_id: clientId, client_assertion_type: jwtBearer, client_assertion: "something-else" },
          tenant,
        ),
        400,
        "invalid_client",
        70021,
      );
    });

    it("refuses an expired one", async () => {
      const clientId = randomUUID();
      const token = emulator.azure.issueFederatedToken(clientId, { validitySeconds: -60 });
      expectEntraError(
        await postToken({ client_id: clientId, client_assertion_type: jwtBearer, client_assertion: token }),
        400,
        "invalid_client",
        700024,
      );
    });
  });

  it("serves instance discovery and OpenID metadata for authorities MSAL does not know", async () => {
    const tenant = emulator.azure.tenantId;
    const discovery = await emulator.request(
      `https://login.microsoftonline.de/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`https://login.microsoftonline.de/${tenant}/oauth2/v2.0/authorize`)}`,
    );
    expect(discovery.status).toBe(200);
    expect(discovery.json()).toMatchObject({
      tenant_discovery_endpoint: `https://login.microsoftonline.de/${tenant}/v2.0/.well-known/openid-configuration`,
      metadata: [{ aliases: ["login.microsoftonline.de"] }],
    });
    const openid = await emulator.request(
      `https://login.microsoftonline.de/${tenant}/v2.0/.well-known/openid-configuration`,
    );
    expect(openid.json()).toMatchObject({
      token_endpoint: `https://login.microsoftonline.de/${tenant}/oauth2/v2.0/token`,
      issuer: `https://login.microsoftonline.de/${tenant}/v2.0`,
    });
    const unknown = await emulator.request(
      `https://${publicHost}/${randomUUID()}/v2.0/.well-known/openid-configuration`,
    );
    expectEntraError(unknown, 400, "invalid_tenant", 90002);
    expect(emulator.calls("entra.discovery")).toBe(1);
    expect(emulator.calls("entra.openid")).toBe(2);
  });

  it("honours faults per id: throttling, and an expired token", async () => {
    const clientId = randomUUID();
    const secret = emulator.azure.registerClientSecret(clientId);
    emulator.fault("entra.token", { kind: "status", status: 429, retryAfter: 2, times: 1 });
    const throttled = await postToken({ client_id: clientId, client_secret: secret });
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("2");
    emulator.fault("entra.token", { kind: "expired", times: 1 });
    const expired = await postToken({ client_id: clientId, client_secret: secret });
    expect(expired.status).toBe(200);
    const body = expired.json() as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(0);
    expect(decodeClaims(body.access_token).exp as number).toBeLessThan(Date.now() / 1000);
    expect(
      emulator
        .requests("entra.token")
        .slice(-2)
        .map((call) => call.fault),
    ).toEqual(["status", "expired"]);
  });
});

describe("IMDS managed identity", () => {
  const resource = "https://containerregistry.azure.net";
  const query = (extra = "") => `?api-version=2018-02-01&resource=${encodeURIComponent(resource)}${extra}`;

  it("answers 400 without Metadata: true, which is what the SDK's probe expects", async () => {
    const probe = await imds("", {});
    expect(probe.status).toBe(400);
    expect(probe.json()).toEqual({
      error: "invalid_request",
      error_description: "Required metadata header not specified",
    });
    expect((await imds(query(), { metadata: "false" })).status).toBe(400);
    expect((await imds("?resource=x")).status).toBe(400);
    expect((await imds("?api-version=2018-02-01")).json()).toMatchObject({
      error_description: "Required audience parameter not specified",
    });
  });

  it("answers for the system-assigned identity once enabled, and for user-assigned ones by id", async () => {
    const fresh = await startEmulator();
    try {
      const call = (extra = "", host?: string) =>
        fresh.request(
          `http://${host ?? new URL(fresh.httpUrl).host}/metadata/identity/oauth2/token/${query(extra)}`,
          { headers: { metadata: "true" } },
        );
      expect((await call()).json()).toEqual({
        error: "invalid_request",
        error_description: "Identity not found",
      });

      const user = fresh.azure.managedIdentity({ clientId: randomUUID() });
      expect(user.kind).toBe("user-assigned");
      expect(user.resourceId).toMatch(/^\/subscriptions\/.+\/userAssignedIdentities\/.+$/);
      // The only identity is used without a selector, as IMDS does.
      expect((await call()).status).toBe(200);
      const second = fresh.azure.managedIdentity({
        resourceId:
          "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull",
      });
      expect((await call()).json()).toMatchObject({ error_description: /Multiple user assigned identities/ });

      const system = fresh.azure.managedIdentity();
      const ok = await call();
      expect(ok.status).toBe(200);
      const body = ok.json() as Record<string, string>;
      expect(body).toMatchObject({ client_id: system.clientId, resource, token_type: "Bearer" });
      expect(body.expires_in).toMatch(/^\d+$/);
      expect(Number(body.expires_on)).toBeGreaterThan(Date.now() / 1000 + 3000);
      expect(fresh.issued()).toContain(body.access_token);
      expect(decodeClaims(body.access_token as string)).toMatchObject({
        aud: resource,
        oid: system.objectId,
        appid: system.clientId,
        tid: fresh.azure.tenantId,
      });

      const byClient = (await call(`&client_id=${user.clientId}`)).json() as Record<string, string>;
      expect(decodeClaims(byClient.access_token as string).oid).toBe(user.objectId);
      const byResource = (
        await call(`&msi_res_id=${encodeURIComponent(second.resourceId as string)}`)
      ).json() as Record<string, string>;
      expect(decodeClaims(byResource.access_token as string)).toMatchObject({
        oid: second.objectId,
        xms_mirid: second.resourceId,
      });
      expect((await call(`&client_id=${randomUUID()}`)).status).toBe(400);
      // The link-local name, as the SDK dials it through HTTP_PROXY without an override.
      expect((await call("", "169.254.169.254")).status).toBe(200);

      expect(fresh.azure.tokenCalls("imds").map((c) => [c.outcome, c.principal?.kind, c.selector])).toEqual([
        ["invalid_request", undefined, undefined],
        ["ok", "user-assigned", undefined],
        ["invalid_request", undefined, undefined],
        ["ok", "system-assigned", undefined],
        ["ok", "user-assigned", { client_id: user.clientId }],
        ["ok", "user-assigned", { msi_res_id: second.resourceId }],
        ["invalid_request", undefined, expect.objectContaining({ client_id: expect.any(String) })],
        ["ok", "system-assigned", undefined],
      ]);
      expect(fresh.azure.imdsEnv()).toEqual({ AZURE_POD_IDENTITY_AUTHORITY_HOST: fresh.httpUrl });
    } finally {
      await fresh.close();
    }
  });

  it("is not served over https, and honours faults", async () => {
    emulator.azure.managedIdentity();
    expect(
      (await emulator.request(`https://169.254.169.254/metadata/identity/oauth2/token${query()}`)).status,
    ).toBe(404);
    emulator.fault("imds.identity", { kind: "status", status: 503, times: 1 });
    expect((await imds(query())).status).toBe(503);
    emulator.fault("imds.identity", { kind: "expired", times: 1 });
    const expired = (await imds(query())).json() as Record<string, string>;
    expect(expired.expires_in).toBe("0");
    expect((await imds(query())).status).toBe(200);
  });
});
