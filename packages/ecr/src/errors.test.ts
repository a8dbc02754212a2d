/**
 * SDK errors as the AWS SDK for JavaScript v3 throws them: service exceptions carry the AWS error
 * code as `name`, `$fault` and `$metadata` (HTTP status, request id, attempts); network failures
 * are Node errors with a `code` and the SDK's `$metadata`; the default credential chain throws
 * `CredentialsProviderError`; the endpoint resolver `EndpointError`.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import type { CloudCall } from "./errors.ts";
import { MISSING_CREDENTIALS_HINT, toCloudError } from "./errors.ts";

const ecr: CloudCall = { service: "ECR", operation: "GetAuthorizationToken", region: "us-west-2" };
const sts: CloudCall = { service: "STS", operation: "AssumeRoleWithWebIdentity", region: "eu-west-1" };
const REQUEST_ID = "5f1c2a4e-9b7d-4c3e-8a21-0d6f3b9e7c55";

function serviceError(name: string, message: string, status: number, attempts = 1): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: REQUEST_ID, attempts, totalRetryDelay: 0 },
  });
}

function networkError(code: string, message: string, attempts = 3): Error {
  return Object.assign(new Error(message), { code, $metadata: { attempts, totalRetryDelay: 612 } });
}

describe("toCloudError", () => {
  it.each([
    [
      "throttling, after the SDK's retries",
      serviceError("ThrottlingException", "Rate exceeded", 400, 3),
      ecr,
      "CLOUD_THROTTLED",
      "ECR GetAuthorizationToken (us-west-2): ThrottlingException: Rate exceeded (HTTP 400, 3 attempts)",
    ],
    [
      "STS throttling",
      serviceError("Throttling", "Rate exceeded", 400, 3),
      sts,
      "CLOUD_THROTTLED",
      "STS AssumeRoleWithWebIdentity (eu-west-1): Throttling: Rate exceeded (HTTP 400, 3 attempts)",
    ],
    [
      "HTTP 429 of any name",
      serviceError("UnknownError", "", 429, 3),
      ecr,
      "CLOUD_THROTTLED",
      "ECR GetAuthorizationToken (us-west-2): UnknownError (HTTP 429, 3 attempts)",
    ],
    [
      "access denied",
      serviceError(
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/node/i-0abc is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action",
        400,
      ),
      ecr,
      "CLOUD_AUTH_FAILED",
      "ECR GetAuthorizationToken (us-west-2): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/node/i-0abc is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action (HTTP 400)",
    ],
    [
      "STS access denied (the role's trust policy)",
      serviceError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403),
      sts,
      "CLOUD_AUTH_FAILED",
      "STS AssumeRoleWithWebIdentity (eu-west-1): AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity (HTTP 403)",
    ],
    [
      "a rejected web identity token",
      serviceError(
        "InvalidIdentityToken",
        "No OpenIDConnect provider found in your account for https://oidc.example",
        400,
      ),
      sts,
      "CLOUD_AUTH_FAILED",
      "STS AssumeRoleWithWebIdentity (eu-west-1): InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.example (HTTP 400)",
    ],
    [
      "expired credentials",
      serviceError("ExpiredTokenException", "The security token included in the request is expired", 400),
      ecr,
      "CLOUD_AUTH_FAILED",
      "ECR GetAuthorizationToken (us-west-2): ExpiredTokenException: The security token included in the request is expired (HTTP 400)",
    ],
    [
      "unknown access key",
      serviceError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
      ),
      ecr,
      "CLOUD_AUTH_FAILED",
      "ECR GetAuthorizationToken (us-west-2): UnrecognizedClientException: The security token included in the request is invalid. (HTTP 400)",
    ],
    [
      "any other client error",
      serviceError("InvalidParameterException", "Invalid parameter at 'registryIds'", 400),
      ecr,
      "CLOUD_AUTH_FAILED",
      "ECR GetAuthorizationToken (us-west-2): InvalidParameterException: Invalid parameter at 'registryIds' (HTTP 400)",
    ],
    [
      "a server error, after retries",
      serviceError("ServerException", "Internal error", 500, 3),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): ServerException: Internal error (HTTP 500, 3 attempts)",
    ],
    [
      "503 without a known name",
      serviceError("Unknown", "UnknownError", 503, 3),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): Unknown: UnknownError (HTTP 503, 3 attempts)",
    ],
    [
      "connection refused",
      networkError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443"),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443 (3 attempts)",
    ],
    [
      "no DNS",
      networkError("ENOTFOUND", "getaddrinfo ENOTFOUND api.ecr.us-west-2.amazonaws.com"),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): ENOTFOUND: getaddrinfo ENOTFOUND api.ecr.us-west-2.amazonaws.com (3 attempts)",
    ],
    [
      "a hanging endpoint",
      Object.assign(
        new Error(
          "@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.",
        ),
        { name: "TimeoutError", $metadata: { attempts: 3 } },
      ),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): no answer within 10000 ms (3 attempts)",
    ],
    [
      "an idle socket",
      Object.assign(
        new Error(
          "@smithy/node-http-handler - the request socket timed out after 5000 ms of inactivity (configured by client requestHandler).",
        ),
        { name: "TimeoutError", code: "ETIMEDOUT" },
      ),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): no answer within 5000 ms",
    ],
    [
      "an untrusted certificate",
      networkError("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain", 1),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): TLS: self-signed certificate in certificate chain (a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS)",
    ],
    [
      "a proxy that refuses the tunnel",
      new Error("proxy proxy.corp:3128 refused CONNECT to api.ecr.us-west-2.amazonaws.com:443: 403"),
      ecr,
      "CLOUD_UNAVAILABLE",
      "ECR GetAuthorizationToken (us-west-2): proxy proxy.corp:3128 refused CONNECT to api.ecr.us-west-2.amazonaws.com:443: 403",
    ],
    [
      "a FIPS host with a custom endpoint from the config file",
      Object.assign(new Error("Invalid Configuration: FIPS and custom endpoint are not supported"), {
        name: "EndpointError",
      }),
      ecr,
      "CONFIG_INVALID",
      "ECR GetAuthorizationToken (us-west-2): Invalid Configuration: FIPS and custom endpoint are not supported (a custom endpoint from AWS_ENDPOINT_URL* or endpoint_url cannot be combined with a FIPS or dual-stack registry host)",
    ],
    [
      "an answer that cannot be parsed",
      Object.assign(
        new Error(
          "Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
        ),
        { $metadata: { httpStatusCode: 200, requestId: REQUEST_ID, attempts: 1 } },
      ),
      ecr,
      "INVALID_RESPONSE",
      "ECR GetAuthorizationToken (us-west-2): the answer could not be read (HTTP 200)",
    ],
    [
      "a bug",
      new TypeError("Cannot read properties of undefined (reading 'authorizationToken')"),
      ecr,
      "INTERNAL",
      "ECR GetAuthorizationToken (us-west-2): TypeError: Cannot read properties of undefined (reading 'authorizationToken')",
    ],
  ])("%s", (_, error, call, code, message) => {
    const typed = toCloudError(error, call);
    expect({ code: typed.code, message: typed.message }).toEqual({ code, message });
    expect(typed.message).not.toContain(REQUEST_ID);
    expect(typed.message).not.toMatch(/\n|\s at /);
  });

  it("missing credentials say how to give the node some", () => {
    const error = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
      tryNextLink: false,
    });
    const typed = toCloudError(error, ecr);
    expect(typed.code).toBe("CLOUD_AUTH_FAILED");
    expect(typed.message).toBe(
      `no AWS credentials for ECR GetAuthorizationToken (us-west-2): Could not load credentials from any providers; ${MISSING_CREDENTIALS_HINT}`,
    );
    expect(typed.message).toMatch(
      /instance profile.*AWS_ACCESS_KEY_ID.*AWS_PROFILE.*AWS_WEB_IDENTITY_TOKEN_FILE/,
    );
  });

  it("the SDK's own exception classes are read the same way", async () => {
    const { ServerException } = await import("@aws-sdk/client-ecr");
    const error = new ServerException({
      message: "Internal error",
      $metadata: { httpStatusCode: 500, requestId: REQUEST_ID, attempts: 3 },
    });
    expect(toCloudError(error, ecr).message).toBe(
      "ECR GetAuthorizationToken (us-west-2): ServerException: Internal error (HTTP 500, 3 attempts)",
    );
  });

  it("keeps one line, without request ids", () => {
    const error = serviceError(
      "AccessDeniedException",
      `Access denied (Service: AmazonECR; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${REQUEST_ID})\n    at handler (/snapshot/x.js:1:2)`,
      400,
    );
    expect(toCloudError(error, ecr).message).toBe(
      "ECR GetAuthorizationToken (us-west-2): AccessDeniedException: Access denied (HTTP 400)",
    );
  });

  it("cuts a very long message", () => {
    const typed = toCloudError(serviceError("AccessDeniedException", "x".repeat(5000), 400), ecr);
    expect(typed.message.length).toBeLessThan(400);
  });

  it("passes typed errors through", () => {
    const typed = new CredentialProviderError("CLOUD_AUTH_FAILED", "as it was");
    expect(toCloudError(typed, ecr)).toBe(typed);
  });

  it("after the deadline, reports the harness's timeout, not the SDK's abort", () => {
    const controller = new AbortController();
    const timeout = new CredentialProviderError(
      "TIMEOUT",
      "no answer within the deadline of 50s (--deadline)",
    );
    controller.abort(timeout);
    const aborted = Object.assign(new Error("Request aborted"), { name: "AbortError" });
    expect(toCloudError(aborted, ecr, controller.signal)).toBe(timeout);
    expect(toCloudError(networkError("ECONNRESET", "socket hang up"), ecr, controller.signal)).toBe(timeout);
    const other = new AbortController();
    other.abort(new Error("elsewhere"));
    expect(toCloudError(aborted, ecr, other.signal).code).toBe("TIMEOUT");
    expect(toCloudError(aborted, ecr).code).toBe("TIMEOUT");
  });
});
