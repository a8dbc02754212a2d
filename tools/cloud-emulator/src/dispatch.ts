/**
 * From a parsed HTTP request to an endpoint's answer: virtual-host routing, call counting, rate
 * limits and fault injection, the same for the TLS listener, the plain listener and the proxy.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallLog, FaultSource, RecordedCall } from "./calls.ts";
import { endpointHeaders, throttleReply } from "./endpoints.ts";
import { dribble, hugeHeaders, malformedReply, streamHuge } from "./fault-replies.ts";
import type { FaultSpec, Faults } from "./faults.ts";
import { defaultHugeBytes } from "./faults.ts";
import type { Flaky } from "./flaky.ts";
import type { Ledger } from "./ledger.ts";
import type { RateLimits } from "./rate-limits.ts";
import type { EmulatorRequest, Reply, Scheme } from "./request.ts";
import { _parseRequest, HttpError, text } from "./request.ts";
import type { RouteContext, Router } from "./router.ts";

export interface DispatchDeps {
  router: Router;
  faults: Faults;
  limits: RateLimits;
  flaky: Flaky;
  ledger: Ledger;
  calls: CallLog;
  /** Aborted when the emulator closes. */
  signal: AbortSignal;
}

export type Dispatch = (req: IncomingMessage, res: ServerResponse, scheme: Scheme) => void;

const _maxBodyBytes = 1024 * 1024;
// A credential-looking start, so a provider that parses eagerly meets the cut mid-value.
const _truncatedBody = '{"username": "node", "password": "';

export function createDispatch(deps: DispatchDeps): Dispatch {
  return (req, res, scheme) => {
    _dispatch(deps, req, res, scheme).catch((error: unknown) => {
      // Only the emulator's own bugs land here; say so rather than leave the client waiting.
      _send(res, text(500, `cloud emulator: ${(error as Error).message}`));
    });
  };
}

async function _dispatch(deps: DispatchDeps, req: IncomingMessage, res: ServerResponse, scheme: Scheme) {
  const method = (req.method ?? "GET").toUpperCase();
  const rawTarget = req.url ?? "/";
  let authority: string;
  let target: string;
  if (/^https?:\/\//i.test(rawTarget)) {
    // Absolute form, as a client sends through a proxy: the URL names the host, not Host.
    let absolute: URL;
    try {
      absolute = new URL(rawTarget);
    } catch {
      return _send(res, text(400, `cloud emulator: cannot parse ${rawTarget}`));
    }
    if (absolute.protocol !== `${scheme}:`) {
      return _send(res, text(400, `cloud emulator: a ${absolute.protocol} URL sent over ${scheme}`));
    }
    authority = absolute.host;
    target = `${absolute.pathname}${absolute.search}`;
  } else {
    authority = req.headers.host ?? "";
    target = rawTarget;
    if (!authority) return _send(res, text(400, "cloud emulator: the request has no Host header"));
  }

  let probe: EmulatorRequest;
  try {
    probe = _parseRequest(method, scheme, authority, target, req.headers, "");
  } catch {
    return _send(res, text(400, `cloud emulator: cannot parse ${scheme}://${authority}${target}`));
  }

  // The certificate was chosen by SNI; a Host for another name would be served by a certificate
  // that does not cover it, which a real front door refuses too.
  const servername = (req.socket as { servername?: string | false }).servername;
  if (
    scheme === "https" &&
    typeof servername === "string" &&
    servername.replace(/\.$/, "").toLowerCase() !== probe.host
  ) {
    return _send(
      res,
      text(
        421,
        `cloud emulator: TLS name ${servername} does not match Host ${probe.host} (misdirected request)`,
      ),
    );
  }

  const match = deps.router.match(scheme, probe.host, method, probe.path);
  if (!match.found) {
    return _send(
      res,
      text(match.status, match.message, match.allow ? { allow: match.allow.join(", ") } : {}),
    );
  }

  let body: string;
  try {
    body = await _readBody(req);
  } catch (error) {
    if (error instanceof HttpError) _send(res, _errorReply(error, { connection: "close" }));
    return;
  }
  const request = _parseRequest(method, scheme, authority, target, req.headers, body);
  const names = match.alias === undefined ? [match.id] : [match.alias, match.id];
  const applied = _faultFor(deps, names);
  const fault = applied?.spec;
  const call: RecordedCall = {
    id: match.id,
    ...(match.alias === undefined ? {} : { alias: match.alias }),
    method,
    url: request.url.href,
    headers: req.headers,
    body,
    ...(applied ? { fault: applied.spec.kind, faultBy: applied.by } : {}),
  };
  deps.calls.record(call);

  if (fault && _answersInstead(fault)) return _inject(deps, fault, names, call, req, res);
  if (fault?.kind === "latency" || fault?.kind === "slowHeaders") {
    try {
      await sleep(fault.ms, undefined, { signal: deps.signal });
    } catch {
      return; // closing: the socket goes with the emulator
    }
  }

  const context: RouteContext = {
    id: match.id,
    expired: fault?.kind === "expired",
    params: match.params,
    issueSecret: (prefix) => deps.ledger.issueSecret(prefix),
    signal: deps.signal,
    res,
  };
  let reply: Reply | undefined;
  try {
    reply = await match.handler(request, context);
  } catch (error) {
    reply =
      error instanceof HttpError
        ? _errorReply(error)
        : text(500, `cloud emulator: endpoint ${match.id} failed: ${(error as Error).message}`);
  }
  if (reply && fault?.kind === "slowBody" && !res.headersSent && !res.destroyed) {
    const bytes = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
    res.writeHead(reply.status, { ...reply.headers, "content-length": String(bytes.length) });
    // The status line and headers go now; only the body is slow.
    res.flushHeaders();
    call.sent = 0;
    await dribble(res, bytes, fault.ms, fault.chunks, deps.signal, (sent) => {
      call.sent = sent;
    });
    return;
  }
  if (reply) _send(res, reply);
  else if (!res.headersSent) _send(res, text(500, `cloud emulator: endpoint ${match.id} gave no answer`));
}

/** This call's fault, in the order a cloud meets them: its front door's limit, bad luck, the queue. */
function _faultFor(deps: DispatchDeps, names: string[]): { spec: FaultSpec; by: FaultSource } | undefined {
  const limit = deps.limits.take(...names);
  if (limit) {
    return {
      spec: { kind: "throttle", ...(limit.retryAfter === undefined ? {} : { retryAfter: limit.retryAfter }) },
      by: "rateLimit",
    };
  }
  const flake = deps.flaky.take(...names);
  if (flake) return { spec: flake, by: "flaky" };
  const queued = deps.faults.take(...names);
  return queued ? { spec: queued, by: "fault" } : undefined;
}

/** Faults answered without the handler; the others delay it, slow its answer or tell it to expire. */
function _answersInstead(fault: FaultSpec): boolean {
  return !["latency", "slowHeaders", "slowBody", "expired"].includes(fault.kind);
}

function _inject(
  deps: DispatchDeps,
  fault: FaultSpec,
  names: string[],
  call: RecordedCall,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const own = endpointHeaders(names);
  switch (fault.kind) {
    case "reset":
      req.socket.destroy();
      return;
    case "hang":
      // Never answered; close() destroys the socket.
      return;
    case "status": {
      const headers = {
        ...own,
        ...(fault.contentType === undefined ? {} : { "content-type": fault.contentType }),
        ...fault.headers,
        ...(fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) }),
      };
      _send(
        res,
        text(fault.status, fault.body ?? `cloud emulator: ${fault.status} injected for ${call.id}`, headers),
      );
      return;
    }
    case "throttle":
      _send(res, throttleReply(names, fault.retryAfter));
      return;
    case "malformed": {
      const reply = malformedReply(fault.format ?? "json", (prefix) => deps.ledger.issueSecret(prefix));
      _send(res, { ...reply, headers: { ...own, ...reply.headers } });
      return;
    }
    case "truncated":
      res.writeHead(200, {
        ...own,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(_truncatedBody) + 64),
      });
      res.write(_truncatedBody);
      // end() flushes what was written first, so the client sees the short body and then the close.
      res.socket?.end();
      return;
    case "huge": {
      const bytes = fault.bytes ?? defaultHugeBytes;
      res.writeHead(200, { ...own, ...hugeHeaders(bytes) });
      call.sent = 0;
      streamHuge(res, bytes, deps.signal, (sent) => {
        call.sent = sent;
      }).catch(() => res.destroy());
      return;
    }
    default:
      return;
  }
}

function _errorReply(error: HttpError, extra: Record<string, string> = {}): Reply {
  return text(error.status, error.message, { ...error.headers, ...extra });
}

function _send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) {
    // Too late for a clean answer; a half-written one must not pass for complete.
    if (!res.writableEnded) res.destroy();
    return;
  }
  const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
  res.writeHead(reply.status, { ...reply.headers, "content-length": String(body.length) });
  res.end(body);
}

function _readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > _maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once("end", () => {
      if (tooLarge) reject(new HttpError(413, `cloud emulator: request body over ${_maxBodyBytes} bytes`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("the client went away mid-request"));
    });
  });
}
