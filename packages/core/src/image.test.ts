import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CredentialProviderError } from "./errors.ts";
import { type ImageReference, normalizeImage, parseImage, registryHostOf, safeParseImage } from "./image.ts";

const SHA = "a".repeat(32) + "0123456789abcdef".repeat(2);

describe("parseImage", () => {
  const cases: Array<[string, ImageReference]> = [
    [
      "nginx",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "nginx:1.25",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        tag: "1.25",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "library/nginx",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "docker.io/nginx",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "index.docker.io/library/nginx",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "index.docker.io/nginx",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        repository: "docker.io/library/nginx",
      },
    ],
    [
      "bitnami/redis:7",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "bitnami/redis",
        tag: "7",
        repository: "docker.io/bitnami/redis",
      },
    ],
    [
      "localhost/foo",
      { registry: "localhost", hostname: "localhost", path: "foo", repository: "localhost/foo" },
    ],
    [
      "localhost:5000/foo:tag",
      {
        registry: "localhost:5000",
        hostname: "localhost",
        port: "5000",
        path: "foo",
        tag: "tag",
        repository: "localhost:5000/foo",
      },
    ],
    [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:${SHA}`,
      {
        registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        hostname: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        path: "app",
        digest: `sha256:${SHA}`,
        repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
      },
    ],
    [
      "[::1]:5000/x",
      { registry: "[::1]:5000", hostname: "[::1]", port: "5000", path: "x", repository: "[::1]:5000/x" },
    ],
    [
      "MyRegistry.azurecr.io/App",
      {
        registry: "MyRegistry.azurecr.io",
        hostname: "MyRegistry.azurecr.io",
        path: "App",
        repository: "MyRegistry.azurecr.io/App",
      },
    ],
    [
      `foo.azurecr.io:443/bar:v1@sha256:${SHA}`,
      {
        registry: "foo.azurecr.io:443",
        hostname: "foo.azurecr.io",
        port: "443",
        path: "bar",
        tag: "v1",
        digest: `sha256:${SHA}`,
        repository: "foo.azurecr.io:443/bar",
      },
    ],
    [
      "gcr.io/project/image",
      { registry: "gcr.io", hostname: "gcr.io", path: "project/image", repository: "gcr.io/project/image" },
    ],
    [
      "us-docker.pkg.dev/p/r/i",
      {
        registry: "us-docker.pkg.dev",
        hostname: "us-docker.pkg.dev",
        path: "p/r/i",
        repository: "us-docker.pkg.dev/p/r/i",
      },
    ],
    // No "/", so no registry: this is a Docker Hub repository with a dotted name.
    [
      "prefix.kubernetes.io",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/prefix.kubernetes.io",
        repository: "docker.io/library/prefix.kubernetes.io",
      },
    ],
    [
      "prefix.kubernetes.io/foo",
      {
        registry: "prefix.kubernetes.io",
        hostname: "prefix.kubernetes.io",
        path: "foo",
        repository: "prefix.kubernetes.io/foo",
      },
    ],
    // "localhost:5000" alone is the Docker Hub image library/localhost, tag 5000.
    [
      "localhost:5000",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/localhost",
        tag: "5000",
        repository: "docker.io/library/localhost",
      },
    ],
    // An upper-case first component is a registry, as in distribution's splitDockerDomain.
    ["Foo/bar", { registry: "Foo", hostname: "Foo", path: "bar", repository: "Foo/bar" }],
    [
      "a/b_c__d-e--f.g:Tag_1.0-x",
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "a/b_c__d-e--f.g",
        tag: "Tag_1.0-x",
        repository: "docker.io/a/b_c__d-e--f.g",
      },
    ],
    [
      `nginx@sha512:${"f".repeat(128)}`,
      {
        registry: "docker.io",
        hostname: "docker.io",
        path: "library/nginx",
        digest: `sha512:${"f".repeat(128)}`,
        repository: "docker.io/library/nginx",
      },
    ],
  ];

  it.each(cases.map(([reference, image]) => ({ reference, image })))(
    "parses $reference",
    ({ reference, image }) => {
      expect(parseImage(reference)).toEqual(image);
      expect(normalizeImage(reference)).toBe(image.repository);
      expect(safeParseImage(reference)).toEqual({ ok: true, image });
    },
  );

  it("lower-cases only registryHostOf", () => {
    expect(registryHostOf("MyRegistry.azurecr.io/App")).toBe("myregistry.azurecr.io");
    expect(registryHostOf("Foo.Example.COM:5000/x")).toBe("foo.example.com:5000");
    expect(registryHostOf("nginx")).toBe("docker.io");
    expect(normalizeImage("MyRegistry.azurecr.io/App:v1")).toBe("MyRegistry.azurecr.io/App");
  });

  const garbage: Array<[string, string]> = [
    ["", "empty reference"],
    [" ", "contains whitespace"],
    ["nginx ", "contains whitespace"],
    ["a b", "contains whitespace"],
    ["a\tb", "contains whitespace"],
    ["nginx\u0000", "contains a control character"],
    ["nginx\u007f", "contains a control character"],
    ["ngïnx", "contains a non-ASCII character"],
    ["UPPER:tag:extra", 'invalid tag "tag:extra"'],
    ["foo@sha256:short", 'invalid digest "sha256:short"'],
    [`foo@sha256:${SHA.toUpperCase()}`, "lower case"],
    [`foo@sha256:${SHA}0`, "64 hex digits"],
    [`foo@md5:${"0".repeat(32)}`, 'unsupported digest algorithm "md5"'],
    [`foo@sha256:${SHA}@sha256:${SHA}`, "invalid digest"],
    ["foo@", 'invalid digest ""'],
    ["-bad.example.com/x", 'invalid registry host "-bad.example.com"'],
    ["bad-.example.com/x", 'invalid registry host "bad-.example.com"'],
    ["example.com:port/x", 'invalid registry host "example.com:port"'],
    ["example..com/x", 'invalid registry host "example..com"'],
    ["[::1/x", 'invalid registry host "[::1"'],
    ["[::g]/x", 'invalid registry host "[::g]"'],
    ["x/", 'invalid path component ""'],
    ["//x", 'invalid path component ""'],
    ["x//y", 'invalid path component ""'],
    ["example.com/", 'invalid path component ""'],
    ["a/-b", 'invalid path component "-b"'],
    ["a/b.", 'invalid path component "b."'],
    ["a/b...c", 'invalid path component "b...c"'],
    ["a/b___c", 'invalid path component "b___c"'],
    ["nginx:", 'invalid tag ""'],
    ["nginx:.x", 'invalid tag ".x"'],
    [`nginx:${"t".repeat(129)}`, "invalid tag"],
    ["a".repeat(64).replace(/a/g, "f"), "image ID"],
    [`example.com/${"a".repeat(250)}`, "too long"],
    [`${"a".repeat(250)}/b`, "too long"],
  ];

  it.each(
    garbage.map(([reference, why]) => ({ reference, why, shown: JSON.stringify(reference).slice(0, 60) })),
  )("rejects $shown ($why)", ({ reference, why }) => {
    const result = safeParseImage(reference);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(CredentialProviderError);
    expect(result.error.code).toBe("BAD_REQUEST");
    expect(result.error.message).toContain(why);
    expect(result.error.message).toContain("invalid image reference");
    expect(result.error.message).not.toContain("\n");
    expect(() => parseImage(reference)).toThrow(CredentialProviderError);
  });

  it("quotes and truncates the input in messages", () => {
    const long = `${"x".repeat(300)} y`;
    const result = safeParseImage(long);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message.length).toBeLessThan(300);
    expect(result.error.message).toContain("(302 characters)");
    const control = safeParseImage('a\n"b');
    expect(control.ok).toBe(false);
    if (control.ok) return;
    expect(control.error.message).toBe('invalid image reference "a\\n\\"b": contains whitespace');
  });

  it("rejects a non-string without throwing anything else", () => {
    expect(() => parseImage(42 as unknown as string)).toThrow(CredentialProviderError);
    expect(safeParseImage(undefined as unknown as string).ok).toBe(false);
  });
});

describe("properties", () => {
  const lone = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
  const imageish = fc.string({
    unit: fc.constantFrom("a", "Z", "0", ".", "_", "-", "/", ":", "@", "[", "]", "localhost", "sha256", SHA),
    maxLength: 16,
  });
  const anyString = fc.oneof(fc.string(), fc.string({ unit: "binary" }), lone, imageish);

  it("safeParseImage never throws", () => {
    fc.assert(
      fc.property(anyString, (reference) => typeof safeParseImage(reference).ok === "boolean"),
      { numRuns: 3000 },
    );
  });

  it("parseImage only ever throws CredentialProviderError BAD_REQUEST", () => {
    fc.assert(
      fc.property(anyString, (reference) => {
        try {
          parseImage(reference);
          return true;
        } catch (error) {
          return error instanceof CredentialProviderError && error.code === "BAD_REQUEST";
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("normalising is idempotent for anything that parses", () => {
    fc.assert(
      fc.property(anyString, (reference) => {
        const first = safeParseImage(reference);
        if (!first.ok) return;
        const again = parseImage(first.image.repository);
        expect(again.repository).toBe(first.image.repository);
        expect(again.registry).toBe(first.image.registry);
        expect(again.path).toBe(first.image.path);
        expect(again.tag).toBeUndefined();
        expect(again.digest).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it("repository is always registry/path, and hostname[:port] is the registry", () => {
    fc.assert(
      fc.property(anyString, (reference) => {
        const result = safeParseImage(reference);
        if (!result.ok) return;
        const { image } = result;
        expect(image.repository).toBe(`${image.registry}/${image.path}`);
        expect(image.port === undefined ? image.hostname : `${image.hostname}:${image.port}`).toBe(
          image.registry,
        );
      }),
      { numRuns: 3000 },
    );
  });
});
