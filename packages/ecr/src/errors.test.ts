/**
 * Errors as they reach the provider: core's `CloudCallError` from the request handler (transport
 * failures, retries exhausted, answers too large), and the AWS SDK's service exceptions for the
 * 4xx answers core hands back (`name` is the AWS error code, `$fault` and `$metadata` the HTTP
 * status and request id). Only those types are read; message text never is.
 */
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { exhaustedThrottling } from "../testdata/fixtures.ts";
import { endpointOf, toCloudError } from "./errors.ts";

const ECR = endpointOf({ service: "ECR", operation: "GetAuthorizationToken", region: "us-west-2" });
const STS = endpointOf({ service: "STS", operation: "AssumeRoleWithWebIdentity", region: "eu-west-1" });
const REQUEST_ID = "5f1c2a4e-9b7d-4c3e-8a21-0d6f3b9e7c55";
const AWS_MESSAGE = "User: arn:aws:sts::123456789012:assumed-role/node/i-0abc is not authorized";

function serviceError(name: string, status: number, message = AWS_MESSAGE): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: REQUEST_ID, attempts: 1, totalRetryDelay: 0 },
  });
}

describe("toCloudError", () => {
  it.each([
    [
      "throttling",
      serviceError("ThrottlingException", 400),
      ECR,
      "CLOUD_THROTTLED",
      `${ECR} throttled (ThrottlingException, HTTP 400)`,
    ],
    [
      "STS throttling",
      serviceError("Throttling", 400),
      STS,
      "CLOUD_THROTTLED",
      `${STS} throttled (Throttling, HTTP 400)`,
    ],
    [
      "HTTP 429 of any name",
      serviceError("UnknownError", 429),
      ECR,
      "CLOUD_THROTTLED",
      `${ECR} throttled (UnknownError, HTTP 429)`,
    ],
    [
      "access denied",
      serviceError("AccessDeniedException", 400),
      ECR,
      "CLOUD_AUTH_FAILED",
      `${ECR} refused the call (AccessDeniedException, HTTP 400)`,
    ],
    [
      "STS access denied (the role's trust policy)",
      serviceError("AccessDenied", 403),
      STS,
      "CLOUD_AUTH_FAILED",
      `${STS} refused the call (AccessDenied, HTTP 403)`,
    ],
    [
      "a rejected web identity token",
      serviceError("InvalidIdentityToken", 400),
      STS,
      "CLOUD_AUTH_FAILED",
      `${STS} refused the call (InvalidIdentityToken, HTTP 400)`,
    ],
    [
      "expired credentials",
      serviceError("ExpiredTokenException", 400),
      ECR,
      "CLOUD_AUTH_FAILED",
      `${ECR} refused the call (ExpiredTokenException, HTTP 400)`,
    ],
    [
      "any other client error",
      serviceError("InvalidParameterException", 400),
      ECR,
      "CLOUD_AUTH_FAILED",
      `${ECR} refused the call (InvalidParameterException, HTTP 400)`,
    ],
    [
      "a server error",
      serviceError("ServerException", 500),
      ECR,
      "CLOUD_UNAVAILABLE",
      `${ECR} failed (ServerException, HTTP 500)`,
    ],
    [
      "503 without a known name",
      serviceError("Unknown", 503),
      ECR,
      "CLOUD_UNAVAILABLE",
      `${ECR} failed (Unknown, HTTP 503)`,
    ],
  ])(
    "%s: the endpoint, the AWS error code and the status, never AWS's message",
    (_, error, endpoint, code, message) => {
      const typed = toCloudError(error, endpoint);
      expect({ code: typed.code, message: typed.message }).toEqual({ code, message });
      expect(typed).toBeInstanceOf(CloudCallError);
      expect(typed.message).not.toContain(REQUEST_ID);
      expect(typed.message).not.toContain("not authorized");
    },
  );

  it("the SDK's own exception classes are read the same way", async () => {
    const { ServerException } = await import("@aws-sdk/client-ecr");
    const error = new ServerException({
      message: "Internal error",
      $metadata: { httpStatusCode: 500, requestId: REQUEST_ID, attempts: 1 },
    });
    expect(toCloudError(error, ECR).message).toBe(`${ECR} failed (ServerException, HTTP 500)`);
  });

  it("an answer the SDK could not parse is malformed, and its message (which offers the raw response) is not read", () => {
    const error = Object.assign(
      new Error(
        "Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
      ),
      { $metadata: { httpStatusCode: 200, requestId: REQUEST_ID, attempts: 1 } },
    );
    const typed = toCloudError(error, ECR);
    expect({ code: typed.code, message: typed.message }).toEqual({
      code: "INVALID_RESPONSE",
      message: `${ECR} answered HTTP 200 with a body that could not be read`,
    });
  });

  it("core's CloudCallError passes through untouched, whatever the SDK added to it", () => {
    const error = exhaustedThrottling(ECR);
    // The SDK's retry middleware writes $metadata onto whatever its handler threw.
    Object.assign(error, { $metadata: { attempts: 1, totalRetryDelay: 0 } });
    expect(toCloudError(error, "elsewhere")).toBe(error);
    expect(error.message).toBe(`${ECR} throttled (ThrottlingException, HTTP 400) for 48 s (12 attempts)`);
  });

  it("passes other typed errors through", () => {
    const typed = new CredentialProviderError("CLOUD_AUTH_FAILED", "as it was");
    expect(toCloudError(typed, ECR)).toBe(typed);
  });

  it("reads no message text: an untyped error is INTERNAL, however its message reads", () => {
    const proxyLike = new Error(
      "proxy proxy.corp:3128 refused CONNECT to api.ecr.us-west-2.amazonaws.com:443: 503",
    );
    expect(toCloudError(proxyLike, ECR).code).toBe("INTERNAL");
    const networkLike = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(toCloudError(networkLike, ECR).code).toBe("INTERNAL");
  });

  it("a bug names the call and the error, in one line", () => {
    const typed = toCloudError(
      new TypeError("Cannot read properties of undefined (reading 'x')\n    at f (x.js:1:2)"),
      ECR,
    );
    expect({ code: typed.code, message: typed.message }).toEqual({
      code: "INTERNAL",
      message: `${ECR}: TypeError: Cannot read properties of undefined (reading 'x')`,
    });
  });

  it("a FIPS host with a custom endpoint from the config file is a configuration error", () => {
    const error = Object.assign(
      new Error("Invalid Configuration: FIPS and custom endpoint are not supported"),
      {
        name: "EndpointError",
      },
    );
    const typed = toCloudError(error, ECR);
    expect(typed.code).toBe("CONFIG_INVALID");
    expect(typed.message).toMatch(/cannot be combined with a FIPS or dual-stack registry host/);
  });

  it("after the deadline, reports the harness's timeout, not the SDK's abort", () => {
    const controller = new AbortController();
    const timeout = new CredentialProviderError(
      "TIMEOUT",
      "no answer within the deadline of 50s (--deadline)",
    );
    controller.abort(timeout);
    const aborted = Object.assign(new Error("Request aborted"), { name: "AbortError" });
    expect(toCloudError(aborted, ECR, controller.signal)).toBe(timeout);
    expect(toCloudError(serviceError("ServerException", 500), ECR, controller.signal)).toBe(timeout);
    const other = new AbortController();
    other.abort(new Error("elsewhere"));
    expect(toCloudError(aborted, ECR, other.signal).code).toBe("TIMEOUT");
    expect(toCloudError(aborted, ECR).code).toBe("TIMEOUT");
  });
});
