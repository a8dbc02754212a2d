/**
 * dist/bin/example-credential-provider, the standalone executable, run as the kubelet runs it:
 * no Node on the node, whatever NODE_OPTIONS says, one answer on stdout and nothing on stderr.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execProvider } from "@kubelet-credential-provider/demo/exec-provider";
import type { TokenService } from "@kubelet-credential-provider/demo/token-service";
import { startTokenService } from "@kubelet-credential-provider/demo/token-service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const binary = resolve(import.meta.dirname, "../../dist/bin/example-credential-provider");
const apiKey = "e2e-api-key-0123456789abcdef";
let service: TokenService;
let workDir: string;
let args: string[];

beforeAll(async () => {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run pnpm build first`);
  service = await startTokenService(apiKey);
  workDir = mkdtempSync(join(tmpdir(), "kcp-e2e-"));
  writeFileSync(join(workDir, "api-key"), apiKey);
  args = [`--token-url=${service.url}`, `--api-key-file=${join(workDir, "api-key")}`];
});
afterAll(async () => {
  await service?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const request = (image = "registry.example.com/team/app", apiVersion = "v1") => ({
  kind: "CredentialProviderRequest",
  apiVersion: `credentialprovider.kubelet.k8s.io/${apiVersion}`,
  image,
});

function expectAnswer(result: { code: number | null; stdout: string; stderr: string }, apiVersion = "v1") {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const response = JSON.parse(result.stdout);
  expect(response).toMatchObject({
    kind: "CredentialProviderResponse",
    apiVersion: `credentialprovider.kubelet.k8s.io/${apiVersion}`,
    cacheKeyType: "Registry",
    auth: { "registry.example.com": { username: "node" } },
  });
  expect(service.issued).toContain(response.auth["registry.example.com"].password);
  // Half of the one hour the token service grants, give or take the time the call took.
  expect(response.cacheDuration).toMatch(/^(29m5\d|30m0)s$/);
}

describe("dist/bin/example-credential-provider", () => {
  it("answers under env -i: no Node on PATH, no environment at all", async () => {
    expectAnswer(await execProvider(binary, args, request(), { env: {} }));
  });

  it("ignores NODE_OPTIONS", async () => {
    const env = { NODE_OPTIONS: "--require /nonexistent" };
    expectAnswer(await execProvider(binary, args, request(), { env }));
  });

  it.each(["v1", "v1beta1", "v1alpha1"])("answers %s in its own version", async (apiVersion) => {
    expectAnswer(await execProvider(binary, args, request(undefined, apiVersion), { env: {} }), apiVersion);
  });

  it("refuses another registry without calling the token service", async () => {
    const before = service.calls();
    const result = await execProvider(binary, args, request("docker.io/library/nginx"), { env: {} });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "example-credential-provider: not this provider's registry: docker.io is not an Example registry\n",
    );
    expect(service.calls()).toBe(before);
  });

  it("fails cleanly with a wrong API key, and never prints the key", async () => {
    const badKey = join(workDir, "bad-key");
    writeFileSync(badKey, "wrong-key-abcdefghijkl");
    const result = await execProvider(binary, [args[0] as string, `--api-key-file=${badKey}`], request(), {
      env: {},
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "example-credential-provider: cloud authentication failed: token service answered 401\n",
    );
  });

  it("keeps every secret out of stderr at -v 10", async () => {
    const result = await execProvider(binary, [...args, "-v", "10"], request(), { env: {} });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/token -> 200/);
    for (const secret of [apiKey, ...service.issued]) expect(result.stderr).not.toContain(secret);
  });

  it("prints its version", async () => {
    const result = await execProvider(binary, ["--version"], undefined, { env: {}, stdin: "" });
    expect(result).toMatchObject({ code: 0, stdout: "example-credential-provider 0.1.0\n", stderr: "" });
  });
});
