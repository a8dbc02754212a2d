import { readFileSync } from "node:fs";
import { parseSchemelessUrl, urlsMatch } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { describeLoginServer, loginServerFromImage, parseLoginServer, registryOfImage } from "./hosts.ts";
import { ACR_MATCH_IMAGES } from "./provider.ts";

const vectors: {
  loginServerFromImage: Array<{ image: string; loginServer: string }>;
  registryMirror: { cases: Array<{ mirror: string; image: string; loginServer: string; source: string }> };
  challengeParsing: Array<{
    status: number;
    headers: string[];
    result: string | { realm: string; service: string };
  }>;
  aksMatchImages: string[];
} = JSON.parse(readFileSync(new URL("../../../testdata/vectors/acr.json", import.meta.url), "utf8"));

describe("loginServerFromImage (acr.json vectors)", () => {
  it.each(vectors.loginServerFromImage.map((v) => [v.image, v.loginServer] as const))(
    "%s -> %j",
    (image, loginServer) => {
      expect(loginServerFromImage(image)).toBe(loginServer);
    },
  );
});

describe("parseLoginServer", () => {
  it("takes a login server apart", () => {
    expect(parseLoginServer("foo.azurecr.io")).toEqual({
      host: "foo.azurecr.io",
      registry: "foo",
      suffix: "azurecr.io",
    });
    expect(parseLoginServer("Demo-ABC123.azurecr.io")).toEqual({
      host: "demo-abc123.azurecr.io",
      registry: "demo",
      hash: "abc123",
      suffix: "azurecr.io",
    });
    expect(parseLoginServer("foo.eastus2.geo.azurecr.cn")).toEqual({
      host: "foo.eastus2.geo.azurecr.cn",
      registry: "foo",
      region: "eastus2",
      suffix: "azurecr.cn",
    });
    expect(parseLoginServer("foo.azurecr.us")?.suffix).toBe("azurecr.us");
  });

  it.each([
    "foo.azurecr.io:443",
    "foo.azurecr.io.",
    "foo.eastus2.data.azurecr.io",
    "foo.azurecr.io.example",
    "foo.azurecr.io.azurecr.cn",
    "foo-azurecr-io.azurecr.cn",
    "azurecr.io",
    ".azurecr.io",
    "foo..azurecr.io",
    "foo_bar.azurecr.io",
    "-foo.azurecr.io",
    "foo-.azurecr.io",
    "a.b.c.azurecr.io",
    "foo.azurecr.com",
    "user@foo.azurecr.io",
    "foo.azurecr.io/bar",
    "evil.com#.azurecr.io",
    "foo.azurecr.io\n",
    `${"a".repeat(64)}.azurecr.io`,
    "",
  ])("refuses %j", (host) => {
    expect(parseLoginServer(host)).toBeUndefined();
  });

  it("describes a login server for logs", () => {
    const server = parseLoginServer("demo-abc123.westeurope.geo.azurecr.io");
    expect(server && describeLoginServer(server)).toBe(
      "ACR login server demo-abc123.westeurope.geo.azurecr.io (registry demo, hash abc123, regional endpoint in westeurope)",
    );
  });

  it("takes the registry of an image as the kubelet does: up to the first slash, lower-cased", () => {
    expect(registryOfImage("Foo.AzureCR.io/Bar/App")).toBe("foo.azurecr.io");
    expect(registryOfImage("foo.azurecr.io")).toBe("foo.azurecr.io");
    expect(registryOfImage("mirror.local:5000/x")).toBe("mirror.local:5000");
  });
});

describe("aksMatchImages (acr.json vectors)", () => {
  it("are the provider's default matchImages", () => {
    expect([...ACR_MATCH_IMAGES]).toEqual(vectors.aksMatchImages);
  });

  it.each(vectors.aksMatchImages)("%s parses as the kubelet parses it", (pattern) => {
    expect(() => parseSchemelessUrl(pattern)).not.toThrow();
  });

  const accepted = vectors.loginServerFromImage.filter((v) => v.loginServer !== "");
  it.each(accepted.map((v) => [v.image, v.loginServer] as const))(
    "%s: the kubelet runs the provider for it (a pattern matches %s)",
    (image) => {
      expect(vectors.aksMatchImages.some((pattern) => urlsMatch(pattern, image))).toBe(true);
    },
  );

  it.each([
    "foo.azurecr.io.example/bar",
    "docker.io/library/busybox",
    "docker/foo.azurecr.io/bar",
    "foo.azurecr.io.azurecr.cn",
  ])("%s: no AKS pattern matches it", (image) => {
    expect(vectors.aksMatchImages.some((pattern) => urlsMatch(pattern, image))).toBe(false);
  });

  it("a pattern can match what the provider still refuses: the data endpoint", () => {
    // *.*.geo.azurecr.io does not match it, but an operator's *.*.*.azurecr.io would: the provider decides.
    expect(urlsMatch("*.*.*.azurecr.io", "foo.eastus2.data.azurecr.io/app")).toBe(true);
    expect(loginServerFromImage("foo.eastus2.data.azurecr.io/app")).toBe("");
  });
});
