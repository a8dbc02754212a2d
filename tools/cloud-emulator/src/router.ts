/**
 * Virtual hosts: endpoints are registered by id, host, method and path, and a request finds its
 * endpoint by the name the client asked for (SNI and Host), as the real cloud's front door does.
 */
import type { ServerResponse } from "node:http";
import type { EmulatorRequest, Reply, Scheme } from "./request.ts";

export interface RouteSpec {
  /** Names the endpoint for call counts and faults; several routes may share one id. */
  id: string;
  /**
   * A narrower id for this route among those sharing `id` (`acr.challenge` for ACR's
   * `registry.v2`): `calls()`, `requests()`, `fault()`, `rateLimit()` and `flaky()` take it too,
   * and what is set for the alias goes before what is set for the id.
   */
  alias?: string;
  /**
   * `auth.registry.example.com`, `*.azurecr.io` for any name below azurecr.io (not itself), or a
   * RegExp tested on the lower-case name without port, for names with a variable label in the
   * middle (`api.ecr.<region>.amazonaws.com`).
   */
  host: string | RegExp | readonly (string | RegExp)[];
  /** `"POST"`, `["GET", "HEAD"]`, or `"*"` for any. */
  method: string | readonly string[];
  /** `"/token"` exactly, `"/v2/*"` for the prefix `/v2/`, or a RegExp tested on the pathname. */
  path: string | RegExp;
  /** Default `"https"`: a provider that sends a token over plain http should fail as it would. */
  scheme?: Scheme;
}

export interface RouteContext {
  id: string;
  /** An `expired` fault applies to this call: issue a credential that has already expired. */
  expired: boolean;
  /** Named groups of a RegExp path; for a `"/prefix/*"` path, `"*"` is the rest of the path. */
  params: Record<string, string>;
  /** Unique, random, recorded in the ledger: use it for every token, password or key handed out. */
  issueSecret(prefix: string): string;
  /** Aborted when the emulator closes, for handlers that wait. */
  signal: AbortSignal;
  /** For a handler that writes its own answer (and then returns undefined). */
  res: ServerResponse;
}

export type RouteHandler = (
  request: EmulatorRequest,
  context: RouteContext,
) => Reply | undefined | Promise<Reply | undefined>;

export interface RouteHandle {
  readonly id: string;
  remove(): void;
}

export interface RouteInfo {
  id: string;
  alias?: string;
  scheme: Scheme;
  methods: string[];
  hosts: string[];
  path: string;
}

export type RouteMatch =
  | {
      found: true;
      id: string;
      alias: string | undefined;
      handler: RouteHandler;
      params: Record<string, string>;
    }
  | { found: false; status: 404 | 405; message: string; allow?: string[] };

interface _Route {
  id: string;
  alias: string | undefined;
  scheme: Scheme;
  hosts: (string | RegExp)[];
  methods: string[];
  path: string | RegExp;
  handler: RouteHandler;
}

const _hostPattern = /^(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$|^\[?[0-9a-f:.]+\]?$/;

export class Router {
  // Registration order decides between overlapping routes: the first match wins.
  readonly #routes: _Route[] = [];

  add(spec: RouteSpec, handler: RouteHandler): RouteHandle {
    const hosts = (
      typeof spec.host === "string" || spec.host instanceof RegExp ? [spec.host] : [...spec.host]
    ).map((h) => (typeof h === "string" ? h.toLowerCase() : _stateless(h)));
    const methods = (typeof spec.method === "string" ? [spec.method] : [...spec.method]).map((m) =>
      m.toUpperCase(),
    );
    if (!spec.id) throw new Error("a route needs an id");
    if (spec.alias !== undefined && (spec.alias === "" || spec.alias === spec.id))
      throw new Error(`route ${spec.id}: an alias must be a non-empty id of its own`);
    if (hosts.length === 0 || methods.length === 0) throw new Error(`route ${spec.id}: no host or method`);
    for (const host of hosts) {
      if (typeof host === "string" && !_hostPattern.test(host))
        throw new Error(`route ${spec.id}: ${JSON.stringify(host)} is not a host`);
    }
    if (typeof spec.path === "string" && !spec.path.startsWith("/")) {
      throw new Error(`route ${spec.id}: path ${JSON.stringify(spec.path)} must start with /`);
    }
    const route: _Route = {
      id: spec.id,
      alias: spec.alias,
      scheme: spec.scheme ?? "https",
      hosts,
      methods,
      path: spec.path,
      handler,
    };
    this.#routes.push(route);
    return {
      id: spec.id,
      remove: () => {
        const index = this.#routes.indexOf(route);
        if (index >= 0) this.#routes.splice(index, 1);
      },
    };
  }

  list(): RouteInfo[] {
    return this.#routes.map((r) => ({
      id: r.id,
      ...(r.alias === undefined ? {} : { alias: r.alias }),
      scheme: r.scheme,
      methods: [...r.methods],
      hosts: r.hosts.map(String),
      path: String(r.path),
    }));
  }

  match(scheme: Scheme, host: string, method: string, path: string): RouteMatch {
    const what = `${method} ${scheme}://${host}${path}`;
    const onHost = this.#routes.filter(
      (r) => r.scheme === scheme && r.hosts.some((h) => _hostMatches(h, host)),
    );
    if (onHost.length === 0) {
      return { found: false, status: 404, message: `cloud emulator: no emulated host ${host} (${what})` };
    }
    const allow = new Set<string>();
    for (const route of onHost) {
      const params = _pathMatches(route.path, path);
      if (!params) continue;
      if (route.methods.includes("*") || route.methods.includes(method)) {
        return { found: true, id: route.id, alias: route.alias, handler: route.handler, params };
      }
      for (const m of route.methods) allow.add(m);
    }
    if (allow.size > 0) {
      return {
        found: false,
        status: 405,
        message: `cloud emulator: ${path} on ${host} does not take ${method}`,
        allow: [...allow],
      };
    }
    return { found: false, status: 404, message: `cloud emulator: no endpoint for ${what}` };
  }
}

export function _hostMatches(pattern: string | RegExp, host: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(host);
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function _pathMatches(pattern: string | RegExp, path: string): Record<string, string> | undefined {
  if (pattern instanceof RegExp) {
    const m = _stateless(pattern).exec(path);
    return m ? { ...m.groups } : undefined;
  }
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return path.startsWith(prefix) ? { "*": path.slice(prefix.length) } : undefined;
  }
  return pattern === path ? {} : undefined;
}

// A copy without /g or /y: those keep lastIndex between calls, so a second test would fail.
function _stateless(pattern: RegExp): RegExp {
  return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
}
