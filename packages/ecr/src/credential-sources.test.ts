/**
 * The settings and answers of the node's metadata credential sources, as pure functions: where
 * IMDS and the container endpoint are, and what a credentials document must hold.
 */
import type { HttpResponse } from "@kubelet-credential-provider/core";
import {
  isCloudCallError,
  isCredentialProviderError,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { containerCredentialsUrl } from "./container-credentials.ts";
import { readCredentialAnswer } from "./credential-answer.ts";
import { imdsEnabled, imdsEndpoint } from "./imds.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");

function answer(document: unknown): HttpResponse {
  const text = typeof document === "string" ? document : JSON.stringify(document);
  return {
    status: 200,
    headers: {},
    body: Buffer.from(text),
    endpoint: "IMDS credentials (role node)",
    text: () => text,
    json: () => JSON.parse(text),
  };
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("nothing thrown");
}

describe("IMDS settings", () => {
  it.each([
    [{}, "http://169.254.169.254/"],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv4" }, "http://169.254.169.254/"],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "ipv6" }, "http://[fd00:ec2::254]/"],
    [
      {
        AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1338",
        AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6",
      },
      "http://127.0.0.1:1338/",
    ],
  ])("%j: %s", (env, url) => {
    expect(imdsEndpoint(env).href).toBe(url);
  });

  it.each([
    { AWS_EC2_METADATA_SERVICE_ENDPOINT: "169.254.169.254" },
    { AWS_EC2_METADATA_SERVICE_ENDPOINT: "ftp://169.254.169.254" },
    { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "dual" },
  ])("%j is a configuration error", (env) => {
    const error = thrown(() => imdsEndpoint(env));
    expect(isCredentialProviderError(error) && error.code).toBe("CONFIG_INVALID");
  });

  it.each([
    [undefined, true],
    ["", true],
    ["false", true],
    ["FALSE", true],
    ["true", false],
    ["1", false],
  ])("AWS_EC2_METADATA_DISABLED=%j: IMDS on %s, as the SDK reads it", (value, enabled) => {
    expect(imdsEnabled({ AWS_EC2_METADATA_DISABLED: value })).toBe(enabled);
  });
});

describe("container credentials settings", () => {
  it.each([
    [
      { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" },
      "http://169.254.170.2/v2/credentials/abc",
    ],
    [
      {
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials",
      },
      "http://169.254.170.2/v2/credentials/abc",
    ],
    [
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials" },
      "http://169.254.170.23/v1/credentials",
    ],
    [
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://[fd00:ec2::23]/v1/credentials" },
      "http://[fd00:ec2::23]/v1/credentials",
    ],
    [{ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.5:8080/creds" }, "http://127.0.0.5:8080/creds"],
    [{ AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://creds.example.com/x" }, "https://creds.example.com/x"],
  ])("%j: %s", (env, url) => {
    expect(containerCredentialsUrl(env).href).toBe(url);
  });

  it.each([
    { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://creds.example.com/x" },
    { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://10.0.0.1/x" },
    { AWS_CONTAINER_CREDENTIALS_FULL_URI: "not a url" },
    { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "@evil.example/x" },
  ])("%j is a configuration error: credentials only over TLS or from the local agent", (env) => {
    const error = thrown(() => containerCredentialsUrl(env));
    expect(isCredentialProviderError(error) && error.code).toBe("CONFIG_INVALID");
  });
});

describe("readCredentialAnswer", () => {
  const complete = {
    Code: "Success",
    AccessKeyId: "ASIAEXAMPLE",
    SecretAccessKey: "secret/key+0123456789",
    Token: "session-token-0123456789",
    Expiration: "2025-06-01T06:00:00Z",
  };

  it("reads the credentials and registers their secrets", () => {
    const secrets = new SecretRegistry();
    expect(readCredentialAnswer(answer(complete), secrets, NOW)).toEqual({
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "secret/key+0123456789",
      sessionToken: "session-token-0123456789",
      expiration: new Date("2025-06-01T06:00:00Z"),
    });
    expect(secrets.redact("secret/key+0123456789 session-token-0123456789")).toBe("[REDACTED] [REDACTED]");
  });

  it.each([
    [{ ...complete, AccessKeyId: undefined }, "malformed", "answered credentials without AccessKeyId"],
    [{ ...complete, SecretAccessKey: "" }, "malformed", "answered credentials without SecretAccessKey"],
    [{ ...complete, Expiration: undefined }, "malformed", "answered credentials without Expiration"],
    [
      { ...complete, Expiration: "soon" },
      "malformed",
      "answered credentials with an Expiration that is not a time",
    ],
    [
      { ...complete, Code: "AssumeRoleUnauthorizedAccess" },
      "rejected",
      "answered without credentials (Code AssumeRoleUnauthorizedAccess)",
    ],
    [
      { ...complete, Expiration: "2025-06-01T00:00:30Z" },
      "expired",
      "issued a credential that expires within a minute",
    ],
    ["[]", "malformed", "answered credentials without AccessKeyId, SecretAccessKey, Expiration"],
  ])("%j: %s", (document, fault, detail) => {
    const secrets = new SecretRegistry();
    const error = thrown(() => readCredentialAnswer(answer(document), secrets, NOW));
    expect(isCloudCallError(error) && error.fault).toBe(fault);
    expect(error.message).toContain(`IMDS credentials (role node) ${detail}`);
    expect(error.message).not.toContain("secret/key");
  });
});
