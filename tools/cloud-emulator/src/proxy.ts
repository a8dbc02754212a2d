/**
 * The CONNECT proxy a node behind a corporate proxy talks to: every tunnel, whatever host:port it
 * names, lands on the TLS listener, which picks the certificate by SNI; so "real" hostnames reach
 * the emulator with no DNS at all. Absolute-form plain-http requests go to the HTTP routing.
 */
import type { Server as HttpServer } from "node:http";
import { createServer } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import type { Dispatch } from "./dispatch.ts";
import type { SocketBook } from "./listeners.ts";
import { listen } from "./listeners.ts";

export interface Proxy {
  server: HttpServer;
  port: number;
  /** The host:port of every CONNECT, in order. */
  tunnels: string[];
}

const _authority = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;

export async function startProxy(options: {
  /** The TLS listener, which takes the tunnelled sockets as its own connections. */
  tls: NetServer;
  dispatch: Dispatch;
  sockets: SocketBook;
  port?: number;
}): Promise<Proxy> {
  const { tls, dispatch, sockets } = options;
  const tunnels: string[] = [];
  const server = createServer((req, res) => {
    if (!/^http:\/\//i.test(req.url ?? "")) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("cloud emulator proxy: send CONNECT host:port, or an absolute http:// URL\n");
      return;
    }
    dispatch(req, res, "http");
  });
  sockets.watch(server, "proxy");
  server.on("connect", (req, socket: Socket, head: Buffer) => {
    // The HTTP server dropped its error listener when it handed the socket over: a client that
    // resets its tunnel must not take the emulator down.
    socket.on("error", () => socket.destroy());
    const authority = req.url ?? "";
    sockets.connectAsked(socket, authority);
    if (!_authority.test(authority)) {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    tunnels.push(authority);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    // Handing the socket itself to the TLS server, rather than dialling it, keeps one socket per
    // tunnel: a reset fault reaches the client, and close() has one thing to destroy.
    if (head.length > 0) socket.unshift(head);
    sockets.tunnel(socket);
    tls.emit("connection", socket);
  });
  const port = await listen(server, options.port ?? 0);
  return { server, port, tunnels };
}
