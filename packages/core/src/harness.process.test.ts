/**
 * The harness as the kubelet meets it: a real child process per case, the request on stdin, and
 * assertions on all of stdout, stderr and the exit status.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { versionLine } from "./build-info.ts";

const script = fileURLToPath(new URL("../testdata/providers/scripted.ts", import.meta.url));
const V1 = "credentialprovider.kubelet.k8s.io/v1";
const request = (extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "registry.example.com/app", ...extra })}\n`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(options: {
  stdin?: string | Buffer;
  closeStdin?: boolean;
  args?: string[];
  behaviour?: string;
  env?: Record<string, string>;
  /** What the provider's stdout is: a pipe we read, a pipe we close at once, or closed. */
  stdout?: "read" | "no-reader" | "closed";
}): Promise<Run> {
  const started = Date.now();
  const closed = options.stdout === "closed";
  return new Promise((resolve, reject) => {
    // A closed stdout needs a shell: spawn cannot start a child without fd 1.
    const [command, args] = closed
      ? ["/bin/sh", ["-c", 'exec "$0" "$@" >&-', process.execPath, script, ...(options.args ?? [])]]
      : [process.execPath, [script, ...(options.args ?? [])]];
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, TEST_BEHAVIOUR: options.behaviour ?? "ok", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    if (options.stdout === "no-reader") child.stdout.destroy();
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.on("error", () => {}); // the child may stop reading early (oversized input)
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
    if (options.closeStdin !== false) child.stdin.end();
  });
}

function expectOneLineFailure(result: Run, pattern: RegExp) {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.split("\n").filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^scripted-provider: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.ms).toBeLessThan(5_000);
}

describe("bad input: one stderr line, empty stdout, exit 1, within 5 s", () => {
  it("empty stdin", async () => {
    expectOneLineFailure(await run({ stdin: "" }), /empty request/);
  });
  it("invalid JSON", async () => {
    expectOneLineFailure(await run({ stdin: "{not json" }), /not valid JSON/);
  });
  it("a JSON array", async () => {
    expectOneLineFailure(await run({ stdin: "[]" }), /must be a JSON object, got an array/);
  });
  it("10 MiB of input", async () => {
    expectOneLineFailure(await run({ stdin: Buffer.alloc(10 * 1024 * 1024, 0x20) }), /larger than 1 MiB/);
  });
  it("stdin never closed", async () => {
    expectOneLineFailure(await run({ stdin: request(), closeStdin: false }), /stdin was not closed/);
  });
  it("wrong kind", async () => {
    expectOneLineFailure(
      await run({ stdin: request({ kind: "CredentialProviderResponse" }) }),
      /kind must be/,
    );
  });
  it("unknown apiVersion", async () => {
    const result = await run({ stdin: request({ apiVersion: "credentialprovider.kubelet.k8s.io/v2" }) });
    expectOneLineFailure(
      result,
      /unsupported apiVersion: apiVersion "credentialprovider\.kubelet\.k8s\.io\/v2"/,
    );
  });
  it("missing image", async () => {
    expectOneLineFailure(await run({ stdin: request({ image: undefined }) }), /image is required/);
  });
  it("empty image", async () => {
    expectOneLineFailure(await run({ stdin: request({ image: "" }) }), /image is required/);
  });
  it("image of the wrong type", async () => {
    expectOneLineFailure(await run({ stdin: request({ image: 42 }) }), /image: expected string/);
  });
  it("an image that is no image reference", async () => {
    const result = await run({ stdin: request({ image: "registry.example.com/a//b" }) });
    expectOneLineFailure(
      result,
      /^scripted-provider: bad request: invalid image reference "registry\.example\.com\/a\/\/b": /,
    );
  });
  it("unknown flag", async () => {
    expectOneLineFailure(
      await run({ stdin: request(), args: ["--no-such-flag"] }),
      /unknown flag "--no-such-flag"/,
    );
  });
  it("bad -v value", async () => {
    expectOneLineFailure(await run({ stdin: request(), args: ["-v", "loud"] }), /-v takes a number/);
  });
  it("a token in invalid JSON is not echoed", async () => {
    const result = await run({ stdin: '{"serviceAccountToken": "sekrit-token-value", oops' });
    expectOneLineFailure(result, /not valid JSON/);
    expect(result.stderr).not.toContain("sekrit");
  });
});

describe("answers in the request's apiVersion", () => {
  for (const apiVersion of [
    V1,
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
  ]) {
    it(apiVersion, async () => {
      const result = await run({
        stdin: request({ apiVersion }),
        args: ["get-credentials", "--greeting=hi"],
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout.endsWith("\n")).toBe(true);
      expect(result.stdout.trim().split("\n")).toHaveLength(1);
      expect(JSON.parse(result.stdout)).toEqual({
        kind: "CredentialProviderResponse",
        apiVersion,
        cacheKeyType: "Registry",
        cacheDuration: "10m0s",
        auth: { "registry.example.com": { username: "user", password: "pa55word-from-cloud" } },
      });
    });
  }
});

describe("a misbehaving provider: exit 1 and nothing on stdout", () => {
  const cases: Array<[string, RegExp, string[]?]> = [
    ["throws", /internal error: boom/],
    ["typed-error", /not this provider's registry: registry\.example\.com\/app is not mine/],
    ["hangs", /timed out: no answer within the deadline of 1s/, ["--deadline=1s"]],
    ["never-settles", /timed out: no answer within the deadline of 1s/, ["--deadline=1s"]],
    ["bad-cache-key-type", /invalid response: .*cacheKeyType/],
    ["extra-field", /invalid response: .*unknown field "email"/],
    ["extra-auth-field", /invalid response: .*auth\.x: unknown field "email"/],
    ["numeric-duration", /invalid response: .*cacheDuration: expected string/],
    ["negative-duration", /negative cacheDuration/],
    ["unhandled-rejection", /internal error: stray rejection/],
  ];
  for (const [behaviour, pattern, args] of cases) {
    it(behaviour, async () => {
      expectOneLineFailure(await run({ stdin: request(), behaviour, args }), pattern);
    });
  }
});

describe("secrets never reach stderr", () => {
  it("at -v 10 the service account token and the password are masked", async () => {
    const token = "sa-token-eyJhbGciOiJSUzI1NiJ9.payload.sig";
    const result = await run({ stdin: request({ serviceAccountToken: token }), args: ["--v=10"] });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("[REDACTED]");
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).not.toContain("pa55word-from-cloud");
  });
  it("an error message carrying the token is masked", async () => {
    const token = "another-sa-token-1234567890";
    const result = await run({ stdin: request({ serviceAccountToken: token }), behaviour: "throws" });
    expectOneLineFailure(result, /boom with token \[REDACTED\]/);
    expect(result.stderr).not.toContain(token);
  });
});

describe("the answer reaches stdout, or the run fails", () => {
  it("stdout whose reader is gone (EPIPE): exit 1 and one line", async () => {
    const result = await run({ stdin: request(), stdout: "no-reader" });
    expectOneLineFailure(result, /cannot write the answer: stdout has no reader \(EPIPE\)/);
  });
  it("stdout closed (Node reopens it on /dev/null): exit 1 and one line", async () => {
    const result = await run({ stdin: request(), stdout: "closed" });
    expectOneLineFailure(result, /cannot write the answer: stdout is closed or \/dev\/null/);
  });
});

describe("stderr belongs to the harness's logger", () => {
  it("writes to process.stderr and console by other code are dropped", async () => {
    const result = await run({ stdin: request(), behaviour: "writes-stderr", args: ["--v=10"] });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("behaviour writes-stderr");
    expect(result.stderr).not.toContain("pa55word");
    expect(result.stderr).not.toMatch(/^(raw|console|warn) /m);
  });

  it("NODE_DEBUG=* prints nothing of an HTTP answer (no text, no hex)", async () => {
    const secret = "tok-5ecret-from-the-cloud-0123456789";
    const server = createServer((_req, res) => res.end(secret));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      for (const [verbosity, debug] of [
        ["0", "*"],
        ["10", "stream,http,net"],
      ] as const) {
        const result = await run({
          stdin: request(),
          behaviour: "http",
          args: [`--v=${verbosity}`],
          env: { TEST_URL: url, NODE_DEBUG: debug },
        });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout).auth.x.password).toBe(secret);
        const hex = Buffer.from(secret).toString("hex");
        const spacedHex = hex.replace(/(..)(?!$)/g, "$1 ");
        for (const form of [secret, hex, spacedHex, Buffer.from(secret).toString("base64")]) {
          expect(result.stderr).not.toContain(form);
        }
        expect(result.stderr).not.toMatch(/^(HTTP|NET|STREAM) \d+:/m);
      }
    } finally {
      server.close();
    }
  });
});

describe("--help and --version", () => {
  it("--version prints name, version, runtime and platform", async () => {
    const result = await run({ args: ["--version"] });
    expect(result).toMatchObject({
      code: 0,
      stdout: `${versionLine("scripted-provider", "1.2.3")}\n`,
      stderr: "",
    });
    expect(result.stdout).toMatch(/^scripted-provider 1\.2\.3 \(node v[0-9.]+, linux\/(amd64|arm64)\)\n$/);
  });
  it("--help describes flags and arguments", async () => {
    const result = await run({ args: ["-h"] });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: scripted-provider [flags] [verb]");
    expect(result.stdout).toContain("--greeting VALUE");
    expect(result.stdout).toContain("--deadline DURATION");
  });
});
