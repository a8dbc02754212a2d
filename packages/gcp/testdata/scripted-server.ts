/**
 * A plain-HTTP server on 127.0.0.1 for tests that run core's real HTTP client (and the harness)
 * against the provider's modules: each request is answered by the script's step for that call
 * (the last step repeats), so a test can say "429, then a token" or "a token missing its brace".
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";

export type Step = (req: IncomingMessage, res: ServerResponse) => void;

export interface ScriptedServer {
  /** `127.0.0.1:PORT`, as GCE_METADATA_HOST takes it. */
  host: string;
  /** Every request, in order. */
  calls: Array<{ method: string; path: string; headers: IncomingMessage["headers"] }>;
  close(): Promise<void>;
}

const FLAVOR = { "metadata-flavor": "Google" };

/** A metadata-server answer: `Metadata-Flavor: Google` and `body` (JSON unless a string). */
export function reply(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...FLAVOR, ...headers });
    res.end(text);
  };
}

/** Drops the connection without an answer. */
export const reset: Step = (req) => req.socket.destroy();

/** Announces more body than it sends, then closes. */
export const truncated: Step = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": "200", ...FLAVOR });
  res.write('{"access_token":"ya29.truncated');
  res.socket?.end();
};

/** A 200 of `bytes` bytes of JSON-looking text. */
export function huge(bytes: number): Step {
  return (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": String(bytes), ...FLAVOR });
    const chunk = Buffer.alloc(64 * 1024, "x");
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once("drain", write);
      }
      res.end();
    };
    res.on("error", () => {});
    write();
  };
}

export async function startScriptedServer(steps: readonly Step[]): Promise<ScriptedServer> {
  const calls: ScriptedServer["calls"] = [];
  const server: Server = createServer((req, res) => {
    calls.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const step = steps[Math.min(calls.length, steps.length) - 1] as Step;
    step(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    host: `127.0.0.1:${address.port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
