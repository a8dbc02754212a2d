/**
 * The token source factory with google-auth-library, loaded on first use (the kubelet execs the
 * provider on every cache miss, and loading the library costs more than answering from its cache).
 *
 * Every request the library makes goes through core's HTTP client (`context.http`), as the
 * `fetchImplementation` of its gaxios transport: the client library's own transport reads
 * HTTPS_PROXY/HTTP_PROXY from `process.env` for every scheme, matches NO_PROXY by exact host or
 * suffix only (no CIDR, no port, no bare-domain subdomains), and proxies loopback (so a
 * GCE_METADATA_HOST of 127.0.0.1 would go to the proxy). Through core's client every call follows
 * Go's proxy rules like the rest of this provider, honours the run's deadline, has a timeout per
 * attempt, retries throttling, 5xx and dropped connections with backoff (the library's own retries
 * are off), and never follows a redirect. The metadata client (gcp-metadata, used by `Compute`)
 * has no transport option: it uses gaxios's shared instance, whose defaults are set the same way.
 *
 * The library's debug logging (GOOGLE_SDK_NODE_LOGGING) would print token responses to stderr
 * around the redaction of secrets, so it is switched off, and its warnings about credential
 * configurations (which this provider builds itself) are suppressed.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { AuthClient, ComputeOptions } from "google-auth-library";
import type { NodeIdentitySpec, TokenSource, TokenSourceContext, TokenSourceFactory } from "./identity.ts";
import { CLOUD_PLATFORM_SCOPE, JWT_TOKEN_TYPE } from "./sts.ts";

/** The timeout of one attempt at a token request, when the deadline allows it. */
export const GOOGLE_ATTEMPT_TIMEOUT_MS = 10_000;

type AuthLibrary = typeof import("google-auth-library");
type GaxiosOptions = NonNullable<ComputeOptions["transporterOptions"]>;
interface Internals {
  suppressAdcWarning?: <T>(fn: () => T) => T;
}

let loading: Promise<{ lib: AuthLibrary; internals: Internals }> | undefined;

/**
 * Imports google-auth-library once, with its debug logging off. The variable is removed on every
 * call, not only the first: a standalone executable imported the library at build time.
 */
export function loadGoogleAuth(): Promise<{ lib: AuthLibrary; internals: Internals }> {
  delete process.env.GOOGLE_SDK_NODE_LOGGING;
  loading ??= (async () => {
    const [lib, internals] = await Promise.all([
      import("google-auth-library"),
      import("google-auth-library/build/src/util.js").then(
        (module) => module as unknown as Internals,
        () => ({}) as Internals,
      ),
    ]);
    return { lib, internals };
  })();
  return loading;
}

/**
 * A `fetch` for gaxios that sends the request with core's HTTP client.
 */
export function fetchThroughCore(context: Pick<TokenSourceContext, "http" | "deadline">): typeof fetch {
  return async (input, init) => {
    const url =
      input instanceof URL ? input : new URL(typeof input === "string" ? input : (input as Request).url);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const raw: unknown = init?.body;
    let body: string | Uint8Array | undefined;
    if (raw === undefined || raw === null) body = undefined;
    else if (typeof raw === "string") body = raw;
    else if (raw instanceof URLSearchParams) {
      body = raw.toString();
      headers["content-type"] ??= "application/x-www-form-urlencoded";
    } else if (raw instanceof Uint8Array) body = raw;
    else if (raw instanceof ArrayBuffer) body = new Uint8Array(raw);
    else throw new TypeError(`cannot send a request body of type ${Object.prototype.toString.call(raw)}`);
    const requested = (init as { timeout?: unknown } | undefined)?.timeout;
    const remaining = Math.max(1, context.deadline - Date.now());
    const timeoutMs = Math.min(
      typeof requested === "number" && requested > 0 ? requested : GOOGLE_ATTEMPT_TIMEOUT_MS,
      remaining,
    );
    const response = await context.http.request(url, {
      method: init?.method ?? "GET",
      headers,
      ...(body !== undefined && { body }),
      timeoutMs,
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) responseHeaders.append(key, item);
      else if (value !== undefined) responseHeaders.set(key, String(value));
    }
    const empty = [101, 204, 205, 304].includes(response.status);
    return new Response(empty ? null : (response.body as Uint8Array<ArrayBuffer>), {
      status: response.status,
      headers: responseHeaders,
    });
  };
}

/** The gaxios options every client (and the shared instance) gets. */
export function transporterOptions(context: TokenSourceContext): GaxiosOptions {
  return {
    fetchImplementation: fetchThroughCore(context),
    retry: false,
    retryConfig: { retry: 0, noResponseRetries: 0 },
  };
}

/** Builds the google-auth-library client for an identity. */
export const createGoogleTokenSource: TokenSourceFactory = async (spec, context): Promise<TokenSource> => {
  const { lib, internals } = await loadGoogleAuth();
  const quietly = <T>(build: () => T): T => (internals.suppressAdcWarning ?? ((fn) => fn()))(build);
  const options = transporterOptions(context);
  // gcp-metadata (the metadata server for Compute) uses gaxios's shared instance.
  lib.gaxios.instance.defaults = { ...lib.gaxios.instance.defaults, ...options };

  const nodeClient = async (node: NodeIdentitySpec): Promise<AuthClient> => {
    if (node.kind === "metadata") return new lib.Compute({ transporterOptions: options });
    const json = await readCredentialsFile(node.file, context);
    const auth = new lib.GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    return quietly(() =>
      auth.fromJSON(json as Parameters<typeof auth.fromJSON>[0], { transporterOptions: options }),
    );
  };

  let client: AuthClient;
  switch (spec.kind) {
    case "metadata":
    case "applicationDefault":
      client = await nodeClient(spec);
      break;
    case "impersonated": {
      const sourceClient = await nodeClient(spec.source);
      client = quietly(
        () =>
          new lib.Impersonated({
            sourceClient,
            targetPrincipal: spec.targetPrincipal,
            targetScopes: [CLOUD_PLATFORM_SCOPE],
            lifetime: 3600,
            transporterOptions: options,
          }),
      );
      break;
    }
    case "workloadIdentityPool": {
      context.secrets.add(spec.subjectToken);
      const subjectToken = spec.subjectToken;
      client = quietly(
        () =>
          new lib.IdentityPoolClient({
            audience: spec.audience,
            subject_token_type: JWT_TOKEN_TYPE,
            subject_token_supplier: { getSubjectToken: async () => subjectToken },
            scopes: [CLOUD_PLATFORM_SCOPE],
            ...(spec.serviceAccount && {
              service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${encodeURIComponent(spec.serviceAccount)}:generateAccessToken`,
            }),
            transporterOptions: options,
          }),
      );
      // The client's STS exchange has a transport of its own, made without the client's options.
      const sts = (client as unknown as { stsCredential?: { transporter?: unknown } }).stsCredential;
      if (!sts || !("transporter" in sts)) {
        throw new CredentialProviderError(
          "INTERNAL",
          "google-auth-library's IdentityPoolClient has no STS transport to configure: its STS call would bypass the proxy settings",
        );
      }
      sts.transporter = new lib.gaxios.Gaxios(options);
      break;
    }
  }

  return {
    async getAccessToken() {
      const { token } = await client.getAccessToken();
      if (typeof token === "string") context.secrets.add(token);
      if (!token) throw new Error("no access token was returned");
      const expiry = client.credentials?.expiry_date;
      return {
        token,
        ...(typeof expiry === "number" && expiry > 1 ? { expiresAt: new Date(expiry) } : {}),
      };
    },
  };
};

/**
 * Reads an Application Default Credentials file and registers its secrets (private key, client
 * secret, refresh token).
 */
export async function readCredentialsFile(
  file: string,
  context: Pick<TokenSourceContext, "secrets">,
  readFile: (path: string) => Promise<string> = (path) =>
    process.getBuiltinModule("node:fs/promises").readFile(path, "utf8"),
): Promise<Record<string, unknown>> {
  const fail = (reason: string) =>
    new CredentialProviderError("CONFIG_INVALID", `GOOGLE_APPLICATION_CREDENTIALS ${file}: ${reason}`);
  let text: string;
  try {
    text = await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw fail(
      code === "ENOENT" ? "no such file" : `cannot be read (${typeof code === "string" ? code : "error"})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail("is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw fail("is not a JSON object");
  const fields = json as Record<string, unknown>;
  for (const key of ["private_key", "client_secret", "refresh_token"]) {
    const value = fields[key];
    if (typeof value === "string") context.secrets.add(value);
  }
  if (typeof fields.type !== "string")
    throw fail("has no type (service_account, authorized_user, external_account, ...)");
  return fields;
}
