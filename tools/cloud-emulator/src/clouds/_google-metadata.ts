/**
 * The GCE metadata server, on the plain listener: google-auth-library (gcp-metadata) reaches it
 * through GCE_METADATA_HOST (`127.0.0.1:PORT`); under its own names (169.254.169.254,
 * metadata.google.internal) only a client that sends plain http through the proxy would. Every
 * request needs `Metadata-Flavor: Google` and no `X-Forwarded-For` (else 403), and every answer,
 * errors included, carries `Metadata-Flavor: Google`, which gcp-metadata insists on.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json, text } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { GoogleTokens } from "./_google-tokens.ts";
import { scopeList } from "./_google-tokens.ts";

/** The emulator's own address (GCE_METADATA_HOST) and the metadata server's real names. */
export const gceMetadataHosts = ["127.0.0.1", "169.254.169.254", "metadata.google.internal"] as const;

/** One token request to the metadata server, and what came of it. */
export interface GceTokenCall {
  source: "metadata";
  host: string;
  /** The account as named in the path: `default` or an email. */
  account: string;
  /** The service account the token is for, when there is one. */
  email?: string;
  /** `?scopes=` as sent, split. */
  requestedScopes?: string[];
  scopes?: string[];
  outcome: "ok" | "forbidden" | "not_found";
  message?: string;
  accessToken?: string;
  expiresAt?: Date;
}

export interface GceState {
  projectId: string;
  projectNumber: string;
  zone: string;
  /** The node's service account; `undefined`: an instance without one (token: 404). */
  nodeServiceAccount: string | undefined;
  nodeScopes: string[];
  tokenValiditySeconds: number;
  attributes: Map<string, string>;
}

interface _Deps {
  emulator: Pick<Emulator, "route">;
  tokens: GoogleTokens;
  state: GceState;
  calls: GceTokenCall[];
}

const _flavor = { "metadata-flavor": "Google", server: "Metadata Server for VM" };
const _base = "/computeMetadata/v1";

export function installGceMetadata(deps: _Deps): void {
  const { emulator } = deps;
  emulator.route(
    {
      id: "gce.token",
      host: gceMetadataHosts,
      method: "GET",
      path: /^\/computeMetadata\/v1\/instance\/service-accounts\/(?<account>[^/]+)\/token$/,
      scheme: "http",
    },
    (req, ctx) => _guard(req) ?? _token(deps, req, ctx),
  );
  emulator.route(
    {
      id: "gce.attributes",
      host: gceMetadataHosts,
      method: "GET",
      path: /^\/computeMetadata\/v1\/instance\/attributes(?:\/(?<name>[^/]*))?$/,
      scheme: "http",
    },
    (req, ctx) => _guard(req) ?? _attribute(deps.state, req, ctx.params.name ?? ""),
  );
  emulator.route(
    {
      id: "gce.metadata",
      host: gceMetadataHosts,
      method: "GET",
      path: /^\/(?:computeMetadata(?:\/.*)?)?$/,
      scheme: "http",
    },
    (req) => _guard(req) ?? _metadata(deps.state, req),
  );
}

/** Checked first on every path, as the real server does. */
function _guard(req: EmulatorRequest): Reply | undefined {
  if (req.headers["x-forwarded-for"] !== undefined) {
    return text(403, "Forbidden: the metadata server does not answer forwarded requests.\n", _flavor);
  }
  const flavor = req.headers["metadata-flavor"];
  const legacy = req.headers["x-google-metadata-request"];
  if (flavor !== "Google" && String(legacy).toLowerCase() !== "true") {
    return text(
      403,
      `Your client does not have permission to get URL ${req.path} from this server. Missing Metadata-Flavor:Google header.\n`,
      _flavor,
    );
  }
  return undefined;
}

function _notFound(req: EmulatorRequest): Reply {
  return text(404, `The requested URL ${req.path} was not found on this server.\n`, _flavor);
}

const _value = (value: string) => text(200, value, { ..._flavor, "content-type": "application/text" });
const _listing = (entries: string[]) => _value(entries.map((e) => `${e}\n`).join(""));

function _account(state: GceState, name: string): string | undefined {
  const email = state.nodeServiceAccount;
  if (email === undefined) return undefined;
  return name === "default" || name === email ? email : undefined;
}

function _token(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const { state } = deps;
  const account = decodeURIComponent(ctx.params.account ?? "");
  const call: GceTokenCall = { source: "metadata", host: req.host, account, outcome: "not_found" };
  deps.calls.push(call);
  const scopesParam = req.query.get("scopes");
  if (scopesParam !== null) call.requestedScopes = scopeList(scopesParam);
  const email = _account(state, account);
  if (email === undefined) {
    call.message = `no service account ${account} on this instance`;
    return _notFound(req);
  }
  call.email = email;
  const scopes = call.requestedScopes?.length ? call.requestedScopes : [...state.nodeScopes];
  const seconds = ctx.expired ? 0 : state.tokenValiditySeconds;
  const expiresAt = new Date(Date.now() + (ctx.expired ? -60_000 : seconds * 1000));
  const issued = deps.tokens.issue(ctx.issueSecret, {
    source: "metadata",
    principal: email,
    scopes,
    expiresAt,
  });
  Object.assign(call, { scopes, outcome: "ok", accessToken: issued.token, expiresAt });
  return json(200, { access_token: issued.token, expires_in: seconds, token_type: "Bearer" }, _flavor);
}

function _attribute(state: GceState, req: EmulatorRequest, name: string): Reply {
  if (name === "") {
    if (req.query.get("recursive") === "true")
      return json(200, Object.fromEntries(state.attributes), _flavor);
    return _listing([...state.attributes.keys()]);
  }
  const value = state.attributes.get(name);
  return value === undefined ? _notFound(req) : _value(value);
}

function _metadata(state: GceState, req: EmulatorRequest): Reply {
  const path = req.path.replace(/\/+$/, "");
  const email = state.nodeServiceAccount;
  const accounts = email === undefined ? [] : ["default/", `${email}/`];
  const fixed: Record<string, () => Reply> = {
    "": () => _listing(["computeMetadata/"]),
    "/computeMetadata": () => _listing(["v1/"]),
    [_base]: () => _listing(["instance/", "project/"]),
    [`${_base}/instance`]: () =>
      _listing(["attributes/", "hostname", "id", "name", "service-accounts/", "zone"]),
    [`${_base}/instance/hostname`]: () => _value(`gke-node-1.${state.zone}.c.${state.projectId}.internal`),
    [`${_base}/instance/id`]: () => _value("4567890123456789012"),
    [`${_base}/instance/name`]: () => _value("gke-node-1"),
    [`${_base}/instance/zone`]: () => _value(`projects/${state.projectNumber}/zones/${state.zone}`),
    [`${_base}/instance/service-accounts`]: () => _listing(accounts),
    [`${_base}/project`]: () => _listing(["numeric-project-id", "project-id"]),
    [`${_base}/project/project-id`]: () => _value(state.projectId),
    [`${_base}/project/numeric-project-id`]: () => _value(state.projectNumber),
  };
  const answer = fixed[path];
  if (answer) return answer();
  const m = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)(?:\/(aliases|email|scopes))?$/.exec(
    path,
  );
  const account = m ? _account(state, decodeURIComponent(m[1] as string)) : undefined;
  if (!m || account === undefined) return _notFound(req);
  switch (m[2]) {
    case "aliases":
      return _listing(["default"]);
    case "email":
      return _value(account);
    case "scopes":
      return _listing(state.nodeScopes);
    default:
      if (req.query.get("recursive") === "true") {
        return json(200, { aliases: ["default"], email: account, scopes: state.nodeScopes }, _flavor);
      }
      return _listing(["aliases", "email", "identity", "scopes", "token"]);
  }
}
