import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isCredentialProviderError } from "./errors.ts";
import { createHttpClient } from "./http.ts";
import { createLogger } from "./log.ts";
import { proxyForUrl } from "./proxy.ts";
import { SecretRegistry } from "./secrets.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;
const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(
  handler: Handler,
): Promise<{ url: string; hits: () => number; seen: IncomingMessage[] }> {
  let hits = 0;
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res, hits++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => server.close() });
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, seen };
}

const client = (extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) =>
  createHttpClient({ userAgent: "test-provider/1.0", retryBaseMs: 1, env: {}, ...extra });

describe("http client", () => {
  it("sends the User-Agent and returns status, headers and body", async () => {
    const server = await serve((req, res) => res.end(JSON.stringify({ ua: req.headers["user-agent"] })));
    const response = await client().request(`${server.url}/x`);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ ua: "test-provider/1.0" });
  });

  it("retries 503 and a dropped connection, then succeeds", async () => {
    const server = await serve((req, res, hit) => {
      if (hit === 0) res.writeHead(503).end("busy");
      else if (hit === 1) req.socket.destroy();
      else res.end("ok");
    });
    const response = await client().request(server.url);
    expect(response.text()).toBe("ok");
    expect(server.hits()).toBe(3);
  });

  it("honours Retry-After on 429", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit === 0) res.writeHead(429, { "retry-after": "1" }).end();
      else res.end("ok");
    });
    const started = Date.now();
    await client().request(server.url);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("gives up with CLOUD_THROTTLED after the retries", async () => {
    const server = await serve((_req, res) => res.writeHead(429).end("slow down"));
    const error = await client()
      .request(server.url, { retries: 2 })
      .catch((e: unknown) => e);
    expect(isCredentialProviderError(error) && error.code).toBe("CLOUD_THROTTLED");
    expect(String((error as Error).message)).toMatch(/answered 429: slow down/);
    expect(server.hits()).toBe(3);
  });

  it("does not retry a 4xx answer", async () => {
    const server = await serve((_req, res) => res.writeHead(401).end());
    expect((await client().request(server.url)).status).toBe(401);
    expect(server.hits()).toBe(1);
  });

  it("times out an attempt that gets no answer", async () => {
    const server = await serve(() => {});
    const error = await client()
      .request(server.url, { timeoutMs: 100, retries: 1 })
      .catch((e: unknown) => e);
    expect(isCredentialProviderError(error) && error.code).toBe("CLOUD_UNAVAILABLE");
    expect(String(error)).toMatch(/no answer within 100 ms/);
    expect(server.hits()).toBe(2);
  });

  it("stops at the run's deadline", async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("deadline")), 100);
    await expect(client({ signal: controller.signal }).request(server.url)).rejects.toThrow("deadline");
  });

  it("refuses a response larger than the limit", async () => {
    const server = await serve((_req, res) => res.end("x".repeat(5000)));
    await expect(client().request(server.url, { maxResponseBytes: 1000 })).rejects.toThrow(
      /larger than 1000 bytes/,
    );
  });

  it("sends plain-http requests through HTTP_PROXY in absolute form", async () => {
    const proxy = await serve((req, res) => res.end(`proxied ${req.url} host=${req.headers.host}`));
    const response = await client({ env: { HTTP_PROXY: proxy.url } }).request(
      "http://metadata.test.invalid/path?q=1",
    );
    expect(response.text()).toBe("proxied http://metadata.test.invalid/path?q=1 host=metadata.test.invalid");
  });

  it("logs no body and no header at -v 10, even of secrets nobody registered yet", async () => {
    const server = await serve((_req, res) => res.end('{"access_token":"tok-123456789"}'));
    const lines: string[] = [];
    const log = createLogger({
      name: "t",
      verbosity: 10,
      secrets: new SecretRegistry(),
      sink: { write: (l) => lines.push(l) },
    });
    await client({ log }).request(server.url, { headers: { authorization: "Bearer key-987654321" } });
    expect(lines.join("")).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/ -> 200, 32 bytes/);
    expect(lines.join("")).not.toContain("tok-123456789");
    expect(lines.join("")).not.toContain("key-987654321");
  });
});

describe("proxyForUrl", () => {
  const env = {
    HTTPS_PROXY: "proxy.corp:3128",
    HTTP_PROXY: "http://proxy.corp:8080",
    NO_PROXY: ".internal,10.0.0.0/8,metadata:80,exact.host",
  };
  it.each([
    ["https://myregistry.azurecr.io/v2/", "http://proxy.corp:3128/"],
    ["http://example.com/", "http://proxy.corp:8080/"],
    ["https://a.internal/", undefined],
    ["https://internal/", undefined],
    ["https://10.1.2.3/", undefined],
    ["https://11.1.2.3/", "http://proxy.corp:3128/"],
    ["http://metadata/", undefined],
    ["https://metadata/", "http://proxy.corp:3128/"],
    ["https://exact.host/", undefined],
    ["https://sub.exact.host/", undefined],
    ["https://127.0.0.1:8443/", undefined],
    ["https://localhost/", undefined],
    ["https://[::1]/", undefined],
    ["http://169.254.169.254/latest/api/token", undefined],
    ["http://metadata.google.internal/computeMetadata/v1/", undefined],
    ["http://[fd00:ec2::254]/latest/api/token", undefined],
    ["http://169.255.0.1/", "http://proxy.corp:8080/"],
  ])("%s -> %s", (url, proxy) => {
    expect(proxyForUrl(new URL(url), env)?.href).toBe(proxy);
  });
  it("uses no proxy when none is set", () => {
    expect(proxyForUrl(new URL("https://x.example/"), {})).toBeUndefined();
  });
  it("NO_PROXY=* turns proxying off", () => {
    expect(proxyForUrl(new URL("https://x.example/"), { HTTPS_PROXY: "p:1", NO_PROXY: "*" })).toBeUndefined();
  });
});
