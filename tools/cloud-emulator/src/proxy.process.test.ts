/**
 * Acceptance 4 of issue 3: a separate process whose only configuration is HTTPS_PROXY and
 * NODE_EXTRA_CA_CERTS reaches an emulated *.azurecr.io host over TLS through the proxy, with
 * core's HTTP client, as a provider on a node behind a corporate proxy would. No name is resolved.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import type { Emulator } from "./index.ts";
import { json, startEmulator } from "./index.ts";
import { runNode, testdata } from "./testdata/helpers.ts";

const script = testdata("https-get.ts");
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.registry.serve("*.azurecr.io", { scheme: "bearer" });
  emulator.route(
    { id: "plain.ping", host: "plain-http.internal.example", method: "GET", path: "/ping", scheme: "http" },
    () => json(200, { ok: true }),
  );
});
afterAll(() => emulator?.close());

const get = async (args: string[], env: Record<string, string>) => {
  const { stdout } = await runNode(script, args, env);
  return JSON.parse(stdout) as { status?: number; challenge?: string; body?: string; error?: string };
};

// Each test is its own child process: run them side by side.
describe.concurrent("a child process behind the emulator's proxy", () => {
  it("reaches https://myregistry.azurecr.io/v2/ over TLS and gets the registry's Bearer challenge", async ({
    expect,
  }) => {
    const out = await get(["https://myregistry.azurecr.io/v2/"], emulator.env());
    expect(out).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io"',
    });
    expect(emulator.tunnels()).toContain("myregistry.azurecr.io:443");
    expect(emulator.requests("registry.v2").map((call) => call.url)).toContain(
      "https://myregistry.azurecr.io/v2/",
    );
  });

  it("refuses the emulator's certificate without NODE_EXTRA_CA_CERTS", async ({ expect }) => {
    const { HTTPS_PROXY } = emulator.env() as { HTTPS_PROXY: string };
    const out = await get(["https://other.azurecr.io/v2/"], { HTTPS_PROXY });
    // Core's wording varies; any of these names a certificate the client would not trust.
    expect(out.error).toMatch(/certificate|issuer|TLS verification|UNABLE_TO_VERIFY/i);
  });

  it("gets example registry credentials from the token service, which the registry accepts", async ({
    expect,
  }) => {
    const out = await get(
      [
        "https://auth.registry.example.com/token",
        "POST",
        JSON.stringify({ registry: "registry.example.com" }),
        `Bearer ${emulator.example.apiKey}`,
      ],
      emulator.env(),
    );
    expect(out.status).toBe(200);
    const { username, password } = JSON.parse(out.body ?? "") as { username: string; password: string };
    expect(emulator.issued()).toContain(password);
    const token = await emulator.request(
      "https://registry.example.com/oauth2/token?service=registry.example.com",
      {
        headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
      },
    );
    expect(token.status).toBe(200);
  });

  it("sends plain http through HTTP_PROXY to the HTTP routing", async ({ expect }) => {
    const out = await get(["http://plain-http.internal.example/ping"], emulator.env());
    expect(out).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(emulator.calls("plain.ping")).toBe(1);
  });
});
