/**
 * The bundles' stand-ins for Headers and Response, held against Node's own (undici's) in this
 * process: any sequence of operations leaves both with the same entries, and a response reads the
 * same.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Headers as LightHeaders, Response as LightResponse } from "./_light-fetch.ts";

const name = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom("Set-Cookie", "set-cookie", "Content-Type", "content-type") },
);
const value = fc.stringMatching(/^[ \t]?[\x21-\x7e]{0,10}( [\x21-\x7e]{1,5})?[ \t]?$/);
const operation = fc.oneof(
  fc.tuple(fc.constant("append" as const), name, value),
  fc.tuple(fc.constant("set" as const), name, value),
  fc.tuple(fc.constant("delete" as const), name, fc.constant("")),
);

function apply(headers: Headers, [op, key, val]: [string, string, string]): void {
  if (op === "append") headers.append(key, val);
  else if (op === "set") headers.set(key, val);
  else headers.delete(key);
}

describe("Headers stand-in", () => {
  it("property: any sequence of append/set/delete leaves the same entries, get, has and getSetCookie as Node's", () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 25 }), name, (operations, probe) => {
        const light = new LightHeaders();
        const real = new globalThis.Headers();
        for (const op of operations) {
          apply(light, op);
          apply(real, op);
        }
        expect([...light]).toEqual([...real]);
        expect(light.get(probe)).toEqual(real.get(probe));
        expect(light.has(probe)).toEqual(real.has(probe));
        expect(light.getSetCookie()).toEqual(real.getSetCookie());
      }),
    );
  });

  it("takes the same inits as Node's: a record, pairs, another Headers (its own or Node's)", () => {
    const record = { Accept: "application/json", "X-Goog-Api-Client": " gl-node/24 " };
    const pairs: [string, string][] = [
      ["set-cookie", "a=1"],
      ["Set-Cookie", "b=2"],
      ["x-a", "1"],
    ];
    for (const init of [record, pairs, new globalThis.Headers(record), new LightHeaders(pairs)]) {
      expect([...new LightHeaders(init as ConstructorParameters<typeof Headers>[0])]).toEqual([
        ...new globalThis.Headers(init as ConstructorParameters<typeof Headers>[0]),
      ]);
    }
    const seen: string[] = [];
    new LightHeaders(record).forEach((v, k) => {
      seen.push(`${k}=${v}`);
    });
    expect(seen).toEqual(["accept=application/json", "x-goog-api-client=gl-node/24"]);
  });

  it("refuses an invalid name or value with a TypeError, as Node's does", () => {
    for (const bad of [
      () => new LightHeaders({ "bad name": "x" }),
      () => new LightHeaders().set("x", "a\r\nb"),
    ]) {
      expect(bad).toThrow(TypeError);
    }
    expect(() => new globalThis.Headers({ "bad name": "x" })).toThrow(TypeError);
  });
});

describe("Response stand-in", () => {
  const body = new TextEncoder().encode('{"access_token":"t","expires_in":3599}');
  const init = { status: 200, headers: { "content-type": "application/json" } };

  it("reads as Node's does: status, ok, headers, text, json, arrayBuffer, blob, body", async () => {
    const pairs = async (make: () => Response) => {
      const a = make();
      const b = make();
      const c = make();
      const d = make();
      const stream = make().body as ReadableStream<Uint8Array>;
      const chunks: number[] = [];
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(...chunk);
      return {
        status: a.status,
        ok: a.ok,
        contentType: a.headers.get("content-type"),
        text: await a.text(),
        usedAfterRead: a.bodyUsed,
        json: await b.json(),
        bytes: [...new Uint8Array(await c.arrayBuffer())],
        blob: { type: (await d.blob()).type },
        stream: chunks,
      };
    };
    const light = await pairs(() => new LightResponse(body, init));
    const real = await pairs(() => new globalThis.Response(body, init));
    expect(light).toEqual(real);
  });

  it("has no body when given none, reads once, and refuses a status outside 200-599", async () => {
    const empty = new LightResponse(null, { status: 204 });
    expect(empty.body).toBeNull();
    expect(await empty.text()).toBe("");
    const once = new LightResponse(body, init);
    await once.text();
    await expect(once.text()).rejects.toThrow(TypeError);
    expect(() => new LightResponse(null, { status: 101 })).toThrow(RangeError);
    expect(() => new globalThis.Response(null, { status: 101 })).toThrow(RangeError);
    const clone = new LightResponse(body, init).clone();
    expect(await clone.json()).toEqual({ access_token: "t", expires_in: 3599 });
  });
});
