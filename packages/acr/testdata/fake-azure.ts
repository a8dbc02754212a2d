/**
 * A loopback stand-in for Entra's token endpoint and the managed identity endpoint (IMDS), for unit
 * tests that run the real @azure/identity over core's real HTTP client. Each endpoint answers from
 * a script of faults, then with a token. `loopbackTo` points a core client at it: requests keep
 * their path and their endpoint name, only the origin changes, so nothing leaves 127.0.0.1.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpClient } from "@kubelet-credential-provider/core";

export type FakeAnswer =
  | "ok"
  | "hang"
  | "slowBody"
  | "reset"
  | "html"
  | { status: number; body?: string; headers?: Record<string, string> }
  | { huge: number }
  | { expiresIn: number };

export type FakeEndpoint = "entra" | "imds";

export interface FakeAzure {
  port: number;
  /** Answers for the next calls of an endpoint, in order; then "ok" (or `always`). */
  script(endpoint: FakeEndpoint, ...answers: FakeAnswer[]): void;
  /** The answer for every call of an endpoint once its script is used up. */
  always(endpoint: FakeEndpoint, answer: FakeAnswer): void;
  calls(endpoint: FakeEndpoint): number;
  /** The tokens it issued, to check none was printed. */
  issued: string[];
  close(): Promise<void>;
}

export async function startFakeAzure(): Promise<FakeAzure> {
  const scripts: Record<FakeEndpoint, FakeAnswer[]> = { entra: [], imds: [] };
  const fallback: Record<FakeEndpoint, FakeAnswer> = { entra: "ok", imds: "ok" };
  const counts: Record<FakeEndpoint, number> = { entra: 0, imds: 0 };
  const issued: string[] = [];
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const endpoint: FakeEndpoint | undefined = path.startsWith("/metadata/identity/oauth2/token")
      ? "imds"
      : /\/oauth2\/(v2\.0\/)?token$/.test(path)
        ? "entra"
        : undefined;
    request.resume();
    if (!endpoint) {
      response.writeHead(404).end();
      return;
    }
    counts[endpoint]++;
    const answer = scripts[endpoint].shift() ?? fallback[endpoint];
    const token = (expiresIn = 3599) => {
      const value = `fake-${endpoint}-token-${issued.length}-${Math.random().toString(36).slice(2)}`;
      issued.push(value);
      const seconds = Math.floor(Date.now() / 1000);
      return JSON.stringify(
        endpoint === "imds"
          ? {
              access_token: value,
              expires_in: String(expiresIn),
              expires_on: String(seconds + expiresIn),
              resource: "https://containerregistry.azure.net",
              token_type: "Bearer",
            }
          : { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: value },
      );
    };
    const json = { "content-type": "application/json" };
    if (answer === "ok") response.writeHead(200, json).end(token());
    else if (answer === "hang") return;
    else if (answer === "slowBody") {
      const body = token();
      response.writeHead(200, { ...json, "content-length": String(body.length) });
      response.write(body.slice(0, 10));
    } else if (answer === "reset") request.socket.destroy();
    else if (answer === "html") {
      response
        .writeHead(200, { "content-type": "text/html" })
        .end("<html><body>Sign in to continue</body></html>");
    } else if ("huge" in answer) {
      response.writeHead(200, json);
      response.end(`{"access_token":"${"x".repeat(answer.huge)}"}`);
    } else if ("expiresIn" in answer) response.writeHead(200, json).end(token(answer.expiresIn));
    else response.writeHead(answer.status, { ...json, ...answer.headers }).end(answer.body ?? "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    script: (endpoint, ...answers) => scripts[endpoint].push(...answers),
    always: (endpoint, answer) => {
      fallback[endpoint] = answer;
    },
    calls: (endpoint) => counts[endpoint],
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `client`, with every request sent to the fake's origin instead (path, query and options kept). */
export function loopbackTo(port: number, client: HttpClient): HttpClient {
  return {
    request: (url, options) => {
      const original = new URL(String(url));
      return client.request(
        new URL(`${original.pathname}${original.search}`, `http://127.0.0.1:${port}`),
        options,
      );
    },
  };
}
