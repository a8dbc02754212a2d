/**
 * The endpoint table the adversarial suite iterates over: it names every endpoint the default
 * clouds register, each sample request reaches its endpoint, and each throttles in its own form.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "./index.ts";
import { emulatedEndpoints, startEmulator } from "./index.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterEach(() => emulator.clearFaults());
afterAll(() => emulator?.close());

const sample = (endpoint: (typeof emulatedEndpoints)[number]) =>
  emulator.request(endpoint.sample.url, { method: endpoint.sample.method, body: "" });

describe("emulatedEndpoints", () => {
  it("lists every id and alias the default clouds route, once each", () => {
    const routed = new Set(
      emulator.routes().flatMap((route) => [route.id, ...(route.alias ? [route.alias] : [])]),
    );
    const listed = emulatedEndpoints.map((endpoint) => endpoint.id);
    expect(new Set(listed).size).toBe(listed.length);
    expect(new Set(listed)).toEqual(routed);
    for (const endpoint of emulatedEndpoints) {
      const schemes = new Set(
        emulator
          .routes()
          .filter((route) => route.id === endpoint.id || route.alias === endpoint.id)
          .map((route) => route.scheme),
      );
      expect([endpoint.id, schemes]).toEqual([endpoint.id, new Set(endpoint.schemes)]);
    }
  });

  it.each(emulatedEndpoints.map((endpoint) => [endpoint.id, endpoint] as const))(
    "%s: the sample reaches it, and `throttle` answers in its own form",
    async (id, endpoint) => {
      const before = emulator.calls(id);
      emulator.fault(id, { kind: "throttle", retryAfter: 3, times: 1 });
      const response = await sample(endpoint);
      expect(emulator.calls(id)).toBe(before + 1);
      expect(emulator.requests(id).at(-1)).toMatchObject({ fault: "throttle", faultBy: "fault" });
      expect(response.status).toBe(endpoint.throttle.status);
      expect(response.headers["retry-after"]).toBe("3");
      if (endpoint.throttle.code) expect(response.body).toContain(endpoint.throttle.code);
      switch (endpoint.protocol) {
        case "aws-json-1.1":
          expect(response.headers["x-amzn-errortype"]).toBe("ThrottlingException");
          expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
          expect(response.json()).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
          break;
        case "aws-query":
          expect(response.headers["content-type"]).toBe("text/xml");
          expect(response.body).toMatch(
            /<ErrorResponse[^>]*>\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>Throttling<\/Code>\s*<Message>Rate exceeded<\/Message>/,
          );
          break;
        case "gce-metadata":
          expect(response.headers["metadata-flavor"]).toBe("Google");
          break;
        case "oci-distribution":
          expect(response.json()).toMatchObject({ errors: [{ code: "TOOMANYREQUESTS" }] });
          break;
        default:
          break;
      }
      // The fault was used up: the endpoint itself answers the next call, whatever it says.
      const next = await sample(endpoint);
      expect(emulator.requests(id).at(-1)?.fault).toBeUndefined();
      expect(next.headers["retry-after"]).toBeUndefined();
    },
  );
});

describe("faults on the metadata server still carry Metadata-Flavor", () => {
  it.each([
    { kind: "status", status: 503 },
    { kind: "malformed", format: "jsonWithSecret" },
    { kind: "huge", bytes: 1024 },
  ] as const)("%o", async (spec) => {
    const emulator = await startEmulator();
    try {
      emulator.fault("gce.token", spec);
      const sample = emulatedEndpoints.find((e) => e.id === "gce.token")?.sample;
      if (!sample) throw new Error("no sample for gce.token");
      const response = await emulator.request(sample.url, {
        method: sample.method,
        headers: { "metadata-flavor": "Google" },
      });
      expect(response.headers["metadata-flavor"]).toBe("Google");
    } finally {
      await emulator.close();
    }
  });
});
