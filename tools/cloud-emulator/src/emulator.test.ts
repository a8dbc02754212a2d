/**
 * The emulator's plumbing: virtual hosts by SNI and Host, certificates per name, the plain and
 * proxy listeners, the secret ledger, and a close() that leaves nothing behind.
 */
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { duplexPair } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "./index.ts";
import { HttpError, json, startEmulator, text } from "./index.ts";
import { tryConnect, waitFor } from "./testdata/helpers.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator?.close());

const port = (url: string) => Number(new URL(url).port);

describe("listeners and environment", () => {
  it("listens on 127.0.0.1 only and writes the CA for NODE_EXTRA_CA_CERTS", () => {
    for (const url of [emulator.httpsUrl, emulator.httpUrl, emulator.proxyUrl]) {
      expect(new URL(url).hostname).toBe("127.0.0.1");
    }
    expect(readFileSync(emulator.caFile, "utf8")).toBe(emulator.caPem);
    expect(emulator.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(emulator.env()).toEqual({
      HTTPS_PROXY: emulator.proxyUrl,
      HTTP_PROXY: emulator.proxyUrl,
      NODE_EXTRA_CA_CERTS: emulator.caFile,
    });
  });

  it("issues a certificate for whatever name the client asks by SNI, trusted through the CA", async () => {
    const peer = (servername: string) =>
      new Promise<{ authorized: boolean; san: string | undefined }>((resolve, reject) => {
        const socket = tlsConnect(
          { host: "127.0.0.1", port: port(emulator.httpsUrl), servername, ca: emulator.caPem },
          () => {
            resolve({ authorized: socket.authorized, san: socket.getPeerCertificate().subjectaltname });
            socket.destroy();
          },
        );
        socket.once("error", reject);
      });
    expect(await peer("myregistry.azurecr.io")).toEqual({
      authorized: true,
      san: "DNS:myregistry.azurecr.io",
    });
    expect(await peer("123456789012.dkr.ecr.us-east-1.amazonaws.com")).toMatchObject({ authorized: true });
    // A client that sends no SNI (an IP address URL) gets the loopback certificate.
    const byIp = await emulator.request(`${emulator.httpsUrl}/`);
    expect(byIp.status).toBe(404);
  });

  it("keeps the example api key in a private file", () => {
    expect(readFileSync(emulator.example.apiKeyFile, "utf8").trim()).toBe(emulator.example.apiKey);
  });
});

describe("routing", () => {
  beforeAll(() => {
    emulator.route({ id: "t.exact", host: "api.routing.test", method: "GET", path: "/exact" }, () =>
      text(200, "exact"),
    );
    emulator.route({ id: "t.prefix", host: "*.wild.test", method: "*", path: "/files/*" }, (req, ctx) =>
      json(200, { host: req.host, rest: ctx.params["*"], method: req.method }),
    );
    emulator.route(
      {
        id: "t.regex",
        host: "api.routing.test",
        method: ["PUT", "POST"],
        path: /^\/items\/(?<item>[a-z]+)$/,
      },
      (req, ctx) =>
        json(201, { item: ctx.params.item, form: req.form().get("a"), query: req.query.get("q") }),
    );
    emulator.route({ id: "t.throws", host: "api.routing.test", method: "GET", path: "/throws" }, () => {
      throw new HttpError(403, "not you", { "x-reason": "test" });
    });
    emulator.route({ id: "t.bug", host: "api.routing.test", method: "GET", path: "/bug" }, () => {
      throw new Error("oops");
    });
    emulator.route({ id: "t.own", host: "api.routing.test", method: "GET", path: "/own" }, (_req, ctx) => {
      ctx.res.writeHead(202, { "content-type": "text/plain" }).end("written");
      return undefined;
    });
    emulator.route({ id: "t.json", host: "api.routing.test", method: "POST", path: "/json" }, (req) =>
      json(200, { echo: req.json() }),
    );
    emulator.route(
      { id: "t.plain", host: "169.254.169.254", method: "GET", path: "/latest/meta-data/", scheme: "http" },
      (req) => text(200, `plain ${req.scheme} ${req.host}`),
    );
  });

  it("dispatches by host, method and exact, prefix or RegExp path", async () => {
    expect((await emulator.request("https://api.routing.test/exact")).body).toBe("exact");
    expect((await emulator.request("https://a.b.wild.test/files/x/y", { method: "DELETE" })).json()).toEqual({
      host: "a.b.wild.test",
      rest: "x/y",
      method: "DELETE",
    });
    const put = await emulator.request("https://api.routing.test/items/apple?q=1", {
      method: "PUT",
      body: "a=b",
    });
    expect(put.status).toBe(201);
    expect(put.json()).toEqual({ item: "apple", form: "b", query: "1" });
    expect(
      (await emulator.request("https://api.routing.test/json", { method: "POST", body: "[1]" })).json(),
    ).toEqual({
      echo: [1],
    });
  });

  it("answers 404 with a clear text for an unknown host or path, and 405 for a wrong method", async () => {
    const host = await emulator.request("https://nowhere.test/v2/");
    expect(host.status).toBe(404);
    expect(host.body).toContain("no emulated host nowhere.test");
    // The wildcard matches below the suffix, not the suffix itself.
    expect((await emulator.request("https://wild.test/files/x")).status).toBe(404);
    const path = await emulator.request("https://api.routing.test/missing");
    expect(path.status).toBe(404);
    expect(path.body).toContain("no endpoint for GET https://api.routing.test/missing");
    const method = await emulator.request("https://api.routing.test/exact", { method: "POST" });
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe("GET");
  });

  it("answers 421 when the TLS name and the Host disagree", async () => {
    const response = await emulator.request("https://auth.registry.example.com/token", {
      method: "POST",
      headers: { host: "registry.example.com" },
    });
    expect(response.status).toBe(421);
    expect(response.body).toContain("does not match");
    expect(emulator.calls("example.token")).toBe(0);
  });

  it("turns handler errors into answers: HttpError as given, anything else a 500, bad JSON a 400", async () => {
    const refused = await emulator.request("https://api.routing.test/throws");
    expect([refused.status, refused.body, refused.headers["x-reason"]]).toEqual([403, "not you", "test"]);
    const bug = await emulator.request("https://api.routing.test/bug");
    expect(bug.status).toBe(500);
    expect(bug.body).toContain("t.bug failed: oops");
    expect(
      (await emulator.request("https://api.routing.test/json", { method: "POST", body: "{" })).status,
    ).toBe(400);
    const own = await emulator.request("https://api.routing.test/own");
    expect([own.status, own.body]).toEqual([202, "written"]);
  });

  it("keeps http and https routes apart", async () => {
    const plain = await emulator.request("http://169.254.169.254/latest/meta-data/");
    expect(plain.body).toBe("plain http 169.254.169.254");
    expect((await emulator.request("https://169.254.169.254/latest/meta-data/")).status).toBe(404);
    expect((await emulator.request("http://api.routing.test/exact")).status).toBe(404);
  });

  it("serves absolute-form http through the proxy and refuses origin-form", async () => {
    const viaProxy = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port: port(emulator.proxyUrl),
            path,
            headers: { host: "169.254.169.254" },
            agent: false,
          },
          (res) => {
            let body = "";
            res.on("data", (chunk) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.once("error", reject);
        req.end();
      });
    expect(await viaProxy("http://169.254.169.254/latest/meta-data/")).toEqual({
      status: 200,
      body: "plain http 169.254.169.254",
    });
    expect((await viaProxy("/latest/meta-data/")).status).toBe(400);
  });

  it("keeps the bytes a client sends right behind its CONNECT, before the proxy answered", async () => {
    // Capture a ClientHello first, so it goes out in the same write as the CONNECT.
    const [inner, outer] = duplexPair();
    const tls = tlsConnect({ socket: inner, servername: "registry.example.com", ca: emulator.caPem });
    const hello = await new Promise<Buffer>((resolve) => outer.once("data", resolve));
    const raw = netConnect(port(emulator.proxyUrl), "127.0.0.1");
    raw.write(
      Buffer.concat([Buffer.from("CONNECT registry.example.com:443 HTTP/1.1\r\nhost: x\r\n\r\n"), hello]),
    );
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      expect(pending.subarray(0, end).toString()).toMatch(/^HTTP\/1\.1 200 /);
      raw.off("data", onData);
      outer.write(pending.subarray(end + 4));
      raw.pipe(outer).pipe(raw);
    };
    raw.on("data", onData);
    await new Promise((resolve, reject) => tls.once("secureConnect", resolve).once("error", reject));
    tls.write("GET /v2/ HTTP/1.1\r\nhost: registry.example.com\r\nconnection: close\r\n\r\n");
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      tls.on("data", (chunk) => (text += chunk));
      tls.once("end", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    raw.destroy();
  });

  it("stops serving a removed route", async () => {
    const handle = emulator.route({ id: "t.gone", host: "gone.test", method: "GET", path: "/" }, () =>
      text(200, "here"),
    );
    expect((await emulator.request("https://gone.test/")).status).toBe(200);
    handle.remove();
    expect((await emulator.request("https://gone.test/")).status).toBe(404);
  });

  it("routes by a RegExp host, for names with a variable label in the middle", async () => {
    const handle = emulator.route(
      { id: "t.regexp", host: /^api\.[a-z0-9-]+\.regexp\.test$/g, method: "GET", path: "/" },
      (req) => text(200, req.host),
    );
    try {
      // Twice: a /g pattern must not carry lastIndex from one request to the next.
      for (let i = 0; i < 2; i++)
        expect((await emulator.request("https://api.eu-1.regexp.test/")).body).toBe("api.eu-1.regexp.test");
      expect((await emulator.request("https://api.eu-1.regexp.test.evil/")).status).toBe(404);
      expect((await emulator.request("https://x.api.eu-1.regexp.test/")).status).toBe(404);
      expect(emulator.routes().find((r) => r.id === "t.regexp")?.hosts).toEqual([
        "/^api\\.[a-z0-9-]+\\.regexp\\.test$/",
      ]);
    } finally {
      handle.remove();
    }
  });

  it("lists its routes and refuses a malformed one", () => {
    expect(emulator.routes()).toContainEqual({
      id: "example.token",
      scheme: "https",
      methods: ["POST"],
      hosts: ["auth.registry.example.com"],
      path: "/token",
    });
    expect(() =>
      emulator.route({ id: "x", host: "bad host", method: "GET", path: "/" }, () => undefined),
    ).toThrow();
    expect(() =>
      emulator.route({ id: "x", host: "ok.test", method: "GET", path: "no-slash" }, () => undefined),
    ).toThrow();
  });
});

describe("the issued-secret ledger", () => {
  it("hands out unique, recognisable secrets and records every one", () => {
    const secrets = Array.from({ length: 500 }, () => emulator.issueSecret("ledger-test-"));
    for (const secret of secrets) expect(secret).toMatch(/^ledger-test-[0-9a-f]{24}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
    const issued = emulator.issued();
    expect(issued).toEqual(expect.arrayContaining(secrets));
    expect(new Set(issued).size).toBe(issued.length);
    // The example API key was issued at start.
    expect(issued).toContain(emulator.example.apiKey);
    // A copy: a test cannot edit the ledger.
    issued.length = 0;
    expect(emulator.issued().length).toBeGreaterThan(0);
    expect(() => emulator.issueSecret("no spaces ")).toThrow(/URL-safe/);
  });
});

describe("the connection log", () => {
  const rawProxy = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = netConnect(port(emulator.proxyUrl), "127.0.0.1");
      socket.once("error", reject);
      socket.once("data", (chunk) => {
        socket.destroy();
        resolve(chunk.toString());
      });
      socket.write(request);
    });

  it("logs each connection by listener, and a proxy connection's CONNECT target, taken or refused", async () => {
    const own = await startEmulator();
    try {
      expect(own.connections()).toEqual([]);
      own.route({ id: "c.plain", host: "plain.conn.test", method: "GET", path: "/", scheme: "http" }, () =>
        text(200, "ok"),
      );
      await own.request("https://registry.example.com/v2/");
      await own.request("http://plain.conn.test/");
      const proxyPort = port(own.proxyUrl);
      const viaProxy = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = netConnect(proxyPort, "127.0.0.1");
          socket.once("error", reject);
          socket.once("data", (chunk) => {
            socket.destroy();
            resolve(chunk.toString());
          });
          socket.write(request);
        });
      // A tunnel taken: one connection (the proxy's), whatever TLS then runs through it.
      const [inner, outer] = duplexPair();
      const tls = tlsConnect({ socket: inner, servername: "myregistry.azurecr.io", ca: own.caPem });
      const tunnel = netConnect(proxyPort, "127.0.0.1");
      tunnel.write("CONNECT myregistry.azurecr.io:443 HTTP/1.1\r\nhost: myregistry.azurecr.io:443\r\n\r\n");
      await new Promise((resolve) => tunnel.once("data", resolve));
      tunnel.pipe(outer).pipe(tunnel);
      await new Promise((resolve, reject) => tls.once("secureConnect", resolve).once("error", reject));
      tls.destroy();
      tunnel.destroy();
      expect(await viaProxy("CONNECT no-port.example HTTP/1.1\r\nhost: x\r\n\r\n")).toMatch(
        /^HTTP\/1\.1 400 /,
      );
      expect(await viaProxy("GET http://plain.conn.test/ HTTP/1.1\r\nhost: plain.conn.test\r\n\r\n")).toMatch(
        /^HTTP\/1\.1 200 /,
      );
      await waitFor(() => own.connections().length === 5, "five connections");
      expect(own.connections().map(({ listener, target }) => ({ listener, target }))).toEqual([
        { listener: "https", target: undefined },
        { listener: "http", target: undefined },
        { listener: "proxy", target: "myregistry.azurecr.io:443" },
        { listener: "proxy", target: "no-port.example" },
        { listener: "proxy", target: undefined },
      ]);
      for (const connection of own.connections()) expect(connection.at).toBeInstanceOf(Date);
      expect(own.tunnels()).toEqual(["myregistry.azurecr.io:443"]);
    } finally {
      await own.close();
    }
  });

  it("hands out copies", async () => {
    await rawProxy("CONNECT registry.example.com:443 HTTP/1.1\r\nhost: registry.example.com:443\r\n\r\n");
    const copy = emulator.connections();
    const last = copy.at(-1);
    expect(last).toMatchObject({ listener: "proxy", target: "registry.example.com:443" });
    if (last) last.target = "changed";
    expect(emulator.connections().at(-1)?.target).toBe("registry.example.com:443");
  });
});

describe("close()", () => {
  it("leaves no listening port, tunnel or temp dir, and can be called again", async () => {
    const own = await startEmulator();
    const urls = [own.httpsUrl, own.httpUrl, own.proxyUrl];
    for (const url of urls) expect(await tryConnect(url)).toBe("connected");

    // An open tunnel and an idle keep-alive connection, which no server's close() would end.
    const tunnel = netConnect(port(own.proxyUrl), "127.0.0.1");
    const tunnelClosed = new Promise((resolve) => tunnel.once("close", resolve));
    tunnel.on("error", () => {});
    tunnel.write("CONNECT myregistry.azurecr.io:443 HTTP/1.1\r\nhost: myregistry.azurecr.io:443\r\n\r\n");
    await new Promise((resolve) => tunnel.once("data", resolve));
    expect(own.tunnels()).toEqual(["myregistry.azurecr.io:443"]);
    const idle = netConnect(port(own.httpUrl), "127.0.0.1");
    const idleClosed = new Promise((resolve) => idle.once("close", resolve));
    idle.on("error", () => {});
    idle.write("GET / HTTP/1.1\r\nhost: nowhere.test\r\n\r\n");
    await new Promise((resolve) => idle.once("data", resolve));

    await Promise.all([own.close(), own.close()]);
    await own.close();
    await Promise.all([tunnelClosed, idleClosed]);
    for (const url of urls) expect(await tryConnect(url)).toBe("ECONNREFUSED");
    expect(existsSync(own.dir)).toBe(false);
    await waitFor(() => tunnel.destroyed && idle.destroyed, "the client sockets to close");
  });
});
