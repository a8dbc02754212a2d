/**
 * loadKubeconfig: the current context's server, CA and credentials, as client-go reads them, and a
 * one-line error naming the file and the field for each kubeconfig doctor cannot use.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SecretRegistry } from "@kubelet-credential-provider/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../../core/testdata/tls.ts";
import { scratch } from "../testdata/harness.ts";
import { KubeconfigError, loadKubeconfig } from "./kubeconfig.ts";

const tmp = scratch("kubeconfig");
afterAll(() => tmp.remove());
let pair: { cert: string; key: string };
let caPem: string;
beforeAll(async () => {
  const ca = await createTestCa();
  caPem = ca.caPem;
  pair = await ca.issueClient("system:node:n1", ["system:nodes"]);
});

let count = 0;
/** A kubeconfig with one context, whose cluster and user take these fields (YAML lines). */
function kubeconfig(cluster: string[], user: string[]): string {
  const path = tmp.path(`k${++count}/config`);
  mkdirSync(join(path, ".."), { recursive: true });
  const indent = (lines: string[]) => lines.map((line) => `    ${line}`).join("\n");
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n${indent(cluster)}\nusers:\n- name: u\n  user:\n${indent(user)}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
  );
  return path;
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function renamed(path: string, from: string, to: string): string {
  writeFileSync(path, readFileSync(path, "utf8").replace(from, to));
  return path;
}
const b64 = (text: string) => Buffer.from(text).toString("base64");
const load = (path: string, secrets = new SecretRegistry()) => loadKubeconfig(path, { env: {}, secrets });
const error = async (path: string) => {
  const failure = await load(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(KubeconfigError);
  return (failure as Error).message.replace(path, "KUBECONFIG");
};

describe("loadKubeconfig", () => {
  it("reads the server, the CA and a client certificate from data fields, and registers the key as a secret", async () => {
    const secrets = new SecretRegistry();
    const access = await load(
      kubeconfig(
        ["server: https://api.cluster.test:6443", `certificate-authority-data: ${b64(caPem)}`],
        [`client-certificate-data: ${b64(pair.cert)}`, `client-key-data: ${b64(pair.key)}`],
      ),
      secrets,
    );
    expect(access).toEqual({
      server: new URL("https://api.cluster.test:6443"),
      ca: caPem,
      clientCertificate: pair,
      context: "x",
      user: "u",
    });
    expect(secrets.redact(pair.key)).not.toContain(pair.key.split("\n")[1]);
  });

  it("reads files relative to the kubeconfig's directory, and absolute ones under root", async () => {
    const path = kubeconfig(
      ["server: https://api.cluster.test", "certificate-authority: ca.crt", "tls-server-name: kubernetes"],
      ["tokenFile: /var/run/token"],
    );
    writeFileSync(join(path, "../ca.crt"), caPem);
    const root = tmp.path(`root-${count}`);
    mkdirSync(join(root, "var/run"), { recursive: true });
    writeFileSync(join(root, "var/run/token"), "tok-from-file\n");
    const secrets = new SecretRegistry();
    const access = await loadKubeconfig(path, { env: {}, secrets, root });
    expect(access).toMatchObject({ ca: caPem, token: "tok-from-file", tlsServerName: "kubernetes" });
    expect(secrets.redact("tok-from-file")).not.toContain("tok-from-file");
  });

  it("says which kubeconfigs it cannot use, in one line each", async () => {
    const server = "server: https://api.cluster.test";
    const cases: Array<[string, string]> = [
      [
        kubeconfig(["server: http://api.cluster.test"], ["token: t"]),
        "KUBECONFIG: the server http://api.cluster.test is not https: doctor sends credentials over TLS only",
      ],
      [
        kubeconfig([server, "insecure-skip-tls-verify: true"], ["token: t"]),
        "KUBECONFIG: cluster c sets insecure-skip-tls-verify, which doctor does not do: give its CA (certificate-authority)",
      ],
      [
        kubeconfig([server], ["auth-provider: {name: gcp}"]),
        "KUBECONFIG: user u uses an auth-provider, which doctor does not support: use exec",
      ],
      [
        kubeconfig([server], ["username: admin", "password: hunter2"]),
        "KUBECONFIG: user u uses basic auth, which doctor does not support",
      ],
      [
        kubeconfig([server], [`client-key-data: ${b64(pair.key)}`]),
        "KUBECONFIG: a client certificate needs both the certificate and its key",
      ],
      [
        kubeconfig([server], ["client-certificate: missing.crt", "client-key: missing.key"]),
        "KUBECONFIG: cannot read client-certificate missing.crt (ENOENT)",
      ],
      [
        kubeconfig([server, "certificate-authority-data: not*base64"], ["token: t"]),
        "KUBECONFIG: certificate-authority-data is not base64",
      ],
      [kubeconfig(['server: "not a url"'], ["token: t"]), "KUBECONFIG: cluster c has no valid server URL"],
      [
        renamed(kubeconfig([server], ["token: t"]), "current-context: x", "current-context: y"),
        "KUBECONFIG: current-context y is not in contexts",
      ],
      [
        kubeconfig([server], ["exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}"]),
        'KUBECONFIG: user u\'s exec apiVersion "client.authentication.k8s.io/v1alpha1" is not client.authentication.k8s.io/v1 or v1beta1',
      ],
      [
        kubeconfig(
          [server],
          ["exec: {apiVersion: client.authentication.k8s.io/v1, command: /nonexistent/get-token}"],
        ),
        "KUBECONFIG: user u's exec plugin /nonexistent/get-token did not run (ENOENT)",
      ],
      [
        kubeconfig([server], ["exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}"]),
        "KUBECONFIG: user u's exec plugin /bin/false exited 1",
      ],
      [
        kubeconfig(
          [server],
          ["exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/echo, args: [hello]}"],
        ),
        "KUBECONFIG: user u's exec plugin /bin/echo printed no ExecCredential JSON",
      ],
      [
        kubeconfig(
          [server],
          [
            "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/echo, args: ['{\"status\":{}}']}",
          ],
        ),
        "KUBECONFIG: user u's exec plugin /bin/echo gave neither a token nor a client certificate and key",
      ],
    ];
    for (const [path, message] of cases) expect(await error(path)).toBe(message);
    // The parser's own message would quote the line, token and all.
    expect(await error(kubeconfig(["server: https://api.cluster.test"], ["token: secret-tok: x"]))).toBe(
      "the kubeconfig KUBECONFIG is not YAML (line 10)",
    );
    expect(await error(tmp.path("nowhere"))).toBe("cannot read the kubeconfig KUBECONFIG (ENOENT)");
  });

  it("an exec plugin that hangs, with a child holding its stdout: killed, all of it, at the timeout", async () => {
    const path = kubeconfig(
      ["server: https://api.cluster.test"],
      ["exec: {apiVersion: client.authentication.k8s.io/v1, command: ./hang.sh}"],
    );
    const pidFile = join(path, "../child.pid");
    writeFileSync(join(path, "../hang.sh"), `#!/bin/sh\nsleep 60 &\necho $! > '${pidFile}'\nwait\n`, {
      mode: 0o755,
    });
    const failure = await loadKubeconfig(path, {
      env: { PATH: "/usr/bin:/bin" },
      secrets: new SecretRegistry(),
      timeoutMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(failure?.message.replace(path, "KUBECONFIG")).toBe(
      "KUBECONFIG: user u's exec plugin ./hang.sh timed out after 0.5 s",
    );
    const child = Number(readFileSync(pidFile, "utf8"));
    await expect.poll(() => alive(child), { timeout: 5_000 }).toBe(false);
  });

  it("a client key that is not the certificate's: unusable, and no part of it in the message", async () => {
    // Generated here, as every key of these tests: another pair's key.
    const other = await (await createTestCa()).issueClient("someone-else");
    const path = kubeconfig(
      ["server: https://api.cluster.test"],
      [`client-certificate-data: ${b64(pair.cert)}`, `client-key-data: ${b64(other.key)}`],
    );
    const message = await error(path);
    expect(message).toMatch(/^KUBECONFIG: the client certificate or key is not usable \(\S+\)$/);
    expect(message).not.toContain(other.key.split("\n")[1]);
  });
});
