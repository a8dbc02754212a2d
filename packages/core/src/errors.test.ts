import { describe, expect, it } from "vitest";
import { errorCodeOf, networkErrorCodes, tlsErrorCodes } from "./errors.ts";

describe("errorCodeOf", () => {
  it("finds the code on the error or on a wrapped cause", () => {
    const socket = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(errorCodeOf(socket)).toBe("ECONNRESET");
    expect(
      errorCodeOf(new Error("sdk failed", { cause: new Error("fetch failed", { cause: socket }) })),
    ).toBe("ECONNRESET");
  });

  it("gives undefined for errors without a string code, and for non-errors", () => {
    expect(errorCodeOf(Object.assign(new Error("x"), { code: 42 }))).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
    expect(errorCodeOf("text")).toBeUndefined();
  });

  it("classifies network and certificate codes apart", () => {
    expect(networkErrorCodes.has("ENOTFOUND")).toBe(true);
    expect(tlsErrorCodes.has("UNABLE_TO_VERIFY_LEAF_SIGNATURE")).toBe(true);
    expect([...networkErrorCodes].some((code) => tlsErrorCodes.has(code))).toBe(false);
  });
});
