/**
 * A stand-in for the Example registry's token service (docs/writing-a-provider.md), on loopback:
 * it checks the node's API key and issues a distinct password per call, so a leak can be traced.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface TokenService {
  url: string;
  /** Every password issued, for leak checks. */
  issued: string[];
  calls: () => number;
  close(): Promise<void>;
}

export async function startTokenService(apiKey: string, validitySeconds = 3600): Promise<TokenService> {
  const issued: string[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/token") return void res.writeHead(404).end();
      if (req.headers.authorization !== `Bearer ${apiKey}`) return void res.writeHead(401).end("bad api key");
      let registry: unknown;
      try {
        registry = (JSON.parse(body) as { registry?: unknown }).registry;
      } catch {
        return void res.writeHead(400).end("body is not JSON");
      }
      if (typeof registry !== "string") return void res.writeHead(400).end("registry missing");
      const password = `example-pw-${randomBytes(12).toString("hex")}`;
      issued.push(password);
      const expiresAt = new Date(Date.now() + validitySeconds * 1000).toISOString();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ username: "node", password, expiresAt }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    issued,
    calls: () => calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
