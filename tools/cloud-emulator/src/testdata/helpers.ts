/**
 * Small helpers the tests share: child processes with a clean environment, raw sockets for
 * answers no HTTP client would hand back intact, and polling without fixed sleeps.
 */
import { execFile } from "node:child_process";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import type { Emulator } from "../index.ts";

export const testdata = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** Runs `node script args` with only PATH and `env`; resolves whatever the exit. */
export function runNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 8_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
      },
    );
  });
}

/** Resolves with the connect error's code, or "connected". */
export function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** One request over a raw TLS socket; everything the server sent until it closed. */
export function rawHttps(emulator: Emulator, host: string, request: string): Promise<string> {
  const { port } = new URL(emulator.httpsUrl);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: Number(port),
      servername: host,
      ca: emulator.caPem,
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.write(request);
  });
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const basicAuth = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
