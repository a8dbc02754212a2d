/**
 * AKS identity bindings, the upstream plugin's `--ib-*` flags (cloud-provider-azure v1.35):
 * instead of Entra ID, the cluster's API server issues the Entra token. The provider POSTs the
 * pod's service account token as a client assertion to `https://<--ib-sni-name>/`, dialled at
 * `--ib-apiserver-ip` (the name need not resolve) with the name in SNI and Host, over no proxy,
 * trusting only the cluster's CA ({@link clusterCaFile}), and gets back
 * `{access_token, expires_in}`. The application is the service account's
 * `kubernetes.azure.com/acr-client-id` annotation, else `--ib-default-client-id`.
 */
import type { HttpResponse } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import type { CredentialContext, TokenSource } from "./identity.ts";

/**
 * Where AKS nodes keep the cluster's CA, which signs the API server's certificate: upstream's fixed
 * path on Linux. AKS Windows nodes keep it in `C:\k\ca.crt` (their kubelet's kubeconfig names it
 * there); upstream's path would mean `C:\etc\kubernetes\certs\ca.crt` there, which AKS never writes.
 */
export function clusterCaFile(platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? "C:\\k\\ca.crt" : "/etc/kubernetes/certs/ca.crt";
}

/** The flags, as the command line gives them (unset: undefined or ""). */
export interface IdentityBindingFlags {
  "ib-sni-name"?: string | undefined;
  "ib-default-client-id"?: string | undefined;
  "ib-default-tenant-id"?: string | undefined;
  "ib-apiserver-ip"?: string | undefined;
  "ib-ca-file"?: string | undefined;
}

export interface IdentityBindings {
  /** The API server's name: the TLS server name and Host of the token request. */
  sniName: string;
  /** The address dialled: an IP, or a name resolved when dialling. */
  apiServer: string;
  defaultClientId?: string;
  defaultTenantId?: string;
  caFile: string;
}

/**
 * The identity bindings the flags configure, or undefined when `--ib-sni-name` is not given.
 * The rules are upstream's: the SNI name and the API server address come together, a default
 * client or tenant id needs the SNI name, and the SNI name is a name, not a URL.
 *
 * @throws CredentialProviderError `USAGE`
 */
export function parseIdentityBindings(
  flags: IdentityBindingFlags,
  platform: NodeJS.Platform = process.platform,
): IdentityBindings | undefined {
  const sniName = flags["ib-sni-name"] ?? "";
  const apiServer = flags["ib-apiserver-ip"] ?? "";
  const defaultClientId = flags["ib-default-client-id"] ?? "";
  const defaultTenantId = flags["ib-default-tenant-id"] ?? "";
  const fail = (reason: string) => new CredentialProviderError("USAGE", reason);
  const needs = (flag: string, given: string) => fail(`--${flag} must be set when --${given} is given`);
  if (sniName === "") {
    if (apiServer !== "") throw needs("ib-sni-name", "ib-apiserver-ip");
    if (defaultClientId !== "") throw needs("ib-sni-name", "ib-default-client-id");
    if (defaultTenantId !== "") throw needs("ib-sni-name", "ib-default-tenant-id");
    return undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(sniName)) {
    throw fail(`--ib-sni-name is a host name, without a scheme: got ${JSON.stringify(sniName)}`);
  }
  if (!_isHostName(sniName)) {
    throw fail(`--ib-sni-name must be a DNS name: got ${JSON.stringify(sniName)}`);
  }
  if (apiServer === "") throw needs("ib-apiserver-ip", "ib-sni-name");
  if (!_isIp(apiServer) && !_isHostName(apiServer)) {
    throw fail(`--ib-apiserver-ip must be an IP address or a DNS name: got ${JSON.stringify(apiServer)}`);
  }
  return {
    sniName: sniName.toLowerCase(),
    apiServer,
    ...(defaultClientId && { defaultClientId }),
    ...(defaultTenantId && { defaultTenantId }),
    caFile: flags["ib-ca-file"] || clusterCaFile(platform),
  };
}

/** `AKS identity bindings (NAME at ADDRESS)`: the token endpoint, in logs and errors. */
export function identityBindingsEndpoint(bindings: IdentityBindings): string {
  return `AKS identity bindings (${bindings.sniName} at ${bindings.apiServer})`;
}

/** The Entra token source of identity bindings, through the run's HTTP client. */
export function identityBindingsTokenSource(
  spec: { clientId: string; assertion: string; bindings: IdentityBindings },
  context: Pick<CredentialContext, "http" | "log" | "secrets">,
  io: { readFile: (path: string) => Promise<Uint8Array>; now: () => number },
): TokenSource {
  const { bindings } = spec;
  const endpoint = identityBindingsEndpoint(bindings);
  return {
    async getToken(scope) {
      const ca = await _readCa(bindings.caFile, io.readFile);
      const form = new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        scope,
        client_assertion: spec.assertion,
        client_id: spec.clientId,
      });
      context.log.v(4, `${endpoint}: asking for a token for application ${spec.clientId}, scope ${scope}`);
      const response = await context.http.request(`https://${bindings.sniName}/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
        endpoint,
        connectTo: bindings.apiServer,
        ca,
      });
      if (response.status !== 200) throw _refused(endpoint, response);
      const body = response.json();
      const { access_token: token, expires_in: expiresIn } = (
        typeof body === "object" && body !== null ? body : {}
      ) as { access_token?: unknown; expires_in?: unknown };
      if (typeof token === "string") context.secrets.add(token);
      if (typeof token !== "string" || token === "" || typeof expiresIn !== "number") {
        throw new CloudCallError({
          endpoint,
          fault: "malformed",
          status: 200,
          detail: "answered HTTP 200 without an access_token string and a numeric expires_in",
        });
      }
      return { token, expiresOnTimestamp: io.now() + expiresIn * 1000 };
    },
  };
}

async function _readCa(file: string, readFile: (path: string) => Promise<Uint8Array>): Promise<Uint8Array> {
  const fail = (reason: string) =>
    new CredentialProviderError(
      "CONFIG_INVALID",
      `identity bindings: the cluster CA ${file} ${reason} (--ib-ca-file names another)`,
    );
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw fail(`cannot be read (${typeof code === "string" ? code : "unreadable"})`);
  }
  if (!Buffer.from(bytes).toString("latin1").includes("-----BEGIN CERTIFICATE-----")) {
    throw fail(bytes.length === 0 ? "is empty" : "holds no PEM certificate");
  }
  return bytes;
}

function _refused(endpoint: string, response: HttpResponse): CloudCallError {
  const status = response.status;
  const code = _oauthError(response);
  const what = `answered HTTP ${status}${code ? ` (${code})` : ""}`;
  return new CloudCallError({
    endpoint,
    fault: status >= 300 && status < 400 ? "malformed" : "rejected",
    status,
    ...(code && { cause: code }),
    detail:
      status >= 300 && status < 400
        ? `${what} (redirects are not followed)`
        : status === 401 || status === 403
          ? `${what}: the service account must be bound to the application (identity binding) in the cluster`
          : what,
  });
}

/** The OAuth `error` word (`invalid_client`), never the description or any other part of the body. */
function _oauthError(response: HttpResponse): string | undefined {
  if (response.body.length > 64 * 1024) return undefined;
  try {
    const code = (JSON.parse(response.text()) as { error?: unknown }).error;
    return typeof code === "string" && /^[a-z][a-z_]{0,63}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function _isIp(value: string): boolean {
  const { isIP } = process.getBuiltinModule("node:net");
  return isIP(value) !== 0;
}

function _isHostName(value: string): boolean {
  return (
    value.length <= 253 &&
    value.split(".").every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))
  );
}
