/**
 * Each fault as a client meets it, call counting through faults, the order faults queue in, rate
 * limits, flaky endpoints and faults on an endpoint's alias.
 */
import type { IncomingHttpHeaders } from "node:http";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { connect as netConnect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "./index.ts";
import { json, startEmulator } from "./index.ts";
import { rawHttps, waitFor } from "./testdata/helpers.ts";

let emulator: Emulator;
const url = "https://api.faults.test/thing";
const id = "faults.thing";
// On the plain listener: the streaming faults' bytes without TLS's cost.
const plainUrl = "http://plain.faults.test/thing";
const plainId = "faults.plain";
const plainAnswer = { answer: "the real one", padding: "x".repeat(100) };

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.route({ id, host: "api.faults.test", method: "GET", path: "/thing" }, (_req, ctx) =>
    json(200, { expired: ctx.expired }),
  );
  emulator.route(
    { id: plainId, host: "plain.faults.test", method: "GET", path: "/thing", scheme: "http" },
    () => json(200, plainAnswer),
  );
});
afterEach(() => emulator.clearFaults());
afterAll(() => emulator?.close());

const httpPort = () => Number(new URL(emulator.httpUrl).port);

/**
 * GET on the plain listener, noting what the emulator had sent of the body when the headers came
 * and how long the body took; with `keep`, only the body's first `keep` characters and last 3.
 */
function plainGet(path: string, options: { keep?: number } = {}) {
  return new Promise<{
    status: number;
    headers: IncomingHttpHeaders;
    pieces: string[];
    received: number;
    head: string;
    tail: string;
    sentAtHeaders: number | undefined;
    bodyMs: number;
  }>((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: httpPort(), path, headers: { host: "plain.faults.test" }, agent: false },
      (res) => {
        const sentAtHeaders = emulator.requests(plainId).at(-1)?.sent;
        const headersAt = performance.now();
        const pieces: string[] = [];
        let received = 0;
        let head = "";
        let tail = Buffer.alloc(0);
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (options.keep === undefined) pieces.push(chunk.toString("utf8"));
          else {
            if (head.length < options.keep) head += chunk.subarray(0, options.keep - head.length).toString();
            tail = Buffer.concat([tail, chunk]).subarray(-3);
          }
        });
        res.once("error", reject);
        res.once("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            pieces,
            received,
            head,
            tail: tail.toString(),
            sentAtHeaders,
            bodyMs: performance.now() - headersAt,
          }),
        );
      },
    );
    req.once("error", reject);
    req.end();
  });
}

/** A raw GET on the plain listener, for a client that stops reading or leaves mid-body. */
function rawPlainGet(path: string): { socket: Socket; firstData: Promise<void> } {
  const socket = netConnect(httpPort(), "127.0.0.1");
  socket.on("error", () => {});
  const firstData = new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: plain.faults.test\r\n\r\n`);
  return { socket, firstData };
}

/** Polls `read` until it stays the same across 50 ms; its value then. */
async function waitForStable(read: () => number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let last = read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = read();
    if (now === last) return now;
    if (Date.now() > deadline) throw new Error("timed out waiting for the writes to stop");
    last = now;
  }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the request to fail");
    },
    (error: NodeJS.ErrnoException) => error,
  );

describe("faults", () => {
  it.each([429, 500, 503])("answers %i with Retry-After and the given body", async (status) => {
    emulator.fault(id, { kind: "status", status, retryAfter: 7, body: "slow down" });
    const response = await emulator.request(url);
    expect(response.status).toBe(status);
    expect(response.headers["retry-after"]).toBe("7");
    expect(response.body).toBe("slow down");
  });

  it("answers a status without Retry-After when none is given", async () => {
    emulator.fault(id, { kind: "status", status: 503 });
    const response = await emulator.request(url);
    expect(response.status).toBe(503);
    expect(response.headers["retry-after"]).toBeUndefined();
    expect(response.body).toContain(id);
  });

  it("resets the connection before answering", async () => {
    emulator.fault(id, { kind: "reset" });
    const error = await failure(emulator.request(url));
    expect(error.code).toBe("ECONNRESET");
  });

  it("answers 200 with a body that is not JSON", async () => {
    emulator.fault(id, { kind: "malformed" });
    const response = await emulator.request(url);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(() => JSON.parse(response.body)).toThrow(SyntaxError);
  });

  it("truncates: a Content-Length larger than the body, then the close", async () => {
    emulator.fault(id, { kind: "truncated" });
    const raw = await rawHttps(
      emulator,
      "api.faults.test",
      "GET /thing HTTP/1.1\r\nhost: api.faults.test\r\n\r\n",
    );
    const [head, body = ""] = raw.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    const length = Number(/content-length: (\d+)/i.exec(head ?? "")?.[1]);
    expect(Buffer.byteLength(body)).toBeGreaterThan(0);
    expect(Buffer.byteLength(body)).toBeLessThan(length);
    // And an HTTP client reports the cut rather than a short answer.
    emulator.fault(id, { kind: "truncated" });
    expect((await failure(emulator.request(url))).code).toBe("ECONNRESET");
  });

  it("delays by at least the latency, then answers", async () => {
    emulator.fault(id, { kind: "latency", ms: 150 });
    const started = performance.now();
    const response = await emulator.request(url);
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(response.status).toBe(200);
  });

  it("tells the endpoint to issue an expired credential", async () => {
    emulator.fault(id, { kind: "expired", times: 1 });
    expect((await emulator.request(url)).json()).toEqual({ expired: true });
    expect((await emulator.request(url)).json()).toEqual({ expired: false });
  });

  it("applies queued faults to the next calls in order, then answers normally", async () => {
    emulator.fault(id, { kind: "status", status: 429, retryAfter: 1, times: 2 });
    emulator.fault(id, { kind: "status", status: 503, times: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await emulator.request(url)).status);
    expect(statuses).toEqual([429, 429, 503, 200]);
  });

  it("applies a fault without times to every call until cleared", async () => {
    emulator.fault(id, { kind: "status", status: 500 });
    expect((await emulator.request(url)).status).toBe(500);
    expect((await emulator.request(url)).status).toBe(500);
    emulator.clearFaults(id);
    expect((await emulator.request(url)).status).toBe(200);
  });

  it("counts every call by id, faulted ones included, and records the fault", async () => {
    const before = emulator.calls(id);
    const total = emulator.calls();
    emulator.fault(id, { kind: "reset", times: 1 });
    emulator.fault(id, { kind: "status", status: 429, times: 1 });
    await failure(emulator.request(url));
    await emulator.request(url);
    await emulator.request(url);
    await emulator.request("https://api.faults.test/unknown"); // a 404 is no endpoint's call
    expect(emulator.calls(id)).toBe(before + 3);
    expect(emulator.calls()).toBe(total + 3);
    expect(emulator.callCounts()[id]).toBe(before + 3);
    expect(
      emulator
        .requests(id)
        .slice(-3)
        .map((call) => call.fault),
    ).toEqual(["reset", "status", undefined]);
  });

  it("rejects a fault it cannot apply", () => {
    expect(() => emulator.fault(id, { kind: "status", status: 200 })).toThrow(/400-599/);
    expect(() => emulator.fault(id, { kind: "latency", ms: -1 })).toThrow(/ms/);
    expect(() => emulator.fault(id, { kind: "reset", times: 0 })).toThrow(/times/);
    expect(() => emulator.fault(id, { kind: "nope" } as never)).toThrow(/unknown kind/);
  });
});

describe("the hang fault", () => {
  it("never answers, until close() ends the connection", async () => {
    const own = await startEmulator();
    try {
      own.route({ id: "hang.me", host: "hang.test", method: "GET", path: "/" }, () => json(200, {}));
      own.fault("hang.me", { kind: "hang" });
      let settled = false;
      const pending = failure(own.request("https://hang.test/")).finally(() => {
        settled = true;
      });
      await waitFor(() => own.calls("hang.me") === 1, "the hung call");
      // Well past any answer the emulator would give on loopback.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(settled).toBe(false);
      await own.close();
      expect((await pending).code).toBe("ECONNRESET");
    } finally {
      await own.close();
    }
  });
});

describe("slow answers", () => {
  it("slowHeaders (latency's clear name) delays the status line, then the real answer follows", async () => {
    emulator.fault(id, { kind: "slowHeaders", ms: 150, times: 1 });
    const started = performance.now();
    const response = await emulator.request(url);
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(response.json()).toEqual({ expired: false });
    expect(emulator.requests(id).at(-1)?.fault).toBe("slowHeaders");
  });

  it("slowBody sends the headers at once and the real body in pieces over ms", async () => {
    emulator.fault(plainId, { kind: "slowBody", ms: 240, chunks: 3, times: 1 });
    const started = performance.now();
    const { status, headers, pieces, sentAtHeaders, bodyMs } = await plainGet("/thing");
    expect(status).toBe(200);
    // The emulator had written no body byte when the client had the headers.
    expect(sentAtHeaders).toBe(0);
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    const body = pieces.join("");
    expect(Number(headers["content-length"])).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toEqual(plainAnswer);
    expect(bodyMs).toBeGreaterThanOrEqual(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(239);
    expect(emulator.requests(plainId).at(-1)).toMatchObject({
      fault: "slowBody",
      sent: Buffer.byteLength(body),
    });
  });

  it("slowBody makes a per-attempt timeout fire mid-body", async () => {
    emulator.fault(plainId, { kind: "slowBody", ms: 5_000, times: 1 });
    const error = await failure(emulator.request(plainUrl, { timeoutMs: 150 }));
    expect(error.code).toBe("ETIMEDOUT");
    const call = emulator.requests(plainId).at(-1);
    expect(call?.fault).toBe("slowBody");
    expect(call?.sent).toBeLessThan(JSON.stringify(plainAnswer).length);
  });
});

describe("the huge fault", () => {
  const mib = 1024 * 1024;

  it("answers 200 with a 64 MiB JSON-looking body and its exact Content-Length", async () => {
    emulator.fault(plainId, { kind: "huge", times: 1 });
    const result = await plainGet("/thing", { keep: 64 });
    expect(result.status).toBe(200);
    expect(result.headers["content-type"]).toBe("application/json");
    expect(Number(result.headers["content-length"])).toBe(64 * mib);
    expect(result.received).toBe(64 * mib);
    expect(result.head).toMatch(/^\{"cloud-emulator":"huge","padding":"x+$/);
    expect(result.tail).toBe('"}\n');
    expect(emulator.requests(plainId).at(-1)).toMatchObject({ fault: "huge", sent: 64 * mib });
  });

  it("streams at the client's pace: a client that stops reading stops the writes", async () => {
    emulator.fault(plainId, { kind: "huge", times: 1 });
    const memoryBefore = process.memoryUsage().arrayBuffers;
    const { socket, firstData } = rawPlainGet("/thing");
    await firstData;
    socket.pause();
    const call = () => emulator.requests(plainId).at(-1);
    await waitForStable(() => call()?.sent ?? 0);
    // Socket buffers on both ends hold a few MiB at most; the body is not queued whole.
    expect(call()?.sent).toBeLessThan(32 * mib);
    expect(process.memoryUsage().arrayBuffers - memoryBefore).toBeLessThan(32 * mib);
    // Reading again takes the rest.
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (call()?.sent === 64 * mib && received > 0) resolve();
      });
      socket.once("error", reject);
      socket.resume();
    });
    await waitFor(() => call()?.sent === 64 * mib, "the whole body");
    socket.destroy();
  });

  it("stops writing when the client goes away", async () => {
    emulator.fault(plainId, { kind: "huge", bytes: 512 * mib, times: 1 });
    const { socket, firstData } = rawPlainGet("/thing");
    await firstData;
    socket.destroy();
    const sent = await waitForStable(() => emulator.requests(plainId).at(-1)?.sent ?? 0);
    expect(sent).toBeLessThan(64 * mib);
    expect((await emulator.request(plainUrl)).status).toBe(200);
  });
});

describe("malformed answers", () => {
  it.each([
    ["json", "application/json"],
    ["xml", "text/xml"],
    ["html", "text/html; charset=utf-8"],
  ] as const)(
    "%s: a 200 of %s that does not parse, holding no issued secret",
    async (format, contentType) => {
      emulator.fault(id, { kind: "malformed", format, times: 1 });
      const response = await emulator.request(url);
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toBe(contentType);
      expect(() => JSON.parse(response.body)).toThrow(SyntaxError);
      if (format === "xml") {
        expect(response.body).toMatch(/^<AssumeRoleWithWebIdentityResponse /);
        expect(response.body).not.toContain("</AssumeRoleWithWebIdentityResponse>");
      }
      if (format === "html") expect(response.body).toMatch(/^<!DOCTYPE html>\n<html>/);
      for (const secret of emulator.issued()) expect(response.body).not.toContain(secret);
    },
  );

  it("jsonString: valid JSON of the wrong shape, a string", async () => {
    emulator.fault(id, { kind: "malformed", format: "jsonString", times: 1 });
    const response = await emulator.request(url);
    expect(response.status).toBe(200);
    expect(typeof response.json()).toBe("string");
    expect(response.body).toMatch(/^"\{\\"access_token\\":/);
  });

  it("jsonWithSecret: an unparseable token answer around a secret just issued to the ledger", async () => {
    const before = new Set(emulator.issued());
    emulator.fault(id, { kind: "malformed", format: "jsonWithSecret", times: 1 });
    const response = await emulator.request(url);
    const fresh = emulator.issued().filter((secret) => !before.has(secret));
    expect(fresh).toEqual([expect.stringMatching(/^malformed-secret-[0-9a-f]{24}$/)]);
    expect(response.status).toBe(200);
    expect(response.body).toContain(fresh[0]);
    expect(() => JSON.parse(response.body)).toThrow(SyntaxError);
  });
});

describe("status and throttle", () => {
  it("answers a status with the cloud's own content type and headers", async () => {
    emulator.fault(id, {
      kind: "status",
      status: 400,
      body: '{"__type":"ThrottlingException","message":"Rate exceeded"}',
      contentType: "application/x-amz-json-1.1",
      headers: { "x-amzn-errortype": "ThrottlingException" },
      times: 1,
    });
    const response = await emulator.request(url);
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(response.headers["x-amzn-errortype"]).toBe("ThrottlingException");
    expect(response.json()).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
  });

  it("throttles an endpoint it has no entry for with a plain 429, Retry-After only when given", async () => {
    emulator.fault(id, { kind: "throttle", times: 1 });
    emulator.fault(id, { kind: "throttle", retryAfter: 5, times: 1 });
    const first = await emulator.request(url);
    const second = await emulator.request(url);
    expect([first.status, first.headers["retry-after"]]).toEqual([429, undefined]);
    expect([second.status, second.headers["retry-after"]]).toEqual([429, "5"]);
  });
});

describe("rate limits", () => {
  it("serves the burst of calls that come at once and throttles the rest, with Retry-After", async () => {
    const before = emulator.calls(id);
    // A token every 10 s: none comes back while the ten calls are in flight.
    emulator.rateLimit(id, { perSecond: 0.1, burst: 1, retryAfter: 1 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => emulator.request(url)));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(429)]);
    for (const response of responses.filter((r) => r.status === 429))
      expect(response.headers["retry-after"]).toBe("1");
    expect(emulator.calls(id)).toBe(before + 10);
    const calls = emulator.requests(id).slice(-10);
    expect(calls.filter((call) => call.fault === "throttle" && call.faultBy === "rateLimit")).toHaveLength(9);
    expect(calls.filter((call) => call.fault === undefined)).toHaveLength(1);
  });

  it("throttles in the endpoint's own form, and stops when cleared", async () => {
    const ecr = "https://api.ecr.us-west-2.amazonaws.com/";
    emulator.rateLimit("ecr.GetAuthorizationToken", { perSecond: 0.1, burst: 1 });
    await emulator.request(ecr, { method: "POST", body: "{}" });
    const throttled = await emulator.request(ecr, { method: "POST", body: "{}" });
    expect(throttled.status).toBe(400);
    expect(throttled.headers["x-amzn-errortype"]).toBe("ThrottlingException");
    expect(throttled.headers["retry-after"]).toBeUndefined();
    emulator.clearRateLimit("ecr.GetAuthorizationToken");
    const served = await emulator.request(ecr, { method: "POST", body: "{}" });
    expect(served.headers["x-amzn-errortype"]).not.toBe("ThrottlingException");
    // clearFaults() clears rate limits too.
    emulator.rateLimit(id, { perSecond: 0.1, burst: 1 });
    await emulator.request(url);
    expect((await emulator.request(url)).status).toBe(429);
    emulator.clearFaults(id);
    expect((await emulator.request(url)).status).toBe(200);
  });

  it("comes before queued faults: a throttled call uses none up", async () => {
    emulator.rateLimit(id, { perSecond: 0.1, burst: 1 });
    emulator.fault(id, { kind: "status", status: 503, times: 1 });
    expect((await emulator.request(url)).status).toBe(503);
    expect((await emulator.request(url)).status).toBe(429);
    emulator.clearRateLimit();
    emulator.fault(id, { kind: "status", status: 500, times: 1 });
    emulator.rateLimit(id, { perSecond: 0.1, burst: 1 });
    await emulator.request(url); // the token, and the 500
    expect((await emulator.request(url)).status).toBe(429);
    emulator.clearRateLimit(id);
    expect((await emulator.request(url)).status).toBe(200);
  });
});

describe("flaky endpoints", () => {
  const outcome = (promise: Promise<{ status: number }>) =>
    promise.then(
      (response) => String(response.status),
      (error: NodeJS.ErrnoException) => error.code ?? "error",
    );
  const run = async (n: number) => {
    const outcomes: string[] = [];
    for (let i = 0; i < n; i++) outcomes.push(await outcome(emulator.request(url)));
    return outcomes;
  };

  it("fails the same calls with the same seed, with a 503 or a reset", async () => {
    emulator.flaky(id, { rate: 0.5, seed: 7 });
    const first = await run(16);
    emulator.flaky(id, { rate: 0.5, seed: 7 });
    expect(await run(16)).toEqual(first);
    expect(new Set(first)).toEqual(new Set(["200", "503", "ECONNRESET"]));
    const flaked = emulator.requests(id).filter((call) => call.faultBy === "flaky");
    expect(flaked.length).toBe(2 * first.filter((o) => o !== "200").length);
    emulator.clearFlaky(id);
    expect(await run(3)).toEqual(["200", "200", "200"]);
  });
});

describe("faults on an endpoint's alias", () => {
  it("ACR's challenge is acr.challenge as well as registry.v2; a fault for it leaves other registries be", async () => {
    const acr = "https://myregistry.azurecr.io/v2/";
    const other = "https://registry.example.com/v2/";
    const [v2, challenge] = [emulator.calls("registry.v2"), emulator.calls("acr.challenge")];
    emulator.fault("acr.challenge", { kind: "status", status: 503 });
    expect((await emulator.request(other)).status).toBe(401);
    expect((await emulator.request(acr)).status).toBe(503);
    expect([emulator.calls("registry.v2") - v2, emulator.calls("acr.challenge") - challenge]).toEqual([2, 1]);
    expect(emulator.requests("acr.challenge").at(-1)).toMatchObject({
      id: "registry.v2",
      alias: "acr.challenge",
      fault: "status",
    });
    expect(emulator.callCounts()["acr.challenge"]).toBe(emulator.calls("acr.challenge"));
    // A fault for the shared id still reaches ACR's, after the alias's own.
    emulator.clearFaults("acr.challenge");
    emulator.fault("registry.v2", { kind: "status", status: 500, times: 1 });
    expect((await emulator.request(acr)).status).toBe(500);
    expect((await emulator.request(acr)).status).toBe(401);
  });
});

describe("new faults' validation", () => {
  it("rejects what it cannot apply", () => {
    expect(() => emulator.fault(id, { kind: "slowHeaders", ms: Number.NaN })).toThrow(/ms/);
    expect(() => emulator.fault(id, { kind: "slowBody", ms: 10, chunks: 0 })).toThrow(/chunks/);
    expect(() => emulator.fault(id, { kind: "huge", bytes: 10 })).toThrow(/bytes/);
    expect(() => emulator.fault(id, { kind: "malformed", format: "yaml" as never })).toThrow(/format/);
    expect(() => emulator.fault(id, { kind: "throttle", retryAfter: 1.5 })).toThrow(/retryAfter/);
    expect(() => emulator.fault(id, { kind: "status", status: 500, headers: { "bad header": "x" } })).toThrow(
      /header/,
    );
    expect(() => emulator.rateLimit(id, { perSecond: -1, burst: 1 })).toThrow(/perSecond/);
    expect(() => emulator.flaky(id, { rate: 2 })).toThrow(/rate/);
  });
});
