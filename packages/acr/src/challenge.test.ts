import { readFileSync } from "node:fs";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_CHALLENGE_LENGTH, parseBearerChallenge, parseChallenges } from "./challenge.ts";

const vectors: {
  challengeParsing: Array<{
    status: number;
    headers: string[];
    result: string | { realm: string; service: string };
  }>;
} = JSON.parse(readFileSync(new URL("../../../testdata/vectors/acr.json", import.meta.url), "utf8"));

/** The typed error a call throws, or the thrown value if it is anything else. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("challengeParsing (acr.json vectors)", () => {
  it.each(vectors.challengeParsing.map((v) => [v.status, JSON.stringify(v.headers), v] as const))(
    "status %i, headers %s",
    (status, _headers, vector) => {
      const run = () => parseBearerChallenge(status, vector.headers);
      if (typeof vector.result === "string") {
        const error = thrown(run);
        expect(error).toBeInstanceOf(CredentialProviderError);
        expect((error as CredentialProviderError).code).toBe("INVALID_RESPONSE");
        expect((error as Error).message).toContain(vector.result.replace(/^error: /, ""));
      } else {
        expect(run()).toMatchObject(vector.result);
      }
    },
  );
});

describe("parseBearerChallenge", () => {
  const ok = 'Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"';

  it("reads quoted and token values, escapes, spaces and any case", () => {
    expect(
      parseBearerChallenge(
        401,
        'bearer  Realm = "https://r.azurecr.io/oauth2/token" , SERVICE=r.azurecr.io, scope="a\\"b"',
      ),
    ).toEqual({
      realm: "https://r.azurecr.io/oauth2/token",
      service: "r.azurecr.io",
      params: { realm: "https://r.azurecr.io/oauth2/token", service: "r.azurecr.io", scope: 'a"b' },
    });
  });

  it("finds the Bearer challenge among several, in one header or many", () => {
    expect(parseBearerChallenge(401, `Basic realm="x", ${ok}`).service).toBe("r.azurecr.io");
    expect(parseBearerChallenge(401, ['Basic realm="x"', ok]).service).toBe("r.azurecr.io");
    expect(parseBearerChallenge(401, `Negotiate abc123==, ${ok}`).service).toBe("r.azurecr.io");
  });

  it.each([
    ["two Bearer challenges", [ok, ok], "more than one Bearer challenge"],
    ["a duplicate realm", ['Bearer realm="a",realm="b",service="s"'], "appears twice"],
    ["an unterminated quote", ['Bearer service="s", realm="https://x'], "unterminated quoted string"],
    ["a value missing", ["Bearer service=s, realm="], "has no value"],
    ["junk after a value", ['Bearer realm="a" junk, service="s"'], "expected a comma"],
    ["a header without a space (the Go plugin panics)", ["Bearer"], "no valid challenge"],
    ["only commas", [",,,"], "no valid challenge"],
    ["a control character", ['Bearer realm="a\u0001",service="s"'], "control character"],
    ["a huge header", [`Bearer realm="${"a".repeat(MAX_CHALLENGE_LENGTH)}",service="s"`], "longer than"],
  ])("refuses %s", (_name, headers, reason) => {
    const error = thrown(() => parseBearerChallenge(401, headers));
    expect(error).toBeInstanceOf(CredentialProviderError);
    expect((error as CredentialProviderError).code).toBe("INVALID_RESPONSE");
    expect((error as Error).message).toContain(reason);
  });

  it("parseChallenges lists every challenge, token68 ones without params", () => {
    expect(parseChallenges('Negotiate abc==, Bearer realm="r", Basic')).toEqual([
      { scheme: "Negotiate", params: {} },
      { scheme: "Bearer", params: { realm: "r" } },
      { scheme: "Basic", params: {} },
    ]);
    expect(thrown(() => parseChallenges("=")) as CredentialProviderError).toMatchObject({
      code: "INVALID_RESPONSE",
    });
  });
});

describe("fuzzed Www-Authenticate headers", () => {
  /** Either a challenge or a typed error: never anything else thrown, never a hang. */
  const total = (status: number, headers: string | string[] | undefined) => {
    try {
      const challenge = parseBearerChallenge(status, headers);
      expect(typeof challenge.realm).toBe("string");
      expect(challenge.realm).not.toBe("");
      expect(challenge.service).not.toBe("");
    } catch (error) {
      expect(error).toBeInstanceOf(CredentialProviderError);
      expect((error as CredentialProviderError).code).toBe("INVALID_RESPONSE");
      expect((error as Error).message).not.toContain("\n");
    }
  };

  it("arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (header) => total(401, header)),
      { numRuns: 2000 },
    );
  });

  it("arbitrary header lists and statuses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999 }),
        fc.option(fc.array(fc.string({ maxLength: 80 }), { maxLength: 4 }), { nil: undefined }),
        (status, headers) => total(status, headers),
      ),
      { numRuns: 1000 },
    );
  });

  // Near-misses: the grammar's own pieces, shuffled.
  const piece = fc.constantFrom(
    "Bearer",
    "bearer",
    "Basic",
    " ",
    "  ",
    "\t",
    ",",
    "=",
    '"',
    '\\"',
    "\\",
    "realm",
    "service",
    "scope",
    '"https://r.azurecr.io/oauth2/token"',
    '"r.azurecr.io"',
    "abc==",
    "\u0000",
    "é",
  );
  it("near-misses built from the grammar's pieces", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => total(401, pieces.join(""))),
      { numRuns: 3000 },
    );
  });

  it("well-formed challenges round-trip", () => {
    const value = fc
      .string({ minLength: 1, maxLength: 40 })
      .filter((s) => ![...s].some((c) => (c < " " && c !== "\t") || c === "\u007f"));
    fc.assert(
      fc.property(value, value, (realm, service) => {
        const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
        const challenge = parseBearerChallenge(
          401,
          `Bearer realm=${quote(realm)}, service=${quote(service)}`,
        );
        expect(challenge).toMatchObject({ realm, service });
      }),
      { numRuns: 500 },
    );
  });
});
