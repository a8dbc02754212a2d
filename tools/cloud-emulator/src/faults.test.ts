/**
 * Each fault as a client meets it, call counting through faults, and the order faults queue in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "./index.ts";
import { json, startEmulator } from "./index.ts";
import { rawHttps, waitFor } from "./testdata/helpers.ts";

let emulator: Emulator;
const url = "https://api.faults.test/thing";
const id = "faults.thing";

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.route({ id, host: "api.faults.test", method: "GET", path: "/thing" }, (_req, ctx) =>
    json(200, { expired: ctx.expired }),
  );
});
afterEach(() => emulator.clearFaults());
afterAll(() => emulator?.close());

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
