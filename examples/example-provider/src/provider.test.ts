/**
 * The provider as a library: the context's HTTP client is injected, so these tests need no
 * network and no process. (test-e2e runs the built executable against a local token service.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpClient, HttpRequestOptions, ProviderContext } from "@kubelet-credential-provider/core";
import { createLogger, isCredentialProviderError, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { provider } from "./provider.ts";

const keyFile = join(mkdtempSync(join(tmpdir(), "example-")), "api-key");
writeFileSync(keyFile, "key-0123456789\n");

function context(answer: { status: number; body: unknown }) {
  const calls: Array<{ url: string; options?: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options) {
      calls.push({ url: String(url), options });
      const text = JSON.stringify(answer.body);
      return {
        status: answer.status,
        headers: {},
        body: Buffer.from(text),
        endpoint: options?.endpoint ?? String(url),
        text: () => text,
        json: () => answer.body,
      };
    },
  };
  const secrets = new SecretRegistry();
  const ctx: ProviderContext<typeof provider.flags> = {
    flags: { "token-url": "https://auth.test/token", "api-key-file": keyFile },
    positionals: [],
    signal: new AbortController().signal,
    deadline: Date.now() + 50_000,
    log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write: () => true } }),
    secrets,
    http,
    env: {},
  };
  return { ctx, calls, secrets };
}

const request = (image: string) =>
  ({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image }) as const;

describe("example provider", () => {
  it("trades the API key for credentials keyed by the registry host", async () => {
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const { ctx, calls, secrets } = context({
      status: 200,
      body: { username: "node", password: "pw-1", expiresAt },
    });
    const result = await provider.getCredentials(request("eu.registry.example.com/team/app"), ctx);
    expect(result.auth).toEqual({ "eu.registry.example.com": { username: "node", password: "pw-1" } });
    expect(result.cacheKeyType).toBe("Registry");
    expect(result.cacheDuration).toMatch(/^(29m5\d|30m0)s$/);
    expect(calls[0]?.options?.headers?.authorization).toBe("Bearer key-0123456789");
    expect(JSON.parse(String(calls[0]?.options?.body))).toEqual({ registry: "eu.registry.example.com" });
    expect(secrets.redact("key-0123456789 pw-1")).toBe("[REDACTED] [REDACTED]");
  });

  it("refuses another registry before calling out", async () => {
    const { ctx, calls } = context({ status: 200, body: {} });
    const error = await Promise.resolve(
      provider.getCredentials(request("registry.example.com.evil.io/x"), ctx),
    ).catch((e: unknown) => e);
    expect(isCredentialProviderError(error) && error.code).toBe("NOT_MY_REGISTRY");
    expect(calls).toHaveLength(0);
  });

  it("a missing key file is CONFIG_INVALID naming the file, before calling out", async () => {
    const { ctx, calls } = context({ status: 200, body: {} });
    const missing = join(tmpdir(), "no-such-dir", "api-key");
    const error = await Promise.resolve(
      provider.getCredentials(request("registry.example.com/x"), {
        ...ctx,
        flags: { ...ctx.flags, "api-key-file": missing },
      }),
    ).catch((e: unknown) => e);
    expect(isCredentialProviderError(error) && error.code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toBe(`cannot read the API key file ${missing} (ENOENT)`);
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{ status: 403, body: {} }, /answered 403/],
    [{ status: 200, body: { username: "node" } }, /lacks username, password or expiresAt/],
  ])("turns a bad answer into CLOUD_AUTH_FAILED (%j)", async (answer, message) => {
    const { ctx } = context(answer);
    const error = await Promise.resolve(
      provider.getCredentials(request("registry.example.com/x"), ctx),
    ).catch((e: unknown) => e);
    expect(isCredentialProviderError(error) && error.code).toBe("CLOUD_AUTH_FAILED");
    expect(String(error)).toMatch(message);
  });

  it("is the code that docs/writing-a-provider.md shows, in 70 lines or fewer", () => {
    const source = readFileSync(new URL("./provider.ts", import.meta.url), "utf8");
    const doc = readFileSync(new URL("../../../docs/writing-a-provider.md", import.meta.url), "utf8");
    const block = /```ts title="src\/provider\.ts"\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(source);
    expect(source.trimEnd().split("\n").length).toBeLessThanOrEqual(70);
  });
});
