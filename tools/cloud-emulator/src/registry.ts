/**
 * A minimal OCI distribution endpoint: `/v2/` with the registry's challenge and, for the bearer
 * scheme, the token endpoint. It accepts exactly the credentials an emulated cloud issued for that
 * registry host and nothing else, so a test proves that what a provider returns would pull.
 */
import type { EmulatorRequest, Reply } from "./request.ts";
import { json } from "./request.ts";
import type { RouteContext, Router } from "./router.ts";
import { _hostMatches } from "./router.ts";

export type RegistryScheme = "bearer" | "basic";

export interface RegistryOptions {
  scheme: RegistryScheme;
  /**
   * Bearer only: where the challenge's realm points; default `/oauth2/token` (ACR's). `/v2/token`
   * (Google's) is served ahead of the `/v2/` routes; no other path under `/v2/` may be.
   */
  tokenPath?: string;
  /**
   * Narrower ids for this registry's routes (see RouteSpec.alias), for a cloud whose registry a
   * test must fault apart from the others': ACR's are `acr.challenge` and `acr.token`.
   */
  aliases?: { v2?: string; token?: string };
}

export interface AcceptOptions {
  /** After this the credentials are refused; default never. */
  expiresAt?: Date;
}

export interface EmulatedRegistry {
  /**
   * Serve `/v2/` (and, for bearer, the token endpoint) on `hostPattern`: exact, `*.suffix` or a
   * RegExp, as a route's host.
   */
  serve(hostPattern: string | RegExp, options: RegistryOptions): void;
  /**
   * Credentials a cloud endpoint issued for registry `host`; refused at every other host. `host`
   * may also be a pattern (`*.gcr.io`, or a RegExp without /g or /y), for credentials good at
   * every name it matches.
   */
  accept(host: string | RegExp, username: string, password: string, options?: AcceptOptions): void;
}

// Registry tokens are short-lived in every cloud; an hour is enough for any test or demo.
const _tokenValidityMs = 3600_000;
const _apiVersion = { "docker-distribution-api-version": "registry/2.0" };

export class Registry implements EmulatedRegistry {
  readonly #router: Router;
  /** host -> "username\0password" -> expiry (ms since epoch, Infinity for never). */
  readonly #credentials = new Map<string, Map<string, number>>();
  /** Credentials good at every name a pattern matches: pattern -> as #credentials' values. */
  readonly #patternCredentials = new Map<string | RegExp, Map<string, number>>();
  /** token -> the host it was issued for, and its expiry. */
  readonly #tokens = new Map<string, { host: string; expires: number }>();

  constructor(router: Router) {
    this.#router = router;
  }

  serve(hostPattern: string | RegExp, options: RegistryOptions): void {
    const { scheme, tokenPath = "/oauth2/token", aliases = {} } = options;
    if (scheme !== "bearer" && scheme !== "basic")
      throw new Error(`unknown registry scheme ${String(scheme)}`);
    if (!tokenPath.startsWith("/") || (tokenPath.startsWith("/v2/") && tokenPath !== "/v2/token"))
      throw new Error(
        `registry token path ${JSON.stringify(tokenPath)} must start with / and not be under /v2/ (but /v2/token)`,
      );
    // The first matching route wins: a token endpoint under /v2/ goes before the /v2/* route.
    if (scheme === "bearer" && tokenPath.startsWith("/v2/"))
      this.#addToken(hostPattern, tokenPath, aliases.token);
    this.#router.add(
      { id: "registry.v2", alias: aliases.v2, host: hostPattern, method: ["GET", "HEAD"], path: "/v2/*" },
      (req) => this.#v2(req, scheme, tokenPath),
    );
    if (scheme === "bearer" && !tokenPath.startsWith("/v2/"))
      this.#addToken(hostPattern, tokenPath, aliases.token);
  }

  #addToken(hostPattern: string | RegExp, tokenPath: string, alias: string | undefined): void {
    this.#router.add(
      { id: "registry.token", alias, host: hostPattern, method: "GET", path: tokenPath },
      (req, ctx) => this.#token(req, ctx),
    );
  }

  accept(host: string | RegExp, username: string, password: string, options: AcceptOptions = {}): void {
    const expires = options.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    const credential = `${username}\0${password}`;
    if (typeof host === "string" && !host.startsWith("*.")) {
      const key = host.toLowerCase();
      const forHost = this.#credentials.get(key) ?? new Map<string, number>();
      forHost.set(credential, expires);
      this.#credentials.set(key, forHost);
      return;
    }
    const key = typeof host === "string" ? host.toLowerCase() : host;
    const forPattern = this.#patternCredentials.get(key) ?? new Map<string, number>();
    forPattern.set(credential, expires);
    this.#patternCredentials.set(key, forPattern);
  }

  #valid(host: string, username: string, password: string): boolean {
    const credential = `${username}\0${password}`;
    const now = Date.now();
    const expires = this.#credentials.get(host)?.get(credential);
    if (expires !== undefined && expires > now) return true;
    for (const [pattern, forPattern] of this.#patternCredentials) {
      const until = forPattern.get(credential);
      if (until !== undefined && until > now && _hostMatches(pattern, host)) return true;
    }
    return false;
  }

  #v2(req: EmulatorRequest, scheme: RegistryScheme, tokenPath: string): Reply {
    let authorized = false;
    if (scheme === "bearer") {
      const token = req.bearer();
      const issued = token === undefined ? undefined : this.#tokens.get(token);
      authorized = issued !== undefined && issued.host === req.host && issued.expires > Date.now();
    } else {
      const basic = req.basic();
      authorized = basic !== undefined && this.#valid(req.host, basic.username, basic.password);
    }
    if (!authorized) {
      const challenge =
        scheme === "bearer"
          ? `Bearer realm="https://${req.authority}${tokenPath}",service="${req.host}"`
          : `Basic realm="${req.host}"`;
      return _registryError(401, "UNAUTHORIZED", "authentication required", {
        "www-authenticate": challenge,
      });
    }
    if (req.path === "/v2/") return json(200, {}, _apiVersion);
    // Only the ping is emulated; anything deeper is a name this registry does not hold.
    return _registryError(404, "NAME_UNKNOWN", "repository name not known to registry");
  }

  #token(req: EmulatorRequest, ctx: RouteContext): Reply {
    const service = req.query.get("service");
    if (service !== null && service !== req.host) {
      return _registryError(400, "UNSUPPORTED", `service ${service} is not ${req.host}`);
    }
    const basic = req.basic();
    if (!basic || !this.#valid(req.host, basic.username, basic.password)) {
      return _registryError(401, "UNAUTHORIZED", "invalid username or password", {
        "www-authenticate": `Basic realm="${req.host}"`,
      });
    }
    const token = ctx.issueSecret("registry-token-");
    // An expired fault hands out a token /v2/ already refuses, as a stale cache would hold.
    const expires = ctx.expired ? Date.now() - 60_000 : Date.now() + _tokenValidityMs;
    this.#tokens.set(token, { host: req.host, expires });
    return json(200, { token, access_token: token });
  }
}

function _registryError(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return json(status, { errors: [{ code, message, detail: null }] }, { ..._apiVersion, ...headers });
}
