/**
 * The TLS and plain HTTP listeners, on 127.0.0.1 only, and the books of every socket they and
 * the proxy hold: close() must end tunnels and hung requests too, which no server tracks for us.
 */
import type { Server as HttpServer } from "node:http";
import { createServer as createHttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Server, Socket } from "node:net";
import type { EmulatorCa } from "./ca.ts";
import type { Dispatch } from "./dispatch.ts";

export const loopback = "127.0.0.1";

export class SocketBook {
  readonly #sockets = new Set<Socket>();

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  /** Tracks every connection `server` accepts or is handed. */
  watch(server: Server): void {
    server.on("connection", (socket: Socket) => this.track(socket));
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}

export interface Listeners {
  https: HttpsServer;
  http: HttpServer;
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export async function startListeners(options: {
  ca: EmulatorCa;
  dispatch: Dispatch;
  sockets: SocketBook;
  httpsPort?: number;
  httpPort?: number;
}): Promise<Listeners> {
  const { ca, dispatch, sockets } = options;
  // For clients that send no SNI (an IP address in the URL): localhost and 127.0.0.1.
  const fallback = await ca.issue(["localhost", loopback]);
  const https = createHttpsServer({
    ...fallback,
    SNICallback: (servername, callback) => {
      ca.contextFor(servername).then(
        (context) => callback(null, context),
        (error: Error) => callback(error),
      );
    },
  });
  https.on("request", (req, res) => dispatch(req, res, "https"));
  const http = createHttpServer((req, res) => dispatch(req, res, "http"));
  for (const server of [https, http]) {
    sockets.watch(server);
    // The TLS socket wraps the tracked TCP one; book it too so close() needs no Node internals.
    server.on("secureConnection", (socket: Socket) => sockets.track(socket));
  }
  const servers = [https, http];
  try {
    const httpsPort = await listen(https, options.httpsPort ?? 0);
    const httpPort = await listen(http, options.httpPort ?? 0);
    return { https, http, httpsPort, httpPort, close: () => closeServers(servers, sockets) };
  } catch (error) {
    await closeServers(servers, sockets);
    throw error;
  }
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, loopback, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function closeServers(servers: readonly Server[], sockets: SocketBook): Promise<void> {
  const closed = servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  );
  for (const server of servers) (server as HttpServer).closeAllConnections?.();
  sockets.destroyAll();
  await Promise.all(closed);
}
