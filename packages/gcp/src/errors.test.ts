/** What a token source threw, as the provider reports it. */
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { toTokenSourceError } from "./errors.ts";

const WHAT = "access token for the node";
const TOKEN = "ya29.c.a-token-in-a-message-0123456789";

describe("toTokenSourceError", () => {
  it("a typed error (core's CloudCallError, a configuration error) passes through", () => {
    const cloud = new CloudCallError({
      endpoint: "GCE metadata token",
      fault: "throttled",
      detail: "throttled (HTTP 429)",
    });
    expect(toTokenSourceError(cloud, WHAT)).toBe(cloud);
    const config = new CredentialProviderError("CONFIG_INVALID", "x");
    expect(toTokenSourceError(config, WHAT)).toBe(config);
  });

  it.each([
    [
      new TypeError(`Cannot create property 'refresh_token' on string '{"access_token":"${TOKEN}"'`),
      "TypeError",
    ],
    [Object.assign(new Error(`request failed: ${TOKEN}`), { name: TOKEN }), "Error"],
    [`thrown string ${TOKEN}`, "string"],
    [null, "null"],
  ])("a foreign error (%s): INTERNAL naming only its class, never its message", (error, name) => {
    const typed = toTokenSourceError(error, WHAT);
    expect(typed.code).toBe("INTERNAL");
    expect(typed.message).toBe(`${WHAT}: the token source failed (${name})`);
    expect(typed.message).not.toContain(TOKEN);
  });

  it("after the deadline, the harness's timeout error", () => {
    const controller = new AbortController();
    const reason = new CredentialProviderError("TIMEOUT", "no answer within the deadline");
    controller.abort(reason);
    expect(toTokenSourceError(new Error("x"), WHAT, controller.signal)).toBe(reason);
    const other = new AbortController();
    other.abort();
    expect(toTokenSourceError(new Error("x"), WHAT, other.signal).code).toBe("TIMEOUT");
  });
});
