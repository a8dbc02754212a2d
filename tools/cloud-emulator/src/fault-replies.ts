/**
 * The answers faults give in place of, or on top of, the endpoint's own: malformed bodies of each
 * format, a huge body streamed at the client's pace, and a real answer's body dribbled out slowly.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { MalformedFormat } from "./faults.ts";
import type { Reply } from "./request.ts";

/** A 200 that a provider must not take for an answer. Only `jsonWithSecret` calls `issueSecret`. */
export function malformedReply(format: MalformedFormat, issueSecret: (prefix: string) => string): Reply {
  switch (format) {
    case "json":
      // Parses as nothing.
      return { status: 200, headers: { "content-type": "application/json" }, body: '{"emulator": malformed' };
    case "xml":
      // STS's answer, cut inside the credentials: before any secret value.
      return {
        status: 200,
        headers: { "content-type": "text/xml" },
        body:
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
          "  <AssumeRoleWithWebIdentityResult>\n    <Credentials>\n" +
          "      <AccessKeyId>ASIAEMULATORMALFORMED</AccessKeyId>\n      <SecretAccessKey>",
      };
    case "html":
      // What a captive portal or an interception proxy answers for any URL: a 200 of HTML.
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body:
          "<!DOCTYPE html>\n<html><head><title>Network Login</title></head>\n" +
          '<body><h1>Sign in to continue</h1><form method="post" action="/login">' +
          '<input name="user"><input name="password" type="password"><button>Connect</button>' +
          "</form></body></html>\n",
      };
    case "jsonString":
      // Valid JSON of the wrong shape: a token answer encoded twice.
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          JSON.stringify({ access_token: "cloud-emulator-not-a-token", expires_in: 3600 }),
        ),
      };
    case "jsonWithSecret": {
      // A real-looking token answer missing its closing brace: its secret must not reach a log.
      const secret = issueSecret("malformed-secret-");
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: `{"access_token":"${secret}","token_type":"Bearer","expires_in":3600`,
      };
    }
  }
}

/** The stream a body goes to: a ServerResponse, or a test's Writable. */
export interface BodySink {
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

const _hugeHead = Buffer.from('{"cloud-emulator":"huge","padding":"');
const _hugeTail = Buffer.from('"}\n');
const _chunkBytes = 64 * 1024;
// One filler chunk, written again and again: the body never exists in memory as a whole.
const _filler = Buffer.alloc(_chunkBytes, "x");

export const hugeHeaders = (bytes: number): OutgoingHttpHeaders => ({
  "content-type": "application/json",
  "content-length": String(bytes),
});

/**
 * Writes a `bytes`-long JSON body to `sink`, a chunk at a time and only as fast as it drains;
 * stops when the client goes away or `signal` aborts. `onSent` gets the running total.
 */
export async function streamHuge(
  sink: BodySink,
  bytes: number,
  signal: AbortSignal,
  onSent: (bytes: number) => void = () => {},
): Promise<void> {
  let sent = 0;
  const write = (chunk: Uint8Array) => {
    const more = sink.write(chunk);
    sent += chunk.length;
    onSent(sent);
    return more;
  };
  let more = write(_hugeHead);
  let filler = bytes - _hugeHead.length - _hugeTail.length;
  while (filler > 0) {
    if (!more && !(await _drained(sink, signal))) return;
    if (_gone(sink)) return;
    const chunk = filler >= _chunkBytes ? _filler : _filler.subarray(0, filler);
    filler -= chunk.length;
    more = write(chunk);
  }
  if (!more && !(await _drained(sink, signal))) return;
  if (_gone(sink)) return;
  sent += _hugeTail.length;
  onSent(sent);
  sink.end(_hugeTail);
}

/**
 * Writes `body` in `chunks` pieces spread evenly over `ms`, the last at `ms`, then ends; stops
 * when the client goes away or `signal` aborts. `onSent` gets the running total. Default pieces: a byte each, at most 64, at most
 * one per ms (finer than the timer's resolution would only stretch the total).
 */
export async function dribble(
  sink: BodySink,
  body: Uint8Array,
  ms: number,
  chunks: number | undefined,
  signal: AbortSignal,
  onSent: (bytes: number) => void = () => {},
): Promise<void> {
  const pieces = Math.max(1, Math.min(chunks ?? Math.min(64, Math.floor(ms)), body.length || 1));
  const closed = new AbortController();
  const onClose = () => closed.abort();
  sink.once("close", onClose);
  const stop = AbortSignal.any([signal, closed.signal]);
  try {
    for (let i = 0; i < pieces; i++) {
      await sleep(ms / pieces, undefined, { signal: stop });
      if (_gone(sink)) return;
      const piece = body.subarray(
        Math.floor((i * body.length) / pieces),
        Math.floor(((i + 1) * body.length) / pieces),
      );
      if (i === pieces - 1) sink.end(piece);
      else sink.write(piece);
      onSent(Math.floor(((i + 1) * body.length) / pieces));
    }
  } catch {
    // Aborted: the client left or the emulator is closing; the socket goes with it.
  } finally {
    sink.off("close", onClose);
  }
}

function _gone(sink: BodySink): boolean {
  return sink.destroyed || sink.writableEnded;
}

/** Resolves true once `sink` drains, false if it closes or `signal` aborts first. */
function _drained(sink: BodySink, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || _gone(sink)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (drained: boolean) => () => {
      sink.off("drain", onDrain);
      sink.off("close", onClose);
      signal.removeEventListener("abort", onClose);
      resolve(drained);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    sink.once("drain", onDrain);
    sink.once("close", onClose);
    signal.addEventListener("abort", onClose, { once: true });
  });
}
