import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestCa } from "../testdata/tls.ts";
import type { CloudCallError } from "./errors.ts";
import { isCloudCallError } from "./errors.ts";
import { createHttpClient, DEFAULT_MAX_RESPONSE_BYTES } from "./http.ts";
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

/** A loopback port that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const slept: number[] = [];
afterEach(() => {
  slept.length = 0;
});
/** No real waits: the client's sleep records what the retry policy asked for. */
const client = (extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) =>
  createHttpClient({
    userAgent: "test-provider/1.0",
    env: {},
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<CloudCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCloudCallError(error)) throw new Error(`expected a CloudCallError, got ${String(error)}`);
  return error;
}

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

  it("retries a truncated answer", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit === 0) {
        res.writeHead(200, { "content-length": "100" });
        res.write('{"access_token": "');
        res.socket?.end();
      } else res.end("ok");
    });
    expect((await client().request(server.url)).text()).toBe("ok");
    expect(server.hits()).toBe(2);
  });

  it("honours Retry-After on 429, with jitter on top", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit === 0) res.writeHead(429, { "retry-after": "1" }).end();
      else res.end("ok");
    });
    await client().request(server.url);
    expect(slept).toEqual([1100]); // 1 s, plus half (random 0.5) of the first 200 ms backoff step
  });

  it("keeps retrying while the deadline allows, then names the endpoint, fault and attempts", async () => {
    const server = await serve((_req, res) => res.writeHead(429).end("slow down, secret-in-body"));
    let now = 1_000_000;
    const spy = vi.spyOn(Date, "now").mockImplementation(() => now);
    try {
      const error = await failure(
        client({
          deadline: now + 50_000,
          sleep: async (ms) => {
            slept.push(ms);
            now += ms;
          },
        }).request(server.url, { endpoint: "Test token" }),
      );
      expect(error.code).toBe("CLOUD_THROTTLED");
      expect(error.fault).toBe("throttled");
      expect(error.attempts).toBe(server.hits());
      expect(server.hits()).toBeGreaterThan(10);
      expect(now).toBeLessThanOrEqual(1_000_000 + 50_000 - 1_000);
      expect(error.message).toMatch(/^Test token throttled \(HTTP 429\) for \d+ s \(\d+ attempts\)$/);
      expect(error.message).not.toContain("secret-in-body");
    } finally {
      spy.mockRestore();
    }
  });

  it("retries what classify calls throttling (AWS's 400 ThrottlingException)", async () => {
    const server = await serve((_req, res, hit) => {
      if (hit < 2) res.writeHead(400, { "x-amzn-errortype": "ThrottlingException" }).end("{}");
      else res.end("ok");
    });
    const response = await client().request(server.url, {
      classify: (r) =>
        r.headers["x-amzn-errortype"] === "ThrottlingException"
          ? { fault: "throttled", cause: "ThrottlingException" }
          : undefined,
    });
    expect(response.text()).toBe("ok");
    expect(server.hits()).toBe(3);
  });

  it("stops at maxAttempts", async () => {
    const server = await serve((_req, res) => res.writeHead(503).end());
    const error = await failure(client().request(server.url, { maxAttempts: 2, endpoint: "X" }));
    expect(error.message).toMatch(/^X answered HTTP 503 for \d+ s \(2 attempts\)$/);
    expect(server.hits()).toBe(2);
  });

  it("does not retry a 4xx answer", async () => {
    const server = await serve((_req, res) => res.writeHead(401).end());
    expect((await client().request(server.url)).status).toBe(401);
    expect(server.hits()).toBe(1);
  });

  it("times out an attempt that gets no answer, and retries it", async () => {
    const server = await serve(() => {});
    const error = await failure(client().request(server.url, { timeoutMs: 100, maxAttempts: 2 }));
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.fault).toBe("timeout");
    expect(error.message).toMatch(/did not answer within 100 ms/);
    expect(server.hits()).toBe(2);
  });

  it("times out an answer whose body never ends", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "10" });
      res.write("abc");
    });
    const error = await failure(client().request(server.url, { timeoutMs: 100, maxAttempts: 1 }));
    expect(error.fault).toBe("timeout");
    expect(error.message).toMatch(/did not finish its answer within 100 ms/);
  });

  it("the attempt timeout shrinks to the time left before the deadline", async () => {
    const server = await serve(() => {});
    const error = await failure(
      client({ deadline: Date.now() + 1_300 }).request(server.url, { endpoint: "Slow" }),
    );
    // 1.3 s left minus the 1 s margin: one attempt of 300 ms, and no time for another.
    expect(error.fault).toBe("timeout");
    expect(error.attempts).toBe(1);
  });

  it("stops at the run's deadline", async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("deadline")), 100);
    await expect(client({ signal: controller.signal }).request(server.url)).rejects.toThrow("deadline");
  });

  it("refuses a response larger than the limit, and does not retry it", async () => {
    const server = await serve((_req, res) => res.end("x".repeat(5000)));
    const error = await failure(client().request(server.url, { maxResponseBytes: 1000 }));
    expect(error.fault).toBe("too-large");
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(/larger than 1000 bytes/);
    expect(server.hits()).toBe(1);
  });

  it("caps every answer at 1 MiB by default", async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(DEFAULT_MAX_RESPONSE_BYTES + 1, 0x61)));
    expect((await failure(client().request(server.url))).message).toMatch(/larger than 1 MiB/);
  });

  it("json() on a body that is not JSON names the endpoint, never the body", async () => {
    const server = await serve((_req, res) => res.end('{"access_token":"ya29.secret"'));
    const response = await client().request(server.url, { endpoint: "GCE metadata token" });
    let error: unknown;
    try {
      response.json();
    } catch (e) {
      error = e;
    }
    expect(isCloudCallError(error) && error.fault).toBe("malformed");
    expect(String((error as Error).message)).toBe(
      "GCE metadata token answered HTTP 200 with a body that is not JSON",
    );
  });

  it("retries a refused connection (a proxy or endpoint restarting)", async () => {
    const port = await closedPort();
    const error = await failure(client().request(`http://127.0.0.1:${port}/`, { maxAttempts: 3 }));
    expect(error.fault).toBe("connection");
    expect(error.faultCause).toBe("ECONNREFUSED");
    expect(error.attempts).toBe(3);
  });

  it("retries a proxy that refuses the connection, typed as a proxy fault", async () => {
    const port = await closedPort();
    const error = await failure(
      client({ env: { HTTPS_PROXY: `http://127.0.0.1:${port}` } }).request("https://cloud.test.invalid/", {
        maxAttempts: 2,
      }),
    );
    expect(error.fault).toBe("proxy");
    expect(error.attempts).toBe(2);
  });

  it("a proxy that refuses CONNECT by policy (403) is not retried", async () => {
    const proxy = createServer();
    let connects = 0;
    proxy.on("connect", (_req, socket) => {
      connects++;
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => proxy.close() });
    const port = (proxy.address() as AddressInfo).port;
    const error = await failure(
      client({ env: { HTTPS_PROXY: `http://127.0.0.1:${port}` } }).request("https://cloud.test.invalid/"),
    );
    expect(error.fault).toBe("proxy");
    expect(error.message).toMatch(/refused CONNECT to cloud\.test\.invalid:443 \(HTTP 403\)/);
    expect(connects).toBe(1);
  });

  it("sends plain-http requests through HTTP_PROXY in absolute form", async () => {
    const proxy = await serve((req, res) => res.end(`proxied ${req.url} host=${req.headers.host}`));
    const response = await client({ env: { HTTP_PROXY: proxy.url } }).request(
      "http://metadata.test.invalid/path?q=1",
    );
    expect(response.text()).toBe("proxied http://metadata.test.invalid/path?q=1 host=metadata.test.invalid");
  });

  it("warns once, before its first HTTPS request, when NODE_EXTRA_CA_CERTS cannot be read", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const log = createLogger({
      name: "t",
      verbosity: 0,
      secrets: new SecretRegistry(),
      sink: { write: (l) => lines.push(l) },
    });
    const warnings = () => lines.filter((l) => l.includes("NODE_EXTRA_CA_CERTS"));
    const call = (env: Record<string, string>, url: string) =>
      failure(client({ env, log }).request(url, { maxAttempts: 1 }));

    await call({ NODE_EXTRA_CA_CERTS: "/nonexistent/ca.pem" }, `http://127.0.0.1:${port}/`);
    expect(warnings()).toEqual([]);
    const https = client({ env: { NODE_EXTRA_CA_CERTS: "/nonexistent/ca.pem" }, log });
    for (let i = 0; i < 2; i++)
      await failure(https.request(`https://127.0.0.1:${port}/`, { maxAttempts: 1 }));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(
      /^W.* t\] NODE_EXTRA_CA_CERTS=\/nonexistent\/ca\.pem cannot be read \(ENOENT\): the CAs in it are not trusted\n$/,
    );
    await call({ NODE_EXTRA_CA_CERTS: import.meta.filename }, `https://127.0.0.1:${port}/`);
    expect(warnings()).toHaveLength(1);
  });

  it("logs no body and no header at -v 10, even of secrets nobody registered yet", async () => {
    const server = await serve((_req, res, hit) =>
      hit === 0 ? res.writeHead(503).end("tok-in-error") : res.end('{"access_token":"tok-123456789"}'),
    );
    const lines: string[] = [];
    const log = createLogger({
      name: "t",
      verbosity: 10,
      secrets: new SecretRegistry(),
      sink: { write: (l) => lines.push(l) },
    });
    await client({ log }).request(server.url, {
      endpoint: "Test token",
      headers: { authorization: "Bearer key-987654321" },
    });
    expect(lines.join("")).toMatch(/Test token: attempt 2: HTTP 200, 32 bytes/);
    expect(lines.join("")).toMatch(/Test token answered HTTP 503; attempt 1, retrying in \d+ ms/);
    expect(lines.join("")).not.toContain("tok-");
    expect(lines.join("")).not.toContain("key-987654321");
  });
});

describe("http client: connectTo and ca (an endpoint at a given address, signed by a private CA)", () => {
  /** An HTTPS server on loopback with a certificate for `name` only, from its own CA. */
  async function serveTls(name: string) {
    const ca = await createTestCa();
    const { cert, key } = await ca.issue([name]);
    const seen: Array<{ servername: string | false; host: string | undefined; path: string | undefined }> =
      [];
    const server = createTlsServer({ cert, key }, (req, res) => {
      seen.push({
        servername: (req.socket as { servername?: string | false }).servername ?? false,
        host: req.headers.host,
        path: req.url,
      });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => server.close() });
    return { ca: ca.caPem, port: (server.address() as AddressInfo).port, seen };
  }

  it("dials connectTo, names the URL's host in SNI and Host, and uses no proxy", async () => {
    const server = await serveTls("ib.cluster.test.invalid");
    const deadProxy = `http://127.0.0.1:${await closedPort()}`;
    const response = await client({ env: { HTTPS_PROXY: deadProxy, HTTP_PROXY: deadProxy } }).request(
      `https://ib.cluster.test.invalid:${server.port}/token?x=1`,
      { connectTo: "127.0.0.1", ca: server.ca, method: "POST", body: "a=b" },
    );
    expect(response.json()).toEqual({ ok: true });
    expect(server.seen).toEqual([
      {
        servername: "ib.cluster.test.invalid",
        host: `ib.cluster.test.invalid:${server.port}`,
        path: "/token?x=1",
      },
    ]);
  });

  it("trusts only the given CA: a certificate from another CA is a TLS failure that says so", async () => {
    const server = await serveTls("ib.cluster.test.invalid");
    const other = await createTestCa();
    const error = await failure(
      client().request(`https://ib.cluster.test.invalid:${server.port}/`, {
        connectTo: "127.0.0.1",
        ca: other.caPem,
      }),
    );
    expect(error.fault).toBe("tls");
    expect(error.message).toMatch(
      /the certificate is not trusted .*only the CA given for this endpoint is trusted/,
    );
    expect(server.seen).toEqual([]);
  });

  it("checks the certificate against the URL's host, not the address dialled", async () => {
    const server = await serveTls("other.cluster.test.invalid");
    const error = await failure(
      client().request(`https://ib.cluster.test.invalid:${server.port}/`, {
        connectTo: "127.0.0.1",
        ca: server.ca,
      }),
    );
    expect(error.fault).toBe("tls");
    expect(error.message).toMatch(/does not match the host name/);
  });

  it("a ca given for a direct call replaces the system's CAs for it", async () => {
    const server = await serveTls("localhost");
    const response = await client().request(`https://localhost:${server.port}/`, { ca: server.ca });
    expect(response.status).toBe(200);
    const error = await failure(client().request(`https://localhost:${server.port}/`));
    expect(error.fault).toBe("tls");
  });
});

describe("http client: clientCertificate (an endpoint that authenticates clients by certificate)", () => {
  it("presents the certificate in the handshake; without it the server sees none", async () => {
    const ca = await createTestCa();
    const { cert, key } = await ca.issue(["localhost"]);
    const peers: string[] = [];
    const server = createTlsServer(
      { cert, key, ca: ca.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const socket = req.socket as import("node:tls").TLSSocket;
        peers.push(socket.authorized ? String(socket.getPeerCertificate().subject?.CN) : "none");
        res.end("{}");
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => server.close() });
    const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
    const clientCertificate = await ca.issueClient("system:node:n1", ["system:nodes"]);
    await client().request(url, { ca: ca.caPem, clientCertificate });
    await client().request(url, { ca: ca.caPem });
    expect(peers).toEqual(["system:node:n1", "none"]);
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
