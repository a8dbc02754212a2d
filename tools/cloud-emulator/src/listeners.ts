/**
 * The TLS and plain HTTP listeners, on 127.0.0.1 only, and the books of every socket they and
 * the proxy hold: close() must end tunnels and hung requests too, which no server tracks for us.
 * The books also log every connection accepted, so a test can show a provider made none.
 */
import type { Server as HttpServer } from "node:http";
import { createServer as createHttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Server, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import type { EmulatorCa } from "./ca.ts";
import type { Dispatch } from "./dispatch.ts";

export const loopback = "127.0.0.1";

export type ConnectionListener = "https" | "http" | "proxy";

/** One TCP connection a listener accepted. */
export interface RecordedConnection {
  listener: ConnectionListener;
  /** What the client asked the proxy to CONNECT to (`host:port`, as sent), if it did. */
  target?: string;
  at: Date;
}

export class SocketBook {
  readonly #sockets = new Set<Socket>();
  readonly #connections: RecordedConnection[] = [];
  readonly #bySocket = new WeakMap<Socket, RecordedConnection>();
  // The proxy hands each tunnel's socket to the TLS listener: one connection, logged as the proxy's.
  readonly #tunnels = new WeakSet<Socket>();

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  /** Tracks every connection `server` accepts or is handed; logs those it accepts as `listener`'s. */
  watch(server: Server, listener: ConnectionListener): void {
    server.on("connection", (socket: Socket) => {
      this.track(socket);
      if (this.#tunnels.has(socket) || this.#bySocket.has(socket)) return;
      const connection: RecordedConnection = { listener, at: new Date() };
      this.#connections.push(connection);
      this.#bySocket.set(socket, connection);
    });
  }

  /** The proxy was asked to CONNECT `socket` to `target`, whether it then did or not. */
  connectAsked(socket: Socket, target: string): void {
    const connection = this.#bySocket.get(socket);
    if (connection) connection.target = target;
  }

  /** `socket` becomes a tunnel, handed to the TLS listener: not a connection of its own. */
  tunnel(socket: Socket): void {
    this.#tunnels.add(socket);
  }

  /** In the order accepted; copies. */
  connections(): RecordedConnection[] {
    return this.#connections.map((connection) => ({ ...connection }));
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
  for (const [server, listener] of [
    [https, "https"],
    [http, "http"],
  ] as const) {
    sockets.watch(server, listener);
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

/**
 * A second address for the TLS listener: `address:443`, whose connections the TLS listener takes
 * as its own (an AKS API server address for identity bindings). Loopback addresses only;
 * `"random"` picks a free one of 127.0.0.0/8, so that emulators side by side each have their own.
 */
export async function startApiServerListener(
  address: string,
  tls: HttpsServer,
  sockets: SocketBook,
): Promise<{ server: Server; address: string }> {
  if (address !== "random" && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) {
    throw new Error(`apiServerAddress must be a 127.x.y.z loopback address or "random", got ${address}`);
  }
  for (let attempt = 1; ; attempt++) {
    const chosen = address === "random" ? _randomLoopback() : address;
    const server = createNetServer((socket) => tls.emit("connection", socket));
    sockets.watch(server, "https");
    try {
      await listen(server, 443, chosen);
      return { server, address: chosen };
    } catch (error) {
      const taken = (error as { code?: unknown }).code === "EADDRINUSE";
      if (address !== "random" || !taken || attempt === 5) throw error;
    }
  }
}

function _randomLoopback(): string {
  const octet = () => Math.floor(Math.random() * 256);
  return `127.${1 + Math.floor(Math.random() * 254)}.${octet()}.1`;
}

export function listen(server: Server, port: number, address = loopback): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
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
