/**
 * The hosts of testdata/vectors/gcp.json's matchImages: each pattern parses as the kubelet parses
 * it, and `parseGoogleRegistry` accepts exactly the hosts those patterns match (lower-cased), and
 * refuses ports, user information, deeper subdomains and spoofs.
 */
import { readFileSync } from "node:fs";
import { parseImage, parseSchemelessUrl, urlsMatch } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { describeGoogleRegistry, GCP_MATCH_IMAGES, parseGoogleRegistry } from "./hosts.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/gcp.json", import.meta.url), "utf8"),
) as { matchImages: string[] };

const matchesVectors = (host: string) =>
  vectors.matchImages.some((pattern) => urlsMatch(pattern, `${host}/p/i`));

describe("gcp.json matchImages", () => {
  it("are the provider's default matchImages", () => {
    expect([...GCP_MATCH_IMAGES].sort()).toEqual([...vectors.matchImages].sort());
  });

  it.each(vectors.matchImages)("%s parses as a scheme-less URL with no port or path", (pattern) => {
    expect(parseSchemelessUrl(pattern)).toMatchObject({ port: "", path: "" });
  });

  const hosts = [
    "gcr.io",
    "us.gcr.io",
    "eu.gcr.io",
    "asia.gcr.io",
    "marketplace.gcr.io",
    "mirror.gcr.io",
    "us-docker.pkg.dev",
    "europe-west1-docker.pkg.dev",
    "asia-northeast1-docker.pkg.dev",
    "container.cloud.google.com",
    // not Google's
    "docker.io",
    "a.b.gcr.io",
    "a.b.pkg.dev",
    "pkg.dev",
    "gcr.io.evil.example",
    "evil-gcr.io",
    "gcr.io.pkg.dev.evil",
    "cloud.google.com",
    "x.container.cloud.google.com",
    "gcr.io:443",
    "us-docker.pkg.dev:5000",
    "ghcr.io",
    "quay.io",
    "localhost:5000",
  ];
  it.each(hosts)("%s: parseGoogleRegistry agrees with the kubelet's matching", (host) => {
    expect(parseGoogleRegistry(host) !== undefined).toBe(matchesVectors(host));
  });
});

describe("parseGoogleRegistry", () => {
  it.each([
    ["gcr.io", "Container Registry"],
    ["EU.GCR.IO", "Container Registry"],
    ["Us-Docker.Pkg.Dev", "Artifact Registry"],
    ["container.cloud.google.com", "Container Registry"],
  ])("%s is a %s, lower-cased", (host, kind) => {
    expect(parseGoogleRegistry(host)).toEqual({ host: host.toLowerCase(), kind });
  });

  it.each([
    "gcr.io:443",
    "gcr.io:5000",
    "user@gcr.io",
    "user:pass@gcr.io",
    "gcr.io.evil.example",
    "gcr.io.",
    ".gcr.io",
    "-x.gcr.io",
    "x-.pkg.dev",
    "x..gcr.io",
    "evil.example/gcr.io",
    "gcr.io/x",
    "gcr_io",
    "a.b.gcr.io",
    `${"a".repeat(64)}.gcr.io`,
    "",
    "gcr.io\n",
    "xn--gcr.io.evil",
  ])("%j is refused", (host) => {
    expect(parseGoogleRegistry(host)).toBeUndefined();
  });

  it("image references: the registry part decides, never a path that looks like a host", () => {
    expect(parseGoogleRegistry(parseImage("docker.io/gcr.io/app").registry)).toBeUndefined();
    expect(parseGoogleRegistry(parseImage("evil.example/us-docker.pkg.dev/p/r/i").registry)).toBeUndefined();
    expect(parseGoogleRegistry(parseImage("us-docker.pkg.dev/p/r/i:1").registry)?.host).toBe(
      "us-docker.pkg.dev",
    );
  });

  it("describes a registry in one line", () => {
    const registry = parseGoogleRegistry("us-docker.pkg.dev");
    expect(registry && describeGoogleRegistry(registry)).toBe("Artifact Registry us-docker.pkg.dev");
  });
});
