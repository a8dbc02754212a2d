/**
 * A kubeconfig, read as client-go reads one, for the calls `doctor` makes to the API server as the
 * kubelet's identity: the current context's server and CA, and its user's credentials (a client
 * certificate, a token, or an exec plugin's ExecCredential, as on an EKS node). Relative paths
 * are relative to the kubeconfig's directory; absolute ones are under `root` (the node's
 * filesystem root). Anything read that is secret (a token, a private key) is registered with
 * `secrets` before it can reach a message.
 *
 * Not supported, and said so: `auth-provider` (removed from kubectl), basic auth, and
 * `insecure-skip-tls-verify` (doctor does not talk to an API server it cannot authenticate).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { createSecureContext } from "node:tls";
import type { SecretRegistry } from "@kubelet-credential-provider/core";
import { parse as parseYaml } from "yaml";
import { messageOf } from "./text.ts";

/** Where the API server is and how to authenticate to it. */
export interface ApiServerAccess {
  server: URL;
  /** The kubeconfig's CA (PEM); without it, the system's CAs. */
  ca?: string;
  tlsServerName?: string;
  clientCertificate?: { cert: string; key: string };
  token?: string;
  /** The context and user names, for messages. */
  context: string;
  user: string;
}

/** A kubeconfig that cannot be used: one line, nothing secret in it. */
export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

export interface KubeconfigOptions {
  /** The node's filesystem root: absolute paths in the kubeconfig are read under it. */
  root?: string;
  /** The environment an exec plugin inherits. */
  env: Readonly<Record<string, string | undefined>>;
  secrets: SecretRegistry;
  /** For an exec plugin. Default 30 s. */
  timeoutMs?: number;
}

type _Object = Record<string, unknown>;

/** Reads the kubeconfig at `path` (a path on this machine) and its current context's access. */
export async function loadKubeconfig(path: string, options: KubeconfigOptions): Promise<ApiServerAccess> {
  const root = options.root ?? "/";
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new KubeconfigError(`cannot read the kubeconfig ${path} (${_code(error)})`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    // Position only: the parser's message quotes the line, which may hold a token.
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new KubeconfigError(
      `the kubeconfig ${path} is not YAML${line === undefined ? "" : ` (line ${line})`}`,
    );
  }
  if (!_isObject(document)) throw new KubeconfigError(`the kubeconfig ${path} is not a kubeconfig`);
  const base = dirname(path);
  const file = (value: string) => (isAbsolute(value) ? join(root, value) : resolve(base, value));
  const read = (field: string, value: string) => {
    try {
      return readFileSync(file(value), "utf8");
    } catch (error) {
      throw new KubeconfigError(`${path}: cannot read ${field} ${value} (${_code(error)})`);
    }
  };

  const contextName = _string(document["current-context"]);
  if (!contextName) throw new KubeconfigError(`${path} has no current-context`);
  const context = _named(document.contexts, contextName, "context");
  if (!context) throw new KubeconfigError(`${path}: current-context ${contextName} is not in contexts`);
  const clusterName = _string(context.cluster) ?? "";
  const cluster = _named(document.clusters, clusterName, "cluster");
  if (!cluster)
    throw new KubeconfigError(`${path}: cluster ${JSON.stringify(clusterName)} is not in clusters`);
  const userName = _string(context.user) ?? "";
  const user = userName === "" ? {} : _named(document.users, userName, "user");
  if (!user) throw new KubeconfigError(`${path}: user ${JSON.stringify(userName)} is not in users`);

  let server: URL;
  try {
    server = new URL(_string(cluster.server) ?? "");
  } catch {
    throw new KubeconfigError(`${path}: cluster ${clusterName} has no valid server URL`);
  }
  if (server.protocol !== "https:") {
    throw new KubeconfigError(
      `${path}: the server ${server.origin} is not https: doctor sends credentials over TLS only`,
    );
  }
  if (cluster["insecure-skip-tls-verify"] === true) {
    throw new KubeconfigError(
      `${path}: cluster ${clusterName} sets insecure-skip-tls-verify, which doctor does not do: give its CA (certificate-authority)`,
    );
  }
  const access: ApiServerAccess = { server, context: contextName, user: userName };
  const caData = _string(cluster["certificate-authority-data"]);
  const caFile = _string(cluster["certificate-authority"]);
  if (caData) access.ca = _base64(caData, `${path}: certificate-authority-data`);
  else if (caFile) access.ca = read("certificate-authority", caFile);
  const tlsServerName = _string(cluster["tls-server-name"]);
  if (tlsServerName) access.tlsServerName = tlsServerName;

  if (user["auth-provider"] !== undefined) {
    throw new KubeconfigError(
      `${path}: user ${userName} uses an auth-provider, which doctor does not support: use exec`,
    );
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw new KubeconfigError(`${path}: user ${userName} uses basic auth, which doctor does not support`);
  }
  const certData = _string(user["client-certificate-data"]);
  const certFile = _string(user["client-certificate"]);
  const keyData = _string(user["client-key-data"]);
  const keyFile = _string(user["client-key"]);
  if (keyData) options.secrets.add(keyData);
  const cert = certData
    ? _base64(certData, `${path}: client-certificate-data`)
    : certFile && read("client-certificate", certFile);
  const key = keyData ? _base64(keyData, `${path}: client-key-data`) : keyFile && read("client-key", keyFile);
  if (key) options.secrets.add(key);
  if (cert || key) access.clientCertificate = _pair(path, cert || "", key || "");

  const token = _string(user.token);
  const tokenFile = _string(user.tokenFile);
  if (token) {
    options.secrets.add(token);
    access.token = token;
  } else if (tokenFile) {
    const read_ = read("tokenFile", tokenFile).trim();
    options.secrets.add(read_);
    access.token = read_;
  }
  if (_isObject(user.exec) && access.token === undefined && access.clientCertificate === undefined) {
    Object.assign(access, await _exec(path, userName, user.exec, base, options));
  }
  return access;
}

/** Runs a kubeconfig's exec plugin, as client-go does, and takes its ExecCredential's status. */
async function _exec(
  path: string,
  userName: string,
  exec: _Object,
  base: string,
  options: KubeconfigOptions,
): Promise<Pick<ApiServerAccess, "token" | "clientCertificate">> {
  const command = _string(exec.command);
  const apiVersion = _string(exec.apiVersion) ?? "";
  if (!command) throw new KubeconfigError(`${path}: user ${userName}'s exec has no command`);
  if (!/^client\.authentication\.k8s\.io\/(v1|v1beta1)$/.test(apiVersion)) {
    throw new KubeconfigError(
      `${path}: user ${userName}'s exec apiVersion ${JSON.stringify(apiVersion)} is not client.authentication.k8s.io/v1 or v1beta1`,
    );
  }
  const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === "string") : [];
  const env: Record<string, string | undefined> = { ...options.env };
  for (const entry of Array.isArray(exec.env) ? exec.env : []) {
    if (_isObject(entry) && typeof entry.name === "string") env[entry.name] = _string(entry.value) ?? "";
  }
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false },
  });
  // client-go resolves a command with a path separator against the kubeconfig's directory.
  const executable = command.includes("/") && !isAbsolute(command) ? resolve(base, command) : command;
  const name = `user ${userName}'s exec plugin ${command}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const run = await new Promise<{ code: number | null; stdout: string; error?: string }>((resolve_) => {
    // Own process group: on a timeout the plugin and anything it started are killed, and a child
    // that kept its stdout open cannot hold doctor past the timeout.
    const child = spawn(executable, args, { env, stdio: ["ignore", "pipe", "ignore"], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (result: { code: number | null; stdout: string; error?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve_(result);
    };
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      child.stdout.destroy();
    };
    const timer = setTimeout(() => {
      kill();
      done({ code: null, stdout: "", error: `timed out after ${Math.round(timeoutMs / 100) / 10} s` });
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
      else {
        kill();
        done({ code: null, stdout: "", error: "printed more than 1 MiB" });
      }
    });
    child.once("error", (error) => done({ code: null, stdout: "", error: `did not run (${_code(error)})` }));
    child.once("close", (code, signal) => {
      const stdout = Buffer.concat(chunks).toString("utf8");
      done(code === null ? { code, stdout, error: `was killed by ${signal}` } : { code, stdout });
    });
  });
  if (run.error !== undefined) throw new KubeconfigError(`${path}: ${name} ${run.error}`);
  if (run.code !== 0) throw new KubeconfigError(`${path}: ${name} exited ${run.code}`);
  let credential: unknown;
  try {
    credential = JSON.parse(run.stdout);
  } catch {
    throw new KubeconfigError(`${path}: ${name} printed no ExecCredential JSON`);
  }
  const status = _isObject(credential) && _isObject(credential.status) ? credential.status : undefined;
  const token = _string(status?.token);
  const cert = _string(status?.clientCertificateData);
  const key = _string(status?.clientKeyData);
  if (token) options.secrets.add(token);
  if (key) options.secrets.add(key);
  if (token) return { token };
  if (cert && key) return { clientCertificate: _pair(path, cert, key) };
  throw new KubeconfigError(`${path}: ${name} gave neither a token nor a client certificate and key`);
}

function _pair(path: string, cert: string, key: string): { cert: string; key: string } {
  if (!cert || !key) {
    throw new KubeconfigError(`${path}: a client certificate needs both the certificate and its key`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    // OpenSSL's words say which part is wrong without quoting either.
    throw new KubeconfigError(`${path}: the client certificate or key is not usable (${_code(error)})`);
  }
  return { cert, key };
}

function _named(list: unknown, name: string, field: string): _Object | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((item) => _isObject(item) && item.name === name) as _Object | undefined;
  return entry && _isObject(entry[field]) ? (entry[field] as _Object) : entry ? {} : undefined;
}

function _base64(value: string, what: string): string {
  if (!/^[A-Za-z0-9+/\s]*=*\s*$/.test(value)) throw new KubeconfigError(`${what} is not base64`);
  return Buffer.from(value, "base64").toString("utf8");
}

const _isObject = (value: unknown): value is _Object =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const _string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const _code = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  return messageOf(error).split("\n")[0] ?? "error";
};
