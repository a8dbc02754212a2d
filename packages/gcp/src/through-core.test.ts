/**
 * The metadata token through core's real HTTP client, over loopback to a scripted server: what
 * the retry policy does for this provider's calls (429 with and without Retry-After, 503, a reset,
 * a truncated answer: retried within the deadline; an oversized answer: refused), and the error
 * that names the endpoint, the fault and how long it was retried. The clock is fake: waits between
 * attempts advance it instead of sleeping.
 */
import type { HttpClient } from "@kubelet-credential-provider/core";
import {
  CloudCallError,
  createHttpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
} from "@kubelet-credential-provider/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { quietLog } from "../testdata/fake-http.ts";
import type { ScriptedServer, Step } from "../testdata/scripted-server.ts";
import { huge, reply, reset, startScriptedServer, truncated } from "../testdata/scripted-server.ts";
import { fetchMetadataToken } from "./metadata.ts";

const TOKEN = "ya29.c.through-core-token-0123456789";
const ok = reply(200, { access_token: TOKEN, expires_in: 3599, token_type: "Bearer" });

let server: ScriptedServer | undefined;
let waits: number[];

beforeEach(() => {
  // Only Date is faked: the sockets and the attempt timers keep real time.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.parse("2025-06-01T00:00:00Z"));
  waits = [];
});

afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

async function run(steps: Step[], deadlineMs = 50_000) {
  server = await startScriptedServer(steps);
  const { log, secrets, lines } = quietLog();
  const http: HttpClient = createHttpClient({
    userAgent: "auth-provider-gcp/test",
    deadline: Date.now() + deadlineMs,
    env: { GCE_METADATA_HOST: server.host },
    log,
    secrets,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      vi.setSystemTime(Date.now() + ms);
    },
  });
  const context = { http, log, secrets, env: { GCE_METADATA_HOST: server.host }, now: Date.now };
  const result = await fetchMetadataToken(context).then(
    (token) => ({ token, error: undefined }),
    (error: unknown) => ({ token: undefined, error }),
  );
  return { ...result, calls: server.calls, lines, secrets };
}

describe("the GCE metadata token through core's HTTP client", () => {
  it.each<[string, Step]>([
    ["429 without Retry-After", reply(429, "Too Many Requests")],
    ["503", reply(503, "Service Unavailable")],
    ["a dropped connection", reset],
    ["a truncated answer", truncated],
  ])("%s, then a token: retried, answered", async (_, first) => {
    const { token, error, calls } = await run([first, ok]);
    expect(error).toBeUndefined();
    expect(token?.token).toBe(TOKEN);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.headers["metadata-flavor"] === "Google")).toBe(true);
    expect(waits).toHaveLength(1);
  });

  it("429 with Retry-After: 3, then a token: waits the three seconds (plus jitter) first", async () => {
    const { token, calls } = await run([reply(429, "slow down", { "retry-after": "3" }), ok]);
    expect(token?.token).toBe(TOKEN);
    expect(calls).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(3_000);
    expect(waits[0]).toBeLessThan(3_000 + 1_000);
  });

  it("throttled until the deadline: one error naming the endpoint, the fault, the time and the attempts", async () => {
    const { error, calls } = await run([reply(429, "Too Many Requests")]);
    expect(error).toBeInstanceOf(CloudCallError);
    const failure = error as CloudCallError;
    expect(failure).toMatchObject({
      code: "CLOUD_THROTTLED",
      fault: "throttled",
      endpoint: "GCE metadata token",
      status: 429,
      attempts: calls.length,
    });
    expect(calls.length).toBeGreaterThan(5);
    expect(failure.message).toMatch(
      /^GCE metadata token throttled \(HTTP 429\) for (4\d) s \(\d+ attempts\)$/,
    );
    expect(failure.message).toContain(`(${calls.length} attempts)`);
  });

  it("503 until the deadline: server-error, CLOUD_UNAVAILABLE", async () => {
    const { error } = await run([reply(503, "unavailable")], 10_000);
    expect(error).toMatchObject({
      code: "CLOUD_UNAVAILABLE",
      fault: "server-error",
      endpoint: "GCE metadata token",
    });
    expect((error as Error).message).toMatch(
      /^GCE metadata token answered HTTP 503 for \d+ s \(\d+ attempts\)$/,
    );
  });

  it("an answer over core's cap: too-large, not retried, nothing of it quoted", async () => {
    const { error, calls } = await run([huge(DEFAULT_MAX_RESPONSE_BYTES + 64 * 1024), ok]);
    expect(error).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "too-large",
      endpoint: "GCE metadata token",
    });
    expect((error as Error).message).toBe("GCE metadata token sent an answer larger than 1 MiB");
    expect(calls).toHaveLength(1);
  });

  it("a token answer missing its closing brace: malformed at once, the token nowhere in the error or the log", async () => {
    const { error, calls, lines } = await run([
      reply(200, `{"access_token":"${TOKEN}","expires_in":3599,"token_type":"Bearer"`),
    ]);
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", fault: "malformed" });
    expect((error as Error).message).toBe(
      "GCE metadata token answered HTTP 200 with a body that is not JSON",
    );
    expect(calls).toHaveLength(1);
    expect(lines.join("")).not.toContain(TOKEN);
  });
});
