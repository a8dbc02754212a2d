/**
 * A CONNECT proxy for tests, as a corporate proxy sits in front of a node: every tunnel goes to
 * one local port whatever host was asked, and the hosts asked for are recorded.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { connect } from "node:net";

export interface TestProxy {
  url: string;
  tunnels: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(targetPort: number): Promise<TestProxy> {
  const tunnels: string[] = [];
  // Tunnelled sockets leave the HTTP server's books, so close() must end them itself.
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on("connect", (req, client, head) => {
    tunnels.push(req.url ?? "");
    sockets.add(client as Socket);
    const upstream = connect(targetPort, "127.0.0.1", () => {
      sockets.add(upstream);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
