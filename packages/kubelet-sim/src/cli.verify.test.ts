/**
 * `verify` and `lookup --verify` end to end: the CLI as a process, over TLS to a small registry on
 * 127.0.0.1 whose certificate comes from a CA made for this run and trusted through
 * NODE_EXTRA_CA_CERTS, as on a node. The registry accepts exactly one username and password.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../../../packages/core/testdata/tls.ts";
import { makeBinDir, parseReport, provider, runSim, scratch, writeConfig } from "../testdata/harness.ts";

const USER = "puller";
const PASSWORD = "right-password-0123";
const WRONG = "wrong-password-4567";
const REGISTRY_TOKEN = "registry-token-89ab";

const tmp = scratch("verify");
let server: Server;
let registry: string;
let caFile: string;
const calls: string[] = [];

beforeAll(async () => {
  const ca = await createTestCa();
  const { cert, key } = await ca.issue(["localhost"]);
  caFile = tmp.path("ca.pem");
  writeFileSync(caFile, ca.caPem);
  server = createServer({ cert, key }, (request, response) => {
    const url = new URL(request.url ?? "/", "https://localhost");
    calls.push(`${url.pathname}${url.search}`);
    if (url.pathname === "/v2/") {
      if (request.headers.authorization === `Bearer ${REGISTRY_TOKEN}`) {
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      response
        .writeHead(401, {
          "www-authenticate": `Bearer realm="https://${registry}/token",service="test-registry"`,
        })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (url.pathname === "/token") {
      const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
      if (request.headers.authorization !== expected) {
        response.writeHead(401).end('{"details":"incorrect username or password"}');
        return;
      }
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token: REGISTRY_TOKEN }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  registry = `localhost:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  tmp.remove();
});

const verify = (password: string, env: Record<string, string> = { NODE_EXTRA_CA_CERTS: caFile }) =>
  runSim(["verify", `${registry}/team/app:1.0`, "--username", USER, "--password-stdin"], {
    env,
    stdin: `${password}\n`,
  });

describe("verify", () => {
  it("accepts the right credentials (Bearer token flow), exit 0", async () => {
    calls.length = 0;
    const run = await verify(PASSWORD);
    expect(run.stdout).toBe(`accepted: GET https://${registry}/v2/ with a Bearer token answered 200\n`);
    expect(run.code).toBe(0);
    expect(calls).toEqual([
      "/v2/",
      "/token?service=test-registry&scope=repository%3Ateam%2Fapp%3Apull",
      "/v2/",
    ]);
  });

  it("rejects wrong credentials, exit 1, without printing them", async () => {
    const run = await verify(WRONG);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `rejected: GET https://${registry}/token (token) answered 401: {"details":"incorrect username or password"}\n`,
    );
    expect(run.stdout + run.stderr).not.toContain(WRONG);
  });

  it("does not trust the registry without NODE_EXTRA_CA_CERTS", async () => {
    const run = await verify(PASSWORD, {});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^error: GET https:\/\/localhost:\d+\/v2\/ failed TLS verification: the certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE; /,
    );
  });

  it("needs --password-stdin and --username", async () => {
    const noStdin = await runSim(["verify", `${registry}/app`, "--username", USER]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toBe(
      "kubelet-credential-sim: give the password on stdin with --password-stdin (see kubelet-credential-sim verify --help)\n",
    );
    const noUser = await runSim(["verify", `${registry}/app`, "--password-stdin"], { stdin: "x\n" });
    expect(noUser.code).toBe(2);
  });
});

describe("lookup --verify", () => {
  it("tries each image's credentials in the kubelet's order until the registry accepts one", async () => {
    const json = (password: string) => (key: string) =>
      JSON.stringify({ [key]: { username: USER, password } });
    const binDir = makeBinDir(tmp.path("bin"), {
      wrong: "counting",
      right: "counting",
      "only-wrong": "counting",
    });
    const config = writeConfig(tmp.path("config.json"), [
      // The longer key is tried first: the wrong password, then the right one.
      provider("wrong", [registry], { env: { AUTH_JSON: json(WRONG)(`${registry}/team`) } }),
      provider("right", [`${registry}/team`], { env: { AUTH_JSON: json(PASSWORD)(registry) } }),
      provider("only-wrong", [`${registry}/solo`], { env: { AUTH_JSON: json(WRONG)(`${registry}/solo`) } }),
    ]);
    const run = await runSim(
      [
        "lookup",
        "--config",
        config,
        "--bin-dir",
        binDir,
        "--verify",
        "--output",
        "json",
        `${registry}/team/app`,
        `${registry}/solo/app`,
        `${registry}/none/app`,
      ],
      { env: { NODE_EXTRA_CA_CERTS: caFile } },
    );
    const report = parseReport(run);
    expect(report[0]?.credentials.map((c) => c.provider)).toEqual(["wrong", "right"]);
    expect(report[0]?.verified).toBe(true);
    expect(report[0]?.verifyError).toBeUndefined();
    expect(report[1]?.verified).toBe(false);
    expect(report[1]?.verifyError).toBe(
      `credential ${registry}/solo from only-wrong: rejected: GET https://${registry}/token (token) answered 401: {"details":"incorrect username or password"}`,
    );
    // No credentials, nothing to verify.
    expect(report[2]?.credentials).toEqual([]);
    expect(report[2]).not.toHaveProperty("verified");
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(run.stdout + run.stderr).not.toContain(WRONG);
  });
});
