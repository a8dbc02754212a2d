/** gcp.json's `metadata` facts: the token and the dockercfg flows, through a fake core HTTP client. */
import { CloudCallError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import type { Answer } from "../testdata/fake-http.ts";
import { answer, GOOGLE_FLAVOR, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import type { MetadataContext } from "./metadata.ts";
import {
  fetchMetadataToken,
  metadataBaseUrl,
  readDockerConfigAttribute,
  readDockerConfigUrl,
  readMetadata,
} from "./metadata.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const TOKEN = "ya29.c.node-metadata-token-0123456789";
const BASE = "http://metadata.google.internal/computeMetadata/v1/";
const TOKEN_URL = `${BASE}instance/service-accounts/default/token`;

function setup(answers: Record<string, Answer>, env: Record<string, string> = {}) {
  const { http, calls } = recordingHttp({ ...answers, [BASE]: answer(404, "", GOOGLE_FLAVOR) });
  const { log, secrets } = quietLog();
  const context: MetadataContext & { now: () => number } = { http, env, secrets, log, now: () => NOW };
  return { calls, context, secrets };
}

async function failure(promise: Promise<unknown>): Promise<CloudCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CloudCallError)) throw new Error(`expected a CloudCallError, got ${String(error)}`);
  return error;
}

describe("metadataBaseUrl", () => {
  it("is metadata.google.internal by default", () => {
    expect(metadataBaseUrl({}).href).toBe(BASE);
  });

  it.each([
    [{ GCE_METADATA_HOST: "127.0.0.1:8080" }, "http://127.0.0.1:8080/computeMetadata/v1/"],
    [{ GCE_METADATA_HOST: "169.254.169.254" }, "http://169.254.169.254/computeMetadata/v1/"],
    [{ GCE_METADATA_HOST: "http://[::1]:9000" }, "http://[::1]:9000/computeMetadata/v1/"],
    [
      { GCE_METADATA_IP: "10.0.0.1:80", GCE_METADATA_HOST: "127.0.0.1:1" },
      "http://10.0.0.1/computeMetadata/v1/",
    ],
  ])("%j", (env, href) => {
    expect(metadataBaseUrl(env).href).toBe(href);
  });

  it.each(["127.0.0.1:8080/x", "user:pw@127.0.0.1", "a b", "http://"])(
    "GCE_METADATA_HOST=%j is refused",
    (host) => {
      expect(() => metadataBaseUrl({ GCE_METADATA_HOST: host })).toThrow(
        /must be the metadata server's host\[:port\]/,
      );
    },
  );
});

describe("fetchMetadataToken", () => {
  const ok = { access_token: TOKEN, expires_in: 3599, token_type: "Bearer" };

  it("GETs the default service account's token with Metadata-Flavor, as endpoint GCE metadata token", async () => {
    const { calls, context, secrets } = setup({ [TOKEN_URL]: answer(200, ok, GOOGLE_FLAVOR) });
    expect(await fetchMetadataToken(context)).toEqual({ token: TOKEN, expiresAt: new Date(NOW + 3599_000) });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      url: TOKEN_URL,
      method: "GET",
      endpoint: "GCE metadata token",
      headers: { "Metadata-Flavor": "Google" },
    });
    expect(secrets.reveals(TOKEN)).toBe(true);
  });

  it("at GCE_METADATA_HOST", async () => {
    const url = "http://127.0.0.1:8080/computeMetadata/v1/instance/service-accounts/default/token";
    const { calls, context } = setup(
      { [url]: answer(200, ok, GOOGLE_FLAVOR) },
      { GCE_METADATA_HOST: "127.0.0.1:8080" },
    );
    await fetchMetadataToken(context);
    expect(calls[0]?.url).toBe(url);
  });

  it.each([
    ["the closing brace missing", `{"access_token":"${TOKEN}","expires_in":3599,"token_type":"Bearer"`],
    ["a trailing byte", `${JSON.stringify(ok)}x`],
    ["a bare JSON string", JSON.stringify(JSON.stringify(ok))],
  ])("a token answer with %s: malformed, and the token is nowhere in the error", async (_, body) => {
    const { context } = setup({ [TOKEN_URL]: answer(200, body, GOOGLE_FLAVOR) });
    const error = await failure(fetchMetadataToken(context));
    expect(error).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "malformed",
      endpoint: "GCE metadata token",
    });
    expect(error.message).toMatch(/^GCE metadata token answered HTTP 200 with /);
    expect(error.message).not.toContain(TOKEN);
    expect(String(error.stack)).not.toContain(TOKEN);
  });

  it("an answer without Metadata-Flavor: Google is not the metadata server's, and its body is not read", async () => {
    const { context, secrets } = setup({ [TOKEN_URL]: answer(200, ok) });
    const error = await failure(fetchMetadataToken(context));
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", fault: "malformed" });
    expect(error.message).toBe(
      "GCE metadata token answered HTTP 200 without the header Metadata-Flavor: Google: not the metadata server (a proxy or captive portal answered metadata.google.internal)",
    );
    expect(secrets.reveals(TOKEN)).toBe(false);
    const other = setup({ [TOKEN_URL]: answer(200, ok, { "metadata-flavor": "Evil" }) });
    await expect(fetchMetadataToken(other.context)).rejects.toThrow(/with another value of Metadata-Flavor/);
  });

  it.each([
    [0, "expired"],
    [-10, "expired"],
    [30, "expired"],
  ])("expires_in %i: %s, never a token to answer", async (expiresIn, fault) => {
    const { context } = setup({ [TOKEN_URL]: answer(200, { ...ok, expires_in: expiresIn }, GOOGLE_FLAVOR) });
    expect(await failure(fetchMetadataToken(context))).toMatchObject({
      fault,
      endpoint: "GCE metadata token",
    });
  });

  it("404: the instance has no service account", async () => {
    const { context } = setup({ [TOKEN_URL]: answer(404, "Not Found", GOOGLE_FLAVOR) });
    const error = await failure(fetchMetadataToken(context));
    expect(error).toMatchObject({ code: "CLOUD_AUTH_FAILED", fault: "rejected", status: 404 });
    expect(error.message).toMatch(
      /^GCE metadata token refused the request \(HTTP 404\): this instance has no service account/,
    );
  });

  it("what core's client throws (retries exhausted) passes through", async () => {
    const throttled = new CloudCallError({
      endpoint: "GCE metadata token",
      fault: "throttled",
      detail: "throttled (HTTP 429)",
      status: 429,
      attempts: 10,
      elapsedMs: 40_000,
    });
    const { context } = setup({ [TOKEN_URL]: throttled });
    await expect(fetchMetadataToken(context)).rejects.toBe(throttled);
  });
});

describe("readMetadata", () => {
  it("sends Metadata-Flavor: Google and requires it on the answer", async () => {
    const { calls, context } = setup({ [`${BASE}instance/x`]: answer(200, "value", GOOGLE_FLAVOR) });
    expect(await readMetadata("instance/x", context)).toBe("value");
    expect(calls[0]?.headers).toEqual({ "Metadata-Flavor": "Google" });
    expect(calls[0]?.endpoint).toBe("GCE metadata instance/x");
  });

  it("an answer without the header is not the metadata server", async () => {
    const { context } = setup({ [`${BASE}instance/x`]: answer(200, "value") });
    await expect(readMetadata("instance/x", context)).rejects.toMatchObject({
      code: "INVALID_RESPONSE",
      message: expect.stringMatching(/without the header Metadata-Flavor: Google/),
    });
  });

  it("404 is undefined, another status an error", async () => {
    const { context } = setup({ [`${BASE}instance/y`]: answer(403, "", GOOGLE_FLAVOR) });
    expect(await readMetadata("instance/x", context)).toBeUndefined();
    await expect(readMetadata("instance/y", context)).rejects.toMatchObject({
      code: "CLOUD_AUTH_FAILED",
      message: "GCE metadata instance/y refused the request (HTTP 403)",
    });
  });
});

describe("dockercfg flows", () => {
  it("dockercfg: the instance attribute google-dockercfg", async () => {
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg`]: answer(200, "{}", GOOGLE_FLAVOR),
    });
    expect(await readDockerConfigAttribute(context)).toEqual({
      text: "{}",
      source: "instance attribute google-dockercfg",
    });
    const unset = setup({});
    await expect(readDockerConfigAttribute(unset.context)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/google-dockercfg is not set/),
    });
  });

  it("dockercfg-url: fetches the URL without the metadata header; a signed URL's query is a secret", async () => {
    const url = "https://storage.example/cfg.json?X-Goog-Signature=abcdef0123456789";
    const { calls, context, secrets } = setup({
      [`${BASE}instance/attributes/google-dockercfg-url`]: answer(200, `${url}\n`, GOOGLE_FLAVOR),
      [url]: answer(200, '{"gcr.io":{}}'),
    });
    const { text, source } = await readDockerConfigUrl(context);
    expect(text).toBe('{"gcr.io":{}}');
    expect(source).toBe(
      "https://storage.example/cfg.json (from the instance attribute google-dockercfg-url)",
    );
    expect(calls[1]?.url).toBe(url);
    expect(calls[1]?.headers).toEqual({});
    expect(calls[1]?.endpoint).toBe(
      "dockercfg URL https://storage.example/cfg.json (from the instance attribute google-dockercfg-url)",
    );
    expect(secrets.reveals("abcdef0123456789")).toBe(true);
  });

  it.each([
    ["gs://bucket/cfg.json", "CONFIG_INVALID", /only http and https/],
    ["not a url", "CONFIG_INVALID", /not a URL/],
  ])("dockercfg-url %j: %s", async (value, code, message) => {
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg-url`]: answer(200, value, GOOGLE_FLAVOR),
    });
    await expect(readDockerConfigUrl(context)).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it.each([
    [401, "CLOUD_AUTH_FAILED"],
    [403, "CLOUD_AUTH_FAILED"],
    [404, "CONFIG_INVALID"],
    [302, "INVALID_RESPONSE"],
    [400, "CLOUD_AUTH_FAILED"],
  ])("the URL answers %i: %s, naming the URL without its query", async (status, code) => {
    const url = "http://config.example/cfg?sig=0123456789abcdef";
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg-url`]: answer(200, url, GOOGLE_FLAVOR),
      [url]: answer(status, ""),
    });
    const error = await failure(readDockerConfigUrl(context));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(
      /^dockercfg URL http:\/\/config.example\/cfg \(from the instance attribute/,
    );
    expect(error.message).not.toContain("0123456789abcdef");
  });

  it("dockercfg-url unset", async () => {
    await expect(readDockerConfigUrl(setup({}).context)).rejects.toThrow(/google-dockercfg-url is not set/);
  });
});
