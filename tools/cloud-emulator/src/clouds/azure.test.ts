/**
 * ACR login servers as the ACR provider and a container runtime meet them: the `/v2/` challenge,
 * `POST /oauth2/exchange` of an Entra token the emulator issued for a refresh token, and the
 * registry's Bearer flow accepting that refresh token at exactly the login server it was issued for.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AzureCloudName, ClientResponse, Emulator } from "../index.ts";
import { acrLoginServer, acrRefreshTokenUsername, startEmulator } from "../index.ts";
import { basicAuth } from "../testdata/helpers.ts";

let emulator: Emulator;
let clientId: string;
let secret: string;
beforeAll(async () => {
  emulator = await startEmulator();
  clientId = randomUUID();
  secret = emulator.azure.registerClientSecret(clientId);
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

const acrScope = "https://containerregistry.azure.net/.default";
const authorities: Record<AzureCloudName, string> = {
  AzurePublicCloud: "login.microsoftonline.com",
  AzureChinaCloud: "login.partner.microsoftonline.cn",
  AzureUSGovernmentCloud: "login.microsoftonline.us",
  AzureGermanCloud: "login.microsoftonline.de",
};

async function entraToken(cloud: AzureCloudName = "AzurePublicCloud", scope = acrScope): Promise<string> {
  const response = await emulator.request(
    `https://${authorities[cloud]}/${emulator.azure.tenantId}/oauth2/v2.0/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: secret,
        scope,
      }).toString(),
    },
  );
  expect(response.status).toBe(200);
  return (response.json() as { access_token: string }).access_token;
}

function exchange(
  host: string,
  accessToken: string,
  extra: Record<string, string> = {},
): Promise<ClientResponse> {
  return emulator.request(`https://${host}/oauth2/exchange`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "access_token",
      service: host,
      tenant: emulator.azure.tenantId,
      access_token: accessToken,
      ...extra,
    }).toString(),
  });
}

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] as string, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;

/** What `kubelet-credential-sim verify` does: challenge, realm with Basic, `/v2/` with the Bearer. */
async function pull(host: string, password: string, username = acrRefreshTokenUsername): Promise<number> {
  const challenge = await emulator.request(`https://${host}/v2/`);
  expect(challenge.status).toBe(401);
  const m = /^Bearer realm="([^"]+)",service="([^"]+)"$/.exec(String(challenge.headers["www-authenticate"]));
  expect(m?.[2]).toBe(host);
  const realm = new URL(m?.[1] as string);
  realm.searchParams.set("service", host);
  realm.searchParams.set("scope", "repository:app:pull");
  const token = await emulator.request(realm, { headers: { authorization: basicAuth(username, password) } });
  if (token.status !== 200) return token.status;
  const bearer = (token.json() as { token: string }).token;
  return (await emulator.request(`https://${host}/v2/`, { headers: { authorization: `Bearer ${bearer}` } }))
    .status;
}

describe("ACR login servers", () => {
  it("challenge for a Bearer token at their own /oauth2/token, as acr.json records", async () => {
    for (const host of [
      "myregistry.azurecr.io",
      "demo-abc123.azurecr.io",
      "foo.eastus2.geo.azurecr.io",
      "foo.azurecr.cn",
      "foo.chinanorth3.geo.azurecr.cn",
      "foo.azurecr.us",
      "foo.azurecr.de",
    ]) {
      const response = await emulator.request(`https://${host}/v2/`);
      expect(response.status, host).toBe(401);
      expect(response.headers["www-authenticate"]).toBe(
        `Bearer realm="https://${host}/oauth2/token",service="${host}"`,
      );
    }
  });

  it("do not exist under data endpoint or spoofed names", async () => {
    for (const host of [
      "foo.eastus2.data.azurecr.io",
      "foo.azurecr.io.example",
      "foo.azurecr.io.azurecr.cn",
      "azurecr.io",
    ]) {
      expect((await emulator.request(`https://${host}/v2/`)).status, host).toBe(404);
    }
    expect(emulator.azure.exchangeCalls()).toEqual([]);
  });

  it("name login servers per cloud", () => {
    expect(acrLoginServer("Foo")).toBe("foo.azurecr.io");
    expect(emulator.azure.loginServer("foo", "AzureChinaCloud", "chinanorth3")).toBe(
      "foo.chinanorth3.geo.azurecr.cn",
    );
    expect(() => acrLoginServer("foo.bar")).toThrow(/not an ACR login server/);
    expect(emulator.azure.authorityHost("AzureUSGovernmentCloud")).toBe("https://login.microsoftonline.us");
  });
});

describe("POST /oauth2/exchange", () => {
  it("takes the Go plugin's grant too: the Entra token as both access_token and refresh_token", async () => {
    const host = "myregistry.azurecr.io";
    const accessToken = await entraToken();
    const response = await exchange(host, accessToken, {
      grant_type: "access_token_refresh_token",
      refresh_token: accessToken,
    });
    expect(response.status).toBe(200);
    expect(emulator.azure.exchangeCalls().at(-1)).toMatchObject({
      grantType: "access_token_refresh_token",
      outcome: "ok",
    });
    expect((await exchange(host, accessToken, { grant_type: "password" })).status).toBe(400);
  });

  it("trades an emulator-issued ACR token for a 3-hour refresh token JWT, distinct per call", async () => {
    const host = "myregistry.azurecr.io";
    const accessToken = await entraToken();
    const before = Date.now();
    const first = await exchange(host, accessToken);
    expect(first.status).toBe(200);
    const refresh = (first.json() as { refresh_token: string }).refresh_token;
    expect(emulator.issued()).toContain(refresh);
    const claims = claimsOf(refresh);
    expect(claims).toMatchObject({
      aud: host,
      iss: "Azure Container Registry",
      tenant: emulator.azure.tenantId,
    });
    const validity = (claims.exp as number) * 1000 - before;
    expect(validity).toBeGreaterThan(3 * 3600_000 - 5000);
    expect(validity).toBeLessThanOrEqual(3 * 3600_000 + 1000);
    const second = (await exchange(host, accessToken)).json() as { refresh_token: string };
    expect(second.refresh_token).not.toBe(refresh);
    expect(emulator.azure.exchangeCalls().at(-2)).toMatchObject({
      host,
      cloud: "AzurePublicCloud",
      grantType: "access_token",
      service: host,
      tenant: emulator.azure.tenantId,
      accessToken,
      audience: "https://containerregistry.azure.net",
      principal: { kind: "application", clientId },
      outcome: "ok",
      refreshToken: refresh,
    });
  });

  it("issues a refresh token the registry takes through the Bearer flow, at that login server only", async () => {
    const host = "foo.eastus2.geo.azurecr.io";
    const refresh = ((await exchange(host, await entraToken())).json() as { refresh_token: string })
      .refresh_token;
    expect(await pull(host, refresh)).toBe(200);
    expect(await pull("other.azurecr.io", refresh)).toBe(401);
    expect(await pull(host, refresh, "someone")).toBe(401);
    expect(await pull(host, `${refresh}x`)).toBe(401);
  });

  it("takes Resource Manager audiences too, as ACR does", async () => {
    const token = await entraToken("AzurePublicCloud", "https://management.azure.com//.default");
    expect((await exchange("myregistry.azurecr.io", token)).status).toBe(200);
  });

  it("refuses a foreign token, another audience, another cloud's token, another tenant", async () => {
    const host = "myregistry.azurecr.io";
    const expectRefused = async (response: ClientResponse, status: number, message: RegExp) => {
      expect(response.status).toBe(status);
      const body = response.json() as { errors: { code: string; message: string }[] };
      expect(body.errors[0]?.message).toMatch(message);
    };
    await expectRefused(
      await exchange(host, "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."),
      401,
      /not one Entra ID issued/,
    );
    await expectRefused(
      await exchange(host, await entraToken("AzurePublicCloud", "https://storage.azure.com/.default")),
      401,
      /audience 'https:\/\/storage.azure.com'/,
    );
    await expectRefused(
      await exchange(host, await entraToken("AzureChinaCloud")),
      401,
      /AzureChinaCloud's Entra ID/,
    );
    const token = await entraToken();
    await expectRefused(await exchange(host, token, { tenant: randomUUID() }), 401, /tenant/);
    await expectRefused(
      await exchange(host, token, { service: "other.azurecr.io" }),
      400,
      /not this registry/,
    );
    await expectRefused(await exchange(host, token, { grant_type: "refresh_token" }), 400, /grant_type/);
    expect(
      emulator.azure
        .exchangeCalls()
        .slice(-6)
        .map((call) => call.outcome),
    ).toEqual(["UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "UNSUPPORTED", "UNSUPPORTED"]);
  });

  it("refuses an expired access token", async () => {
    emulator.fault("entra.token", { kind: "expired", times: 1 });
    const response = await exchange("myregistry.azurecr.io", await entraToken());
    expect(response.status).toBe(401);
    expect(emulator.azure.exchangeCalls().at(-1)?.message).toMatch(/expired/);
  });

  it("works for the China cloud end to end, with China's tokens only", async () => {
    const host = "foo.azurecr.cn";
    const token = await entraToken("AzureChinaCloud");
    const response = await exchange(host, token);
    expect(response.status).toBe(200);
    const refresh = (response.json() as { refresh_token: string }).refresh_token;
    expect(await pull(host, refresh)).toBe(200);
    expect(emulator.azure.exchangeCalls().at(-1)).toMatchObject({
      cloud: "AzureChinaCloud",
      tokenCloud: "AzureChinaCloud",
    });
    expect((await exchange("foo.azurecr.io", token)).status).toBe(401);
  });

  it("accepts an IMDS token of the node's cloud", async () => {
    const identity = emulator.azure.managedIdentity({ clientId: randomUUID() });
    const imds = await emulator.request(
      `${emulator.httpUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net&client_id=${identity.clientId}`,
      { headers: { metadata: "true" } },
    );
    const token = (imds.json() as { access_token: string }).access_token;
    expect((await exchange("myregistry.azurecr.io", token)).status).toBe(200);
    expect(emulator.azure.exchangeCalls().at(-1)?.principal).toMatchObject({
      kind: "user-assigned",
      clientId: identity.clientId,
    });
    expect((await exchange("myregistry.azurecr.us", token)).status).toBe(401);
  });

  it("honours faults: expired refresh tokens the registry refuses, and malformed answers", async () => {
    const host = "myregistry.azurecr.io";
    const token = await entraToken();
    emulator.fault("acr.exchange", { kind: "expired", times: 1 });
    const expired = (await exchange(host, token)).json() as { refresh_token: string };
    expect(claimsOf(expired.refresh_token).exp as number).toBeLessThan(Date.now() / 1000);
    expect(await pull(host, expired.refresh_token)).toBe(401);
    emulator.fault("acr.exchange", { kind: "malformed", times: 1 });
    const malformed = (await exchange(host, token)).body;
    expect(() => JSON.parse(malformed)).toThrow();
    emulator.fault("registry.token", { kind: "status", status: 503, times: 1 });
    const refresh = ((await exchange(host, token)).json() as { refresh_token: string }).refresh_token;
    expect(await pull(host, refresh)).toBe(503);
    expect(await pull(host, refresh)).toBe(200);
  });
});

describe("a spoofed host", () => {
  it("gets no Entra call when only the registry is asked", async () => {
    const before = emulator.azure.tokenCalls().length;
    expect((await emulator.request("https://foo.azurecr.io.example/v2/")).status).toBe(404);
    expect(emulator.azure.tokenCalls().length).toBe(before);
    expect(emulator.calls("entra.token")).toBe(emulator.azure.tokenCalls("entra").length);
  });
});
