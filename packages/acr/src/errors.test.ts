import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { cleanMessage, toEntraError } from "./errors.ts";

const WHAT = "Entra token for managed identity from https://login.microsoftonline.com";

const authError = (statusCode: number, error: string, errorDescription: string) =>
  Object.assign(new Error(`${error}(status code ${statusCode}).\nMore details:\n${errorDescription}`), {
    name: "AuthenticationError",
    statusCode,
    errorResponse: { error, errorDescription },
  });

describe("toEntraError", () => {
  it.each([
    [
      "an AADSTS refusal",
      authError(
        401,
        "invalid_client",
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: 1b2c Correlation ID: 3d4e Timestamp: 2025-06-01 00:00:00Z",
      ),
      "CLOUD_AUTH_FAILED",
      `${WHAT}: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. (HTTP 401, invalid_client)`,
    ],
    [
      "an unknown application",
      authError(
        400,
        "unauthorized_client",
        "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.\r\nTrace ID: 1",
      ),
      "CLOUD_AUTH_FAILED",
      `${WHAT}: AADSTS700016: Application with identifier 'x' was not found in the directory 'y'. (HTTP 400, unauthorized_client)`,
    ],
    [
      "throttling",
      authError(429, "too_many_requests", "Too many requests"),
      "CLOUD_THROTTLED",
      "(HTTP 429, too_many_requests)",
    ],
    [
      "AADSTS50196",
      authError(
        400,
        "invalid_request",
        "AADSTS50196: The server terminated an operation because it encountered a client request loop.",
      ),
      "CLOUD_THROTTLED",
      "AADSTS50196",
    ],
    [
      "a 5xx",
      authError(503, "temporarily_unavailable", "AADSTS90033: A transient error has occurred."),
      "CLOUD_UNAVAILABLE",
      "AADSTS90033",
    ],
    [
      "no managed identity endpoint",
      Object.assign(
        new Error(
          "ManagedIdentityCredential: Authentication failed. Message Attempted to use managed identity, but no endpoint could be reached.",
        ),
        {
          name: "CredentialUnavailableError",
        },
      ),
      "CLOUD_AUTH_FAILED",
      "no endpoint could be reached",
    ],
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 169.254.169.254:80"), {
        name: "RestError",
        code: "ECONNREFUSED",
      }),
      "CLOUD_UNAVAILABLE",
      "ECONNREFUSED",
    ],
    [
      "a TLS failure",
      Object.assign(new Error("self-signed certificate in certificate chain"), {
        name: "RestError",
        code: "SELF_SIGNED_CERT_IN_CHAIN",
      }),
      "CLOUD_UNAVAILABLE",
      "NODE_EXTRA_CA_CERTS",
    ],
    [
      "an abort",
      Object.assign(new Error("The operation was aborted."), { name: "AbortError" }),
      "TIMEOUT",
      "aborted",
    ],
    ["a bug", new TypeError("x is not a function"), "INTERNAL", "TypeError: x is not a function"],
    [
      "an aggregate",
      Object.assign(new Error("ChainedTokenCredential authentication failed."), {
        name: "AggregateAuthenticationError",
        errors: [
          authError(401, "invalid_client", "AADSTS700027: Client assertion failed signature validation."),
        ],
      }),
      "CLOUD_AUTH_FAILED",
      "AADSTS700027",
    ],
    ["a string", "weird", "CLOUD_AUTH_FAILED", `${WHAT}: weird`],
  ])("%s", (_name, error, code, message) => {
    const typed = toEntraError(error, WHAT);
    expect(typed.code).toBe(code);
    expect(typed.message).toContain(message);
    expect(typed.message).not.toMatch(/Trace ID|Correlation ID|\n/);
  });

  it("passes typed errors through, and reports the deadline's own error once aborted", () => {
    const typed = new CredentialProviderError("CONFIG_INVALID", "x");
    expect(toEntraError(typed, WHAT)).toBe(typed);
    const controller = new AbortController();
    const deadline = new CredentialProviderError("TIMEOUT", "no answer within the deadline");
    controller.abort(deadline);
    expect(toEntraError(new Error("socket closed"), WHAT, controller.signal)).toBe(deadline);
  });
});

describe("cleanMessage", () => {
  it("keeps the first line, without ids, timestamps and links, at most 300 characters", () => {
    expect(cleanMessage("AADSTS1: bad. Trace ID: a Correlation ID: b Timestamp: c\nmore")).toBe(
      "AADSTS1: bad.",
    );
    expect(cleanMessage("x To troubleshoot, visit https://aka.ms/x.")).toBe("x");
    expect(
      cleanMessage(
        "network_error: Network request failed. See https://aka.ms/msal.js.errors#network_error for details",
      ),
    ).toBe("network_error: Network request failed.");
    expect(cleanMessage("y".repeat(400))).toHaveLength(301);
  });
});
