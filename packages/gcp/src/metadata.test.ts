/** gcp.json's `metadata` facts for the dockercfg flows, through a fake core HTTP client. */
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import type { MetadataContext } from "./metadata.ts";
import { metadataBaseUrl, readDockerConfigAttribute, readDockerConfigUrl, readMetadata } from "./metadata.ts";

const GOOGLE = { "metadata-flavor": "Google" };

function response(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers,
    body: new TextEncoder().encode(body),
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function setup(answers: Record<string, HttpResponse>, env: Record<string, string> = {}) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      calls.push({ url: String(url), options });
      return answers[String(url)] ?? response(404, "", GOOGLE);
    },
  };
  const secrets = new SecretRegistry();
  const context: MetadataContext = {
    http,
    env,
    secrets,
    log: createLogger({ name: "t", verbosity: 10, secrets, sink: { write() {} } }),
  };
  return { calls, context, secrets };
}

const BASE = "http://metadata.google.internal/computeMetadata/v1/";

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

describe("readMetadata", () => {
  it("sends Metadata-Flavor: Google and requires it on the answer", async () => {
    const { calls, context } = setup({ [`${BASE}instance/x`]: response(200, "value", GOOGLE) });
    expect(await readMetadata("instance/x", context)).toBe("value");
    expect(calls[0]?.options.headers).toEqual({ "Metadata-Flavor": "Google" });
  });

  it("an answer without the header is not the metadata server", async () => {
    const { context } = setup({ [`${BASE}instance/x`]: response(200, "value") });
    await expect(readMetadata("instance/x", context)).rejects.toMatchObject({
      code: "INVALID_RESPONSE",
      message: expect.stringMatching(/without the header Metadata-Flavor: Google/),
    });
    const wrong = setup({ [`${BASE}instance/x`]: response(200, "v", { "metadata-flavor": "Evil" }) });
    await expect(readMetadata("instance/x", wrong.context)).rejects.toThrow(/got "Evil"/);
  });

  it("404 is undefined, another status an error", async () => {
    const { context } = setup({ [`${BASE}instance/y`]: response(403, "", GOOGLE) });
    expect(await readMetadata("instance/x", context)).toBeUndefined();
    await expect(readMetadata("instance/y", context)).rejects.toMatchObject({ code: "INVALID_RESPONSE" });
  });
});

describe("dockercfg flows", () => {
  it("dockercfg: the instance attribute google-dockercfg", async () => {
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg`]: response(200, "{}", GOOGLE),
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
      [`${BASE}instance/attributes/google-dockercfg-url`]: response(200, `${url}\n`, GOOGLE),
      [url]: response(200, '{"gcr.io":{}}'),
    });
    const { text, source } = await readDockerConfigUrl(context);
    expect(text).toBe('{"gcr.io":{}}');
    expect(source).toBe(
      "https://storage.example/cfg.json (from the instance attribute google-dockercfg-url)",
    );
    expect(calls[1]?.url).toBe(url);
    expect(calls[1]?.options.headers).toBeUndefined();
    expect(secrets.reveals("abcdef0123456789")).toBe(true);
  });

  it.each([
    ["gs://bucket/cfg.json", "CONFIG_INVALID", /only http and https/],
    ["not a url", "CONFIG_INVALID", /not a URL/],
  ])("dockercfg-url %j: %s", async (value, code, message) => {
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg-url`]: response(200, value, GOOGLE),
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
    [400, "INVALID_RESPONSE"],
  ])("the URL answers %i: %s", async (status, code) => {
    const url = "http://config.example/cfg";
    const { context } = setup({
      [`${BASE}instance/attributes/google-dockercfg-url`]: response(200, url, GOOGLE),
      [url]: response(status, ""),
    });
    await expect(readDockerConfigUrl(context)).rejects.toMatchObject({ code });
  });

  it("dockercfg-url unset", async () => {
    await expect(readDockerConfigUrl(setup({}).context)).rejects.toThrow(/google-dockercfg-url is not set/);
  });
});
