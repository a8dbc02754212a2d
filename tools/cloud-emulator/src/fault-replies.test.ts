/**
 * The streaming faults against a Writable the test controls: the huge body goes out only as fast
 * as it drains and stops when the client goes, and a slow body arrives in pieces, whole.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { dribble, malformedReply, streamHuge } from "./fault-replies.ts";
import { malformedFormats } from "./faults.ts";

/** A Writable that buffers writes but completes none, as a client that stopped reading, until `flow()`. */
function stalledSink(highWaterMark: number) {
  let flowing = false;
  let stalled: (() => void) | undefined;
  const sink = new Writable({
    highWaterMark,
    write(_chunk: Buffer, _encoding, callback) {
      if (flowing) setImmediate(callback);
      else stalled = callback;
    },
  });
  return {
    sink,
    queued: () => sink.writableLength,
    flow: () => {
      flowing = true;
      stalled?.();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("streamHuge", () => {
  it("writes no further than the sink's buffer, waits for it to drain, and stops when it closes", async () => {
    const { sink, queued, flow } = stalledSink(256 * 1024);
    let sent = 0;
    const done = streamHuge(sink, 64 * 1024 * 1024, new AbortController().signal, (n) => {
      sent = n;
    });
    for (let i = 0; i < 5; i++) await tick();
    // One chunk past the high-water mark at most: the rest waits for 'drain'.
    expect(sent).toBeLessThanOrEqual(256 * 1024 + 64 * 1024 + 64);
    expect(queued()).toBe(sent);
    const stalledAt = sent;
    for (let i = 0; i < 5; i++) await tick();
    expect(sent).toBe(stalledAt);
    flow();
    for (let i = 0; i < 5; i++) await tick();
    expect(sent).toBeGreaterThan(stalledAt);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    const closedAt = sent;
    sink.destroy();
    await done;
    expect(sent).toBe(closedAt);
  });

  it("writes exactly the bytes asked for, as one JSON document", async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    const finished = new Promise((resolve) => sink.once("finish", resolve));
    await streamHuge(sink, 200_003, new AbortController().signal);
    await finished;
    const body = Buffer.concat(chunks).toString("utf8");
    expect(body).toHaveLength(200_003);
    expect(JSON.parse(body)).toMatchObject({ "cloud-emulator": "huge" });
  });

  it("stops when the emulator closes", async () => {
    const { sink } = stalledSink(1024);
    const closing = new AbortController();
    const done = streamHuge(sink, 10 * 1024 * 1024, closing.signal);
    await tick();
    closing.abort();
    await done;
  });
});

describe("dribble", () => {
  it("writes the body in the pieces asked for and ends it whole", async () => {
    const pieces: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        pieces.push(chunk.toString());
        callback();
      },
    });
    const totals: number[] = [];
    await dribble(sink, Buffer.from("0123456789"), 4, 3, new AbortController().signal, (n) => totals.push(n));
    expect(pieces).toEqual(["012", "345", "6789"]);
    expect(totals).toEqual([3, 6, 10]);
    expect(sink.writableEnded).toBe(true);
  });

  it("stops writing when the client goes away", async () => {
    const pieces: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        pieces.push(chunk.toString());
        callback();
      },
    });
    const done = dribble(sink, Buffer.from("abcdefgh"), 10_000, 8, new AbortController().signal);
    sink.destroy();
    await done;
    expect(pieces).toEqual([]);
  });
});

describe("malformedReply", () => {
  it("answers 200 with a body that holds no secret, but for jsonWithSecret", () => {
    const issued: string[] = [];
    const issue = (prefix: string) => {
      const secret = `${prefix}${"a".repeat(24)}`;
      issued.push(secret);
      return secret;
    };
    for (const format of malformedFormats) {
      const reply = malformedReply(format, issue);
      expect(reply.status).toBe(200);
      expect(issued.length).toBe(format === "jsonWithSecret" ? 1 : 0);
      if (format === "jsonWithSecret") expect(String(reply.body)).toContain(issued[0]);
      issued.length = 0;
    }
  });
});
