/** google-auth-library's errors, as the provider reports them. */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { cleanMessage, toGoogleError } from "./errors.ts";

const WHAT = "access token for the node";

function gaxiosError(status: number, data: unknown, message = `Request failed with status code ${status}`) {
  return Object.assign(new Error(message), { name: "GaxiosError", status, response: { status, data } });
}

describe("toGoogleError", () => {
  it.each([
    [
      gaxiosError(429, { error: { code: 429, status: "RESOURCE_EXHAUSTED", message: "Quota" } }),
      "CLOUD_THROTTLED",
      /RESOURCE_EXHAUSTED: Quota \(HTTP 429\)/,
    ],
    [gaxiosError(503, "unavailable"), "CLOUD_UNAVAILABLE", /HTTP 503/],
    [
      gaxiosError(400, { error: "invalid_grant", error_description: "Invalid JWT" }),
      "CLOUD_AUTH_FAILED",
      /invalid_grant: Invalid JWT \(HTTP 400\)/,
    ],
    [
      gaxiosError(
        403,
        JSON.stringify({
          error: { status: "PERMISSION_DENIED", message: "iam.serviceAccounts.getAccessToken denied" },
        }),
      ),
      "CLOUD_AUTH_FAILED",
      /PERMISSION_DENIED: iam.serviceAccounts.getAccessToken/,
    ],
    [gaxiosError(404, ""), "CLOUD_AUTH_FAILED", /HTTP 404/],
    [
      new RangeError(
        "Invalid response from metadata service: incorrect Metadata-Flavor header. Expected 'Google', got no header",
      ),
      "INVALID_RESPONSE",
      /not the metadata server/,
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED 169.254.169.254:80"), { code: "ECONNREFUSED" }),
      "CLOUD_UNAVAILABLE",
      /ECONNREFUSED/,
    ],
    [
      Object.assign(new Error("x"), {
        cause: Object.assign(new Error("self-signed"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }),
      }),
      "CLOUD_UNAVAILABLE",
      /NODE_EXTRA_CA_CERTS/,
    ],
    [Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }), "CONFIG_INVALID", /no such file/],
    [
      new Error(
        "Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication",
      ),
      "CLOUD_AUTH_FAILED",
      /GOOGLE_APPLICATION_CREDENTIALS/,
    ],
    [
      new Error("The incoming JSON object does not contain a client_email field"),
      "CONFIG_INVALID",
      /client_email/,
    ],
    [Object.assign(new Error("aborted"), { name: "AbortError" }), "TIMEOUT", /aborted/],
    [new TypeError("x is not a function"), "INTERNAL", /TypeError/],
    [new Error("something else"), "CLOUD_AUTH_FAILED", /something else/],
  ])("%s → %s", (error, code, message) => {
    const typed = toGoogleError(error, WHAT);
    expect(typed.code).toBe(code);
    expect(typed.message).toMatch(message);
    expect(typed.message.startsWith(`${WHAT}: `)).toBe(true);
  });

  it("a typed error passes through; one that is a cause keeps its code", () => {
    const typed = new CredentialProviderError("CLOUD_THROTTLED", "GET http://x answered 429");
    expect(toGoogleError(typed, WHAT)).toBe(typed);
    const wrapped = Object.assign(new Error("Could not refresh access token: GET http://x answered 429"), {
      cause: typed,
    });
    expect(toGoogleError(wrapped, WHAT)).toMatchObject({
      code: "CLOUD_THROTTLED",
      message: `${WHAT}: GET http://x answered 429`,
    });
  });

  it("after the deadline, the harness's timeout error", () => {
    const controller = new AbortController();
    const reason = new CredentialProviderError("TIMEOUT", "no answer within the deadline");
    controller.abort(reason);
    expect(toGoogleError(new Error("x"), WHAT, controller.signal)).toBe(reason);
    const other = new AbortController();
    other.abort();
    expect(toGoogleError(new Error("x"), WHAT, other.signal).code).toBe("TIMEOUT");
  });
});

describe("cleanMessage", () => {
  it("keeps the first line, drops links, cuts long text", () => {
    expect(cleanMessage("first\nsecond")).toBe("first");
    expect(cleanMessage("Bad. For more details, see https://cloud.google.com/x")).toBe("Bad.");
    expect(cleanMessage("x".repeat(400))).toHaveLength(301);
  });
});
