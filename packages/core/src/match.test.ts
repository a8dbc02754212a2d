import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CredentialProviderError } from "./errors.ts";
import {
  goFilepathMatch,
  isValidGlob,
  lookupAuth,
  normalizeAuthKey,
  parseSchemelessUrl,
  urlsMatch,
} from "./match.ts";

interface MatchVectors {
  urlsMatch: Array<{ pattern: string; image: string; match: boolean }>;
  keyringLookup: {
    keys: Record<string, string>;
    lookups: Array<{ image: string; found: string[] }>;
  };
  keyNormalisation: Array<{ key: string; image: string; match: boolean }>;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/kubelet-match.json", import.meta.url), "utf8"),
) as MatchVectors;

describe("testdata vectors: kubelet-match.json", () => {
  it.each(vectors.urlsMatch)("urlsMatch($pattern, $image) is $match", ({ pattern, image, match }) => {
    expect(urlsMatch(pattern, image)).toBe(match);
  });

  it.each(vectors.keyringLookup.lookups)("keyring lookup of $image finds $found", ({ image, found }) => {
    const entries = lookupAuth(vectors.keyringLookup.keys, image);
    expect(entries.map((entry) => entry.value)).toEqual(found);
  });

  it.each(vectors.keyNormalisation)("auth key $key matches $image: $match", ({ key, image, match }) => {
    expect(lookupAuth({ [key]: "credential" }, image).length > 0).toBe(match);
    const normalized = normalizeAuthKey(key);
    expect(normalized).toBeDefined();
    expect(urlsMatch(normalized ?? "", image)).toBe(match);
  });
});

// Go's path/filepath matchTests: [pattern, name, match, malformed pattern].
const goMatchTests: Array<[string, string, boolean, boolean]> = [
  ["abc", "abc", true, false],
  ["*", "abc", true, false],
  ["*c", "abc", true, false],
  ["a*", "a", true, false],
  ["a*", "abc", true, false],
  ["a*", "ab/c", false, false],
  ["a*/b", "abc/b", true, false],
  ["a*/b", "a/c/b", false, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true, false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true, false],
  ["a*b?c*x", "abxbbxdbxebxczzy", false, false],
  ["ab[c]", "abc", true, false],
  ["ab[b-d]", "abc", true, false],
  ["ab[e-g]", "abc", false, false],
  ["ab[^c]", "abc", false, false],
  ["ab[^b-d]", "abc", false, false],
  ["ab[^e-g]", "abc", true, false],
  ["a\\*b", "a*b", true, false],
  ["a\\*b", "ab", false, false],
  ["a?b", "a☺b", true, false],
  ["a[^a]b", "a☺b", true, false],
  ["a???b", "a☺b", false, false],
  ["a[^a][^a][^a]b", "a☺b", false, false],
  ["[a-ζ]*", "α", true, false],
  ["*[a-ζ]", "A", false, false],
  ["a?b", "a/b", false, false],
  ["a*b", "a/b", false, false],
  ["[\\]a]", "]", true, false],
  ["[\\-]", "-", true, false],
  ["[x\\-]", "x", true, false],
  ["[x\\-]", "-", true, false],
  ["[x\\-]", "z", false, false],
  ["[\\-x]", "x", true, false],
  ["[\\-x]", "-", true, false],
  ["[\\-x]", "a", false, false],
  ["[]a]", "]", false, true],
  ["[-]", "-", false, true],
  ["[x-]", "x", false, true],
  ["[x-]", "-", false, true],
  ["[x-]", "z", false, true],
  ["[-x]", "x", false, true],
  ["[-x]", "-", false, true],
  ["[-x]", "a", false, true],
  ["\\", "a", false, true],
  ["[a-b-c]", "a", false, true],
  ["[", "a", false, true],
  ["[^", "a", false, true],
  ["[^bc", "a", false, true],
  ["a[", "a", false, true],
  ["a[", "ab", false, true],
  ["a[", "x", false, true],
  ["a/b[", "x", false, true],
  ["*x", "xxx", true, false],
  // More: escapes, classes and the byte-level behaviour of Go's matcher.
  ["a\\", "a", false, true],
  ["[a", "a", false, true],
  ["[]", "a", false, true],
  ["[^]", "a", false, true],
  ["*[", "a", false, true],
  ["x*[", "y", false, true],
  ["\\a", "a", true, false],
  ["[\\a]", "a", true, false],
  ["[a-c][x-z]", "by", true, false],
  ["[^a-c]", "d", true, false],
  ["[^a-c]", "b", false, false],
  ["[A-Z]", "a", false, false],
  ["?", "", false, false],
  ["*", "", true, false],
  ["", "", true, false],
  ["", "a", false, false],
  ["**", "abc", true, false],
  ["*.io", "a.b.io", true, false],
  ["k*.io", "quay.io", false, false],
  // A star skips byte by byte in Go, so here it stops inside the three-byte "€" and each "?"
  // then consumes one stray continuation byte.
  ["*??", "€", true, false],
  ["??", "€", false, false],
];

describe("goFilepathMatch (Go's matchTests)", () => {
  it.each(goMatchTests.map(([pattern, name, match, bad]) => ({ pattern, name, match, bad })))(
    "Match($pattern, $name) is $match (malformed: $bad)",
    ({ pattern, name, match, bad }) => {
      expect(goFilepathMatch(pattern, name)).toBe(match);
      expect(isValidGlob(pattern)).toBe(!bad);
    },
  );
});

describe("parseSchemelessUrl", () => {
  const ok: Array<[string, { host: string; hostname: string; port: string; path: string }]> = [
    ["gcr.io", { host: "gcr.io", hostname: "gcr.io", port: "", path: "" }],
    ["gcr.io/project/image", { host: "gcr.io", hostname: "gcr.io", port: "", path: "/project/image" }],
    ["localhost:5000/foo", { host: "localhost:5000", hostname: "localhost", port: "5000", path: "/foo" }],
    ["[::1]:5000/x", { host: "[::1]:5000", hostname: "::1", port: "5000", path: "/x" }],
    ["[::1]/x", { host: "[::1]", hostname: "[::1]", port: "", path: "/x" }],
    ["[fe80::1%25en0]:80", { host: "[fe80::1%en0]:80", hostname: "fe80::1%en0", port: "80", path: "" }],
    ["user:pw@host.io:443/p?q=1#frag", { host: "host.io:443", hostname: "host.io", port: "443", path: "/p" }],
    ["a@b@host.io", { host: "host.io", hostname: "host.io", port: "", path: "" }],
    ["host.io/a%2Fb", { host: "host.io", hostname: "host.io", port: "", path: "/a/b" }],
    ["host:", { host: "host:", hostname: "host", port: "", path: "" }],
    ["a:b:80", { host: "a:b:80", hostname: "a:b:80", port: "", path: "" }],
    ["%C3%A9.example.com", { host: "é.example.com", hostname: "é.example.com", port: "", path: "" }],
    ["é.example.com/ü", { host: "é.example.com", hostname: "é.example.com", port: "", path: "/ü" }],
    ["*.docker.io/v1/", { host: "*.docker.io", hostname: "*.docker.io", port: "", path: "/v1/" }],
    ["exa?ple.com", { host: "exa", hostname: "exa", port: "", path: "" }],
    ["", { host: "", hostname: "", port: "", path: "" }],
    ["/x", { host: "", hostname: "", port: "", path: "/x" }],
  ];
  it.each(ok.map(([value, url]) => ({ value, url })))("parses $value", ({ value, url }) => {
    expect(parseSchemelessUrl(value)).toEqual(url);
  });

  const errors: Array<[string, string]> = [
    ["a b", 'parse "https://a b": invalid character " " in host name'],
    ["foo:abc", 'parse "https://foo:abc": invalid port ":abc" after host'],
    ["foo/%zz", 'parse "https://foo/%zz": invalid URL escape "%zz"'],
    ["foo/%4", 'parse "https://foo/%4": invalid URL escape "%4"'],
    ["%41.com", 'parse "https://%41.com": invalid URL escape "%41"'],
    ["foo/\x01", 'parse "https://foo/\\x01": net/url: invalid control character in URL'],
    ["foo\x7f", 'parse "https://foo\\x7f": net/url: invalid control character in URL'],
    ["a#%zz", 'parse "https://a#%zz": invalid URL escape "%zz"'],
    ["ü@x", 'parse "https://ü@x": net/url: invalid userinfo'],
    ["[::1", `parse "https://[::1": missing ']' in host`],
    ["[1.2.3.4]", 'parse "https://[1.2.3.4]": invalid IP-literal'],
    ["[v1.x]", 'parse "https://[v1.x]": invalid host: ParseAddr("v1.x"): unexpected character (at "v1.x")'],
    ["[::1]x", 'parse "https://[::1]x": invalid port "x" after host'],
    [
      "[12345::]",
      'parse "https://[12345::]": invalid host: ParseAddr("12345::"): each group must have 4 or less digits (at "12345::")',
    ],
    ["a{b}", 'parse "https://a{b}": invalid character "{" in host name'],
    ["a\\b", 'parse "https://a\\\\b": invalid character "\\\\" in host name'],
  ];
  it.each(errors.map(([value, message]) => ({ value, message })))(
    "rejects $value as Go does",
    ({ value, message }) => {
      let caught: unknown;
      try {
        parseSchemelessUrl(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CredentialProviderError);
      expect((caught as CredentialProviderError).code).toBe("BAD_REQUEST");
      expect((caught as CredentialProviderError).message).toBe(message);
    },
  );
});

describe("urlsMatch beyond the vectors", () => {
  const cases: Array<[string, string, boolean]> = [
    ["*.example.com", "A.example.com", true],
    ["example.com", "Example.com", false],
    ["example.com/foo", "example.com/foobar", true],
    ["example.com/foo/", "example.com/foo", false],
    ["example.com", "example.com/anything/at/all", true],
    ["[::1]:5000", "[::1]:5000/x", true],
    ["[::1]", "[::1]:5000/x", false],
    ["*.example.com:*", "a.example.com:443", false],
    ["[", "[", false],
    ["a[b.example.com", "a[b.example.com", false],
    ["[ab].example.com", "a.example.com", false],
    ["user@example.com", "example.com/x", true],
    ["example.com", "user@example.com", true],
    ["exa?ple.com", "exa", true],
    ["*", "localhost", true],
    ["*", "docker.io", false],
    ["*.*", "docker.io", true],
    ["123456789012.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", true],
    ["*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn", false],
    ["*.azurecr.io", "myregistry.azurecr.io/app", true],
    ["*-docker.pkg.dev", "us-docker.pkg.dev/p/r/i", true],
    ["a b", "a b", false],
    ["", "", true],
  ];
  it.each(cases.map(([pattern, image, match]) => ({ pattern, image, match })))(
    "urlsMatch($pattern, $image) is $match",
    ({ pattern, image, match }) => {
      expect(urlsMatch(pattern, image)).toBe(match);
    },
  );
});

describe("normalizeAuthKey", () => {
  const cases: Array<[string, string | undefined]> = [
    ["https://quay.io/v1/", "quay.io"],
    ["https://*.docker.io/v2/", "*.docker.io"],
    ["https://index.docker.io/v1/", "index.docker.io"],
    ["http://foo.bar/baz", "foo.bar/baz"],
    ["foo.bar/v2/x", "foo.bar/x"],
    ["foo.bar/v2", "foo.bar/v2"],
    ["foo.bar/", "foo.bar"],
    ["foo.bar:5000", "foo.bar:5000"],
    ["https://user:pass@host.io/", "host.io"],
    ["https://host.io/a?b#c", "host.io/a"],
    // The prefix check is case-sensitive, so this becomes host "HTTPS:" with path "//host.io".
    ["HTTPS://host.io", "HTTPS://host.io"],
    ["a b", undefined],
    ["host.io/%zz", undefined],
  ];
  it.each(cases.map(([key, normalized]) => ({ key, normalized })))(
    "normalises $key to $normalized",
    ({ key, normalized }) => {
      expect(normalizeAuthKey(key)).toBe(normalized);
    },
  );
});

describe("lookupAuth", () => {
  it("orders by normalised key, reverse lexicographic, keeping duplicates in insertion order", () => {
    const auth = {
      "quay.io": 1,
      "https://quay.io/v1/": 2,
      "quay.io/coreos": 3,
      "*.io": 4,
      "http://quay.io": 5,
      "quay.io/coreos/etcd": 6,
      "bad key": 7,
    };
    const found = lookupAuth(auth, "quay.io/coreos/etcd");
    expect(found.map((entry) => entry.value)).toEqual([6, 3, 1, 2, 5, 4]);
    expect(found.map((entry) => entry.key)).toEqual([
      "quay.io/coreos/etcd",
      "quay.io/coreos",
      "quay.io",
      "https://quay.io/v1/",
      "http://quay.io",
      "*.io",
    ]);
  });

  it("sorts bytewise, as Go does, not by UTF-16 unit", () => {
    // U+FF5E sorts above U+1F600 in UTF-16 but below it in UTF-8; both keys match the image.
    const auth = { "*\u{ff5e}*.io": "fullwidth", "*\u{1f600}.io": "emoji" };
    expect(lookupAuth(auth, "\u{ff5e}\u{1f600}.io").map((entry) => entry.value)).toEqual([
      "emoji",
      "fullwidth",
    ]);
  });

  it("finds nothing for an unparsable image", () => {
    expect(lookupAuth({ "a b": 1, "*": 2 }, "a b")).toEqual([]);
  });

  it("answers an empty list, not a throw, for a map that is not an object", () => {
    expect(lookupAuth(null as unknown as Record<string, number>, "a.io")).toEqual([]);
    expect(lookupAuth({ "a.io": 1 }, 7 as unknown as string)).toEqual([]);
  });
});

describe("properties", () => {
  const lone = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
  const urlish = fc.string({
    unit: fc.constantFrom(
      "a",
      "B",
      ".",
      "*",
      "?",
      "[",
      "]",
      "^",
      "-",
      "\\",
      "/",
      ":",
      "@",
      "%",
      "#",
      "1",
      "é",
    ),
    maxLength: 20,
  });
  const anyString = fc.oneof(fc.string(), fc.string({ unit: "binary" }), lone, urlish);

  it("urlsMatch never throws", () => {
    fc.assert(
      fc.property(anyString, anyString, (pattern, image) => typeof urlsMatch(pattern, image) === "boolean"),
      { numRuns: 2000 },
    );
  });

  it("goFilepathMatch never throws, and a malformed pattern never matches", () => {
    fc.assert(
      fc.property(anyString, anyString, (pattern, name) => {
        const matched = goFilepathMatch(pattern, name);
        return isValidGlob(pattern) || !matched;
      }),
      { numRuns: 2000 },
    );
  });

  it("a fully escaped pattern matches exactly its text", () => {
    fc.assert(
      fc.property(anyString, (text) => {
        const escaped = [...text].map((char) => `\\${char}`).join("");
        expect(goFilepathMatch(escaped, text)).toBe(true);
      }),
    );
  });

  it("normalizeAuthKey and lookupAuth never throw", () => {
    fc.assert(
      fc.property(fc.dictionary(anyString, fc.nat()), anyString, (auth, image) => {
        normalizeAuthKey(image);
        expect(Array.isArray(lookupAuth(auth, image))).toBe(true);
      }),
    );
  });

  it("parseSchemelessUrl throws only CredentialProviderError", () => {
    fc.assert(
      fc.property(anyString, (value) => {
        try {
          parseSchemelessUrl(value);
          return true;
        } catch (error) {
          return error instanceof CredentialProviderError && error.code === "BAD_REQUEST";
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("every literal hostname matches itself, with any port and path", () => {
    const path = fc.array(fc.stringMatching(/^[a-z0-9._-]{1,10}$/), { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.domain(),
        fc.option(fc.integer({ min: 1, max: 65535 })),
        path,
        (host, port, segments) => {
          const image = `${host}${port === null ? "" : `:${port}`}${segments.map((s) => `/${s}`).join("")}`;
          const registry = `${host}${port === null ? "" : `:${port}`}`;
          expect(urlsMatch(host, host)).toBe(true);
          expect(urlsMatch(image, image)).toBe(true);
          expect(urlsMatch(registry, image)).toBe(true);
        },
      ),
    );
  });
});
