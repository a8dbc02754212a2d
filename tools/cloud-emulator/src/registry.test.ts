/**
 * The registry accepts exactly what the emulated cloud issued, for the host it was issued for:
 * the example token service's credentials pass the Bearer flow at their host and nowhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "./index.ts";
import { startEmulator } from "./index.ts";
import { basicAuth } from "./testdata/helpers.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.registry.serve("basic.example.net", { scheme: "basic" });
});
afterAll(() => emulator?.close());

async function credentialsFor(registry: string) {
  const response = await emulator.request(emulator.example.tokenUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${emulator.example.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ registry }),
  });
  expect(response.status).toBe(200);
  return response.json() as { username: string; password: string; expiresAt: string };
}

/** As a container runtime does: ping, follow the challenge to the token endpoint, ping again. */
async function pull(host: string, username: string, password: string) {
  const ping = await emulator.request(`https://${host}/v2/`);
  expect(ping.status).toBe(401);
  const challenge = String(ping.headers["www-authenticate"]);
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1] as string;
  const service = /service="([^"]+)"/.exec(challenge)?.[1] as string;
  const tokenUrl = `${realm}?service=${encodeURIComponent(service)}&scope=repository:app:pull`;
  const token = await emulator.request(tokenUrl, {
    headers: { authorization: basicAuth(username, password) },
  });
  if (token.status !== 200) return { tokenStatus: token.status, v2Status: undefined };
  const { token: bearer, access_token } = token.json() as { token: string; access_token: string };
  expect(access_token).toBe(bearer);
  const v2 = await emulator.request(`https://${host}/v2/`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  return { tokenStatus: token.status, v2Status: v2.status, body: v2.body, bearer };
}

describe("the example cloud and its registry", () => {
  it("issues credentials that work at their registry through the Bearer flow", async () => {
    const { username, password, expiresAt } = await credentialsFor("registry.example.com");
    expect(username).toBe("node");
    expect(password).toMatch(/^example-pw-[0-9a-f]{24}$/);
    const validity = Date.parse(expiresAt) - Date.now();
    expect(validity).toBeGreaterThan(3590_000);
    expect(validity).toBeLessThanOrEqual(3600_000);
    const result = await pull("registry.example.com", username, password);
    expect(result).toMatchObject({ tokenStatus: 200, v2Status: 200, body: "{}" });
    expect(emulator.issued()).toEqual(expect.arrayContaining([password, result.bearer]));
  });

  it("serves subdomains and keeps their credentials apart", async () => {
    const { username, password } = await credentialsFor("eu.registry.example.com");
    expect(await pull("eu.registry.example.com", username, password)).toMatchObject({ v2Status: 200 });
    // Another host of the same cloud refuses them at the token endpoint.
    expect(await pull("registry.example.com", username, password)).toMatchObject({ tokenStatus: 401 });
    expect(await pull("us.registry.example.com", username, password)).toMatchObject({ tokenStatus: 401 });
  });

  it("refuses a wrong password and an unknown user", async () => {
    const { username, password } = await credentialsFor("registry.example.com");
    expect(await pull("registry.example.com", username, `${password}x`)).toMatchObject({ tokenStatus: 401 });
    expect(await pull("registry.example.com", "admin", password)).toMatchObject({ tokenStatus: 401 });
  });

  it("refuses a token at a host it was not issued for, and a token it never issued", async () => {
    const { username, password } = await credentialsFor("registry.example.com");
    const { bearer } = await pull("registry.example.com", username, password);
    for (const token of [bearer, "registry-token-000000000000000000000000"]) {
      const elsewhere = await emulator.request("https://eu.registry.example.com/v2/", {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(elsewhere.status).toBe(401);
    }
  });

  it("sets the validity of new passwords from example.validitySeconds", async () => {
    emulator.example.validitySeconds = 60;
    try {
      const { expiresAt } = await credentialsFor("registry.example.com");
      expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    } finally {
      emulator.example.validitySeconds = 3600;
    }
  });

  it("issues an already expired password under the expired fault, which the registry refuses", async () => {
    emulator.fault("example.token", { kind: "expired", times: 1 });
    const { username, password, expiresAt } = await credentialsFor("registry.example.com");
    expect(Date.parse(expiresAt)).toBeLessThan(Date.now());
    expect(await pull("registry.example.com", username, password)).toMatchObject({ tokenStatus: 401 });
    // Only the next call was faulted.
    const fresh = await credentialsFor("registry.example.com");
    expect(Date.parse(fresh.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("issues an expired registry token under the expired fault, which /v2/ refuses", async () => {
    const { username, password } = await credentialsFor("registry.example.com");
    emulator.fault("registry.token", { kind: "expired", times: 1 });
    expect(await pull("registry.example.com", username, password)).toMatchObject({
      tokenStatus: 200,
      v2Status: 401,
    });
  });

  it("guards the token service: API key, JSON body, registry name, method", async () => {
    const url = emulator.example.tokenUrl;
    const key = `Bearer ${emulator.example.apiKey}`;
    const post = (headers: Record<string, string>, body: string) =>
      emulator.request(url, { method: "POST", headers, body });
    const issued = emulator.issued().length;
    expect((await post({}, '{"registry":"registry.example.com"}')).status).toBe(401);
    expect(
      (await post({ authorization: "Bearer wrong" }, '{"registry":"registry.example.com"}')).status,
    ).toBe(401);
    expect((await post({ authorization: key }, "registry=registry.example.com")).status).toBe(400);
    expect((await post({ authorization: key }, '{"registry":"myregistry.azurecr.io"}')).status).toBe(400);
    expect((await post({ authorization: key }, '{"registry":"evilregistry.example.com"}')).status).toBe(400);
    expect((await post({ authorization: key }, "{}")).status).toBe(400);
    const get = await emulator.request(url, { headers: { authorization: key } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect(emulator.issued().length).toBe(issued);
  });
});

describe("a basic-scheme registry", () => {
  it("challenges with Basic and accepts exactly the credentials registered for it", async () => {
    const ping = await emulator.request("https://basic.example.net/v2/");
    expect(ping.status).toBe(401);
    expect(ping.headers["www-authenticate"]).toBe('Basic realm="basic.example.net"');
    expect(ping.headers["docker-distribution-api-version"]).toBe("registry/2.0");

    const password = emulator.issueSecret("basic-pw-");
    emulator.registry.accept("basic.example.net", "robot", password);
    emulator.registry.accept("registry.example.com", "robot2", password);
    const ok = await emulator.request("https://basic.example.net/v2/", {
      headers: { authorization: basicAuth("robot", password) },
    });
    expect(ok.status).toBe(200);
    for (const [user, pass] of [
      ["robot", "nope"],
      ["robot2", password],
    ] as const) {
      const refused = await emulator.request("https://basic.example.net/v2/", {
        headers: { authorization: basicAuth(user, pass) },
      });
      expect(refused.status).toBe(401);
    }
    // No token endpoint on a basic registry.
    expect((await emulator.request("https://basic.example.net/oauth2/token")).status).toBe(404);
  });

  it("refuses credentials past their expiry", async () => {
    const password = emulator.issueSecret("basic-pw-");
    emulator.registry.accept("basic.example.net", "old", password, { expiresAt: new Date(Date.now() - 1) });
    const refused = await emulator.request("https://basic.example.net/v2/", {
      headers: { authorization: basicAuth("old", password) },
    });
    expect(refused.status).toBe(401);
  });
});

describe("credentials accepted by pattern", () => {
  it("are good at every name a `*.suffix` or RegExp matches, until they expire, and nowhere else", async () => {
    emulator.registry.serve("*.pattern.example.net", { scheme: "basic" });
    emulator.registry.serve("pattern.example.net", { scheme: "basic" });
    emulator.registry.serve(/^re-\d+\.example\.org$/, { scheme: "basic" });
    const password = emulator.issueSecret("pattern-pw-");
    emulator.registry.accept("*.pattern.example.net", "robot", password);
    emulator.registry.accept(/^re-\d+\.example\.org$/, "robot", password);
    const stale = emulator.issueSecret("pattern-pw-");
    emulator.registry.accept("*.pattern.example.net", "robot", stale, {
      expiresAt: new Date(Date.now() - 1),
    });
    const ping = (host: string, pass = password) =>
      emulator.request(`https://${host}/v2/`, { headers: { authorization: basicAuth("robot", pass) } });
    expect((await ping("a.pattern.example.net")).status).toBe(200);
    expect((await ping("b.c.pattern.example.net")).status).toBe(200);
    expect((await ping("re-42.example.org")).status).toBe(200);
    expect((await ping("pattern.example.net")).status).toBe(401);
    expect((await ping("basic.example.net")).status).toBe(401);
    expect((await ping("a.pattern.example.net", stale)).status).toBe(401);
  });

  it("serves a bearer token endpoint at /v2/token ahead of /v2/, and no other path under /v2/", async () => {
    emulator.registry.serve("v2token.example.net", { scheme: "bearer", tokenPath: "/v2/token" });
    expect(() =>
      emulator.registry.serve("x.example.net", { scheme: "bearer", tokenPath: "/v2/auth" }),
    ).toThrow(/under \/v2\//);
    const password = emulator.issueSecret("v2token-pw-");
    emulator.registry.accept("v2token.example.net", "robot", password);
    const result = await pull("v2token.example.net", "robot", password);
    expect(result).toMatchObject({ tokenStatus: 200, v2Status: 200 });
    const ping = await emulator.request("https://v2token.example.net/v2/");
    expect(ping.headers["www-authenticate"]).toBe(
      'Bearer realm="https://v2token.example.net/v2/token",service="v2token.example.net"',
    );
  });
});
