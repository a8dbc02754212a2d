/**
 * gcp.json's `dockercfgAuthField` vectors (decodeOk, decodeError), the Go plugin's dockercfg
 * parsing rules, and the selection of the entries that apply to an image.
 */
import { readFileSync } from "node:fs";
import { CredentialProviderError, lookupAuth, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { decodeDockerConfigAuth, parseDockerConfig, selectCredentials } from "./dockercfg.ts";

interface AuthVectors {
  decodeOk: Array<{ auth: string; username: string; password: string }>;
  decodeError: string[];
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/gcp.json", import.meta.url), "utf8"),
) as { dockercfgAuthField: AuthVectors };

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("gcp.json dockercfgAuthField", () => {
  it.each(vectors.dockercfgAuthField.decodeOk.map((v) => [JSON.stringify(v.auth), v] as const))(
    "decodeOk %s",
    (_, vector) => {
      expect(decodeDockerConfigAuth(vector.auth)).toEqual({
        username: vector.username,
        password: vector.password,
      });
    },
  );

  it.each(vectors.dockercfgAuthField.decodeError)("decodeError %j", (auth) => {
    expect(() => decodeDockerConfigAuth(auth)).toThrow(CredentialProviderError);
  });

  it("auth wins over username and password", () => {
    const config = parseDockerConfig(
      JSON.stringify({ "gcr.io": { username: "u", password: "p", auth: "Zm9vOmJhcg==" } }),
      "test",
    );
    expect(config["gcr.io"]).toEqual({ username: "foo", password: "bar" });
  });
});

describe("decodeDockerConfigAuth", () => {
  it("splits at the first colon", () => {
    expect(decodeDockerConfigAuth(b64("user:pa:ss"))).toEqual({ username: "user", password: "pa:ss" });
    expect(decodeDockerConfigAuth(b64('_json_key:{"a":1}'))).toEqual({
      username: "_json_key",
      password: '{"a":1}',
    });
    expect(decodeDockerConfigAuth(b64(":"))).toEqual({ username: "", password: "" });
  });

  it.each([
    ["padding in the unpadded form", "Zm9vOmJhcg=x"],
    ["wrong padding", "Zm9vOmJhcg="],
    ["a space", "Zm9vOm Jhcg=="],
    ["trailing space after padding", "Zm9vOmJhcg== "],
    ["URL-safe alphabet", "-_-_"],
    ["one character too many", "Zm9vOmJhcgAAA"],
  ])("refuses %s", (_, auth) => {
    expect(() => decodeDockerConfigAuth(auth)).toThrow(CredentialProviderError);
  });

  it("never puts the field in the message", () => {
    const secret = "c2VjcmV0LXRva2Vu";
    try {
      decodeDockerConfigAuth(secret);
      throw new Error("expected an error");
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
      expect((error as CredentialProviderError).code).toBe("CONFIG_INVALID");
    }
  });
});

describe("parseDockerConfig", () => {
  it("matches field names case-insensitively and registers every password", () => {
    const secrets = new SecretRegistry();
    const config = parseDockerConfig(
      JSON.stringify({
        "https://gcr.io": { Username: "_token", PASSWORD: "ya29.pass-one-0123", email: "a@b" },
        "us-docker.pkg.dev": { auth: b64("u2:pass-two-0123") },
        "gone.gcr.io": null,
      }),
      "instance attribute google-dockercfg",
      secrets,
    );
    expect(config).toEqual({
      "https://gcr.io": { username: "_token", password: "ya29.pass-one-0123" },
      "us-docker.pkg.dev": { username: "u2", password: "pass-two-0123" },
    });
    expect(secrets.reveals("ya29.pass-one-0123")).toBe(true);
    expect(secrets.reveals("pass-two-0123")).toBe(true);
  });

  it("accepts a config.json with auths", () => {
    expect(parseDockerConfig(JSON.stringify({ auths: { "gcr.io": { auth: "Zm9vOmJhcg" } } }), "t")).toEqual({
      "gcr.io": { username: "foo", password: "bar" },
    });
  });

  it.each([
    ["not JSON", "{", /is not JSON/],
    ["an array", "[]", /not a JSON object/],
    ["an entry that is not an object", JSON.stringify({ "gcr.io": "x" }), /"gcr.io" is not an object/],
    [
      "a field that is not a string",
      JSON.stringify({ "gcr.io": { username: 1 } }),
      /username of "gcr.io" is not a string/,
    ],
    ["a malformed auth", JSON.stringify({ "gcr.io": { auth: "pants" } }), /"gcr.io": the auth field/],
  ])("refuses %s", (_, text, message) => {
    expect(() => parseDockerConfig(text, "src")).toThrow(message);
    try {
      parseDockerConfig(text, "src");
    } catch (error) {
      expect((error as CredentialProviderError).code).toBe("CONFIG_INVALID");
    }
  });
});

describe("selectCredentials", () => {
  const config = parseDockerConfig(
    JSON.stringify({
      "https://gcr.io/v1/": { auth: b64("host:pw-host") },
      "gcr.io/team-a": { auth: b64("team:pw-team") },
      "*.pkg.dev": { auth: b64("ar:pw-ar") },
      "docker.io": { auth: b64("hub:pw-hub") },
      "us.gcr.io": { username: "", password: "" },
    }),
    "t",
  );

  it("answers only the entries that apply, most specific first, keyed by their registry and path", () => {
    const selected = selectCredentials(config, "gcr.io/team-a/app");
    expect(selected.auth).toEqual({
      "gcr.io/team-a": { username: "team", password: "pw-team" },
      "gcr.io": { username: "host", password: "pw-host" },
    });
    expect(Object.keys(selected.auth)).toEqual(["gcr.io/team-a", "gcr.io"]);
    expect(selected.pathScoped).toBe(true);
  });

  it("agrees with the kubelet's lookupAuth", () => {
    for (const image of [
      "gcr.io/team-a/app",
      "gcr.io/team-b/app",
      "us-docker.pkg.dev/p/r/i",
      "docker.io/library/x",
    ]) {
      expect(Object.keys(selectCredentials(config, image).auth).length).toBe(
        lookupAuth(config, image).filter(({ value }) => value.username || value.password).length,
      );
    }
    expect(selectCredentials(config, "us-docker.pkg.dev/p/r/i").auth).toEqual({
      "*.pkg.dev": { username: "ar", password: "pw-ar" },
    });
  });

  it("skips entries without credentials, and answers nothing for an image no entry covers", () => {
    expect(selectCredentials(config, "us.gcr.io/p/i").auth).toEqual({});
    expect(selectCredentials(config, "eu.gcr.io/p/i").auth).toEqual({});
  });

  it("is registry-scoped when no entry has a path", () => {
    const hostOnly = parseDockerConfig(JSON.stringify({ "gcr.io": { auth: "Zm9vOmJhcg==" } }), "t");
    expect(selectCredentials(hostOnly, "gcr.io/p/i")).toEqual({
      auth: { "gcr.io": { username: "foo", password: "bar" } },
      pathScoped: false,
    });
  });
});
