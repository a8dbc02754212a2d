/**
 * An https.Agent that honours HTTPS_PROXY/NO_PROXY by tunnelling through the proxy with CONNECT,
 * for core's HTTP client (http.ts), which every provider's calls, its SDKs' included, go through.
 */
import type { AgentOptions } from "node:https";
import type { Duplex } from "node:stream";
import type tls from "node:tls";
import { proxyForUrl } from "./proxy.ts";

// Not `import ... from "node:http"`: Node's ESM facade for node:http reads every export, which
// loads undici and http2 (~60 ms, see docs/performance.md). getBuiltinModule skips the facade.
const http = process.getBuiltinModule("node:http");
const https = process.getBuiltinModule("node:https");
const { connect: tlsConnect } = process.getBuiltinModule("node:tls");
const { isIP } = process.getBuiltinModule("node:net");

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A tunnel that could not be opened, typed for the retry policy: `code` is the socket's error
 * code (`ECONNREFUSED`), `ETIMEDOUT` when the proxy did not answer, or `EPROXYSTATUS` with the
 * proxy's `status` when it refused the CONNECT.
 */
export class ProxyTunnelError extends Error {
  override readonly name = "ProxyTunnelError";
  readonly code: string;
  readonly proxy: string;
  readonly status: number | undefined;

  constructor(proxy: string, code: string, message: string, status?: number) {
    super(`proxy ${proxy} ${message}`);
    this.proxy = proxy;
    this.code = code;
    this.status = status;
  }
}

export interface EnvProxyAgentOptions extends AgentOptions {
  env?: Env;
  /** How long the proxy may take to answer CONNECT. */
  connectTimeoutMs?: number;
}

export class EnvProxyAgent extends https.Agent {
  readonly #env: Env;
  readonly #connectTimeoutMs: number;

  constructor(options: EnvProxyAgentOptions = {}) {
    const { env = process.env, connectTimeoutMs = 10_000, ...agentOptions } = options;
    super(agentOptions);
    this.#env = env;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number | string },
    callback: (error: Error | null, socket?: Duplex) => void,
  ): Duplex | undefined {
    const host = options.host ?? "localhost";
    const port = Number(options.port ?? 443);
    const target = new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`);
    let proxy: URL | undefined;
    try {
      proxy = proxyForUrl(target, this.#env);
    } catch (error) {
      callback(error as Error);
      return undefined;
    }
    if (!proxy) return tlsConnect(options);
    const authority = `${target.hostname}:${port}`;
    const headers: Record<string, string> = { host: authority };
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    const request = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: proxy.port || 80,
      method: "CONNECT",
      path: authority,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy(
        new ProxyTunnelError(
          proxy.host,
          "ETIMEDOUT",
          `did not answer CONNECT within ${this.#connectTimeoutMs} ms`,
        ),
      );
    }, this.#connectTimeoutMs);
    request.once("connect", (response, socket) => {
      clearTimeout(timer);
      if (response.statusCode !== 200) {
        socket.destroy();
        callback(
          new ProxyTunnelError(
            proxy.host,
            "EPROXYSTATUS",
            `refused CONNECT to ${authority} (HTTP ${response.statusCode})`,
            response.statusCode,
          ),
        );
        return;
      }
      callback(
        null,
        tlsConnect({
          ...options,
          socket,
          servername: options.servername || (isIP(target.hostname) ? undefined : target.hostname),
        }),
      );
    });
    request.once("error", (error: Error & { code?: string }) => {
      clearTimeout(timer);
      if (error instanceof ProxyTunnelError) callback(error);
      else callback(new ProxyTunnelError(proxy.host, error.code ?? "ECONNRESET", `failed: ${error.message}`));
    });
    request.end();
    return undefined;
  }
}
