import { describe, expect, it } from "vitest";
import { DECODE_ERROR, decodePluginResponse, invalidCacheKeyTypeError, passwordsIn } from "./decode.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1";
const response = (fields: Record<string, unknown>) =>
  JSON.stringify({ kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Registry", ...fields });
const decode = (text: string, apiVersion = V1) => decodePluginResponse(text, apiVersion);
const errorOf = (text: string, apiVersion = V1) => {
  const result = decode(text, apiVersion);
  return result.ok ? undefined : result.error;
};

describe("decodePluginResponse", () => {
  it("decodes protocol.json's response example", () => {
    const text =
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"10m0s","auth":{"*.registry.io":{"username":"user","password":"password"}}}\n';
    expect(decode(text)).toEqual({
      ok: true,
      response: {
        apiVersion: V1,
        cacheKeyType: "Registry",
        cacheDuration: "10m0s",
        auth: { "*.registry.io": { username: "user", password: "password" } },
      },
    });
  });

  it("fills in Go's zero values: null is absent, a missing username or password is empty", () => {
    const text = response({
      cacheDuration: null,
      auth: { a: { username: "u" }, b: null, c: { password: null } },
    });
    expect(decode(text)).toEqual({
      ok: true,
      response: {
        apiVersion: V1,
        cacheKeyType: "Registry",
        auth: {
          a: { username: "u", password: "" },
          b: { username: "", password: "" },
          c: { username: "", password: "" },
        },
      },
    });
    expect(decode(response({ auth: null }))).toMatchObject({ ok: true, response: { auth: {} } });
  });

  it("leaves the cacheKeyType to the kubelet's later check", () => {
    expect(decode(response({ cacheKeyType: "Repository" }))).toMatchObject({
      ok: true,
      response: { cacheKeyType: "Repository" },
    });
    expect(decode(response({ cacheKeyType: undefined }))).toMatchObject({
      ok: true,
      response: { cacheKeyType: "" },
    });
    expect(invalidCacheKeyTypeError("Repository")).toBe(
      'credential provider plugin did not return a valid cacheKeyType: "Repository"',
    );
    expect(errorOf(response({ cacheKeyType: 1 }))).toBe(
      `${DECODE_ERROR} [cacheKeyType: expected string, got number]`,
    );
  });

  it("reads the group, version and kind first, with encoding/json's errors", () => {
    expect(errorOf("[]")).toBe(
      'error reading GVK from response: couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
    );
    expect(errorOf(response({ apiVersion: 1 }))).toBe(
      "error reading GVK from response: couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .apiVersion of type string",
    );
    expect(errorOf(response({ apiVersion: "a/b/c" }))).toBe(
      "error reading GVK from response: unexpected GroupVersion string: a/b/c",
    );
  });

  it("requires the configured apiVersion", () => {
    const mismatch = (actual: string) =>
      `apiVersion from credential plugin response did not match expected apiVersion:${V1BETA1}, actual apiVersion:${actual}`;
    expect(errorOf(response({}), V1BETA1)).toBe(mismatch(V1));
    expect(errorOf(response({ apiVersion: undefined }), V1BETA1)).toBe(mismatch(""));
    expect(errorOf("null", V1BETA1)).toBe(mismatch(""));
    expect(decode(response({ apiVersion: V1BETA1 }), V1BETA1).ok).toBe(true);
  });

  it("decodes strictly, naming fields but never values", () => {
    expect(errorOf(response({ kind: undefined }))).toBe(`${DECODE_ERROR} [Object 'Kind' is missing]`);
    expect(errorOf(response({ auth: { r: { username: "u", password: "hunter2", auth: "x" } } }))).toBe(
      `${DECODE_ERROR} [unknown field "auth.r.auth"]`,
    );
    expect(errorOf(response({ auth: { r: { username: 1, password: "hunter2" } } }))).toBe(
      `${DECODE_ERROR} [auth.r.username: expected string, got number]`,
    );
    expect(errorOf(response({ cacheDuration: "" }))).toBe(
      `${DECODE_ERROR} [cacheDuration: time: invalid duration ""]`,
    );
    expect(errorOf(response({ cacheDuration: "1d" }))).toBe(
      `${DECODE_ERROR} [cacheDuration: time: unknown unit "d" in duration "1d"]`,
    );
    expect(errorOf(response({ auth: [] }))).toMatch(
      /^error decoding credential provider plugin response from stdout \[auth: /,
    );
    expect(errorOf(response({ cacheDuration: "1d" }))).not.toContain("hunter2");
  });

  it("finds passwords in anything JSON, for redaction", () => {
    expect(
      passwordsIn(response({ auth: { a: { password: "p1" }, b: { password: 2 }, c: null }, extra: 1 })),
    ).toEqual(["p1"]);
    expect(passwordsIn("not json")).toEqual([]);
  });
});
