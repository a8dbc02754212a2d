import { readFileSync } from "node:fs";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { registryOfImage } from "./hosts.ts";
import { parseRegistryMirrors, resolveLoginServer } from "./mirrors.ts";

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

describe("registryMirror (acr.json vectors)", () => {
  it.each(vectors.registryMirror.cases.map((v) => [v.mirror, v.image, v] as const))(
    "--registry-mirror %s, image %s",
    (mirror, image, vector) => {
      const resolved = resolveLoginServer(registryOfImage(image), parseRegistryMirrors([mirror]));
      expect(resolved?.server.host ?? "").toBe(vector.loginServer);
      expect(resolved?.source ?? "").toBe(vector.source);
    },
  );
});

describe("parseRegistryMirrors", () => {
  it("takes source:target pairs separated by commas, spaces ignored, lower-cased", () => {
    const mirrors = parseRegistryMirrors([
      " MCR.microsoft.com : abc.azurecr.io ,docker.io:def.azurecr.io",
      "registry.local:5000:ghi.azurecr.io",
    ]);
    expect([...mirrors].map(([source, server]) => [source, server.host])).toEqual([
      ["mcr.microsoft.com", "abc.azurecr.io"],
      ["docker.io", "def.azurecr.io"],
      ["registry.local:5000", "ghi.azurecr.io"],
    ]);
  });

  it("gives an empty map for no values", () => {
    expect(parseRegistryMirrors([]).size).toBe(0);
    expect(parseRegistryMirrors(["", " , "]).size).toBe(0);
  });

  it.each([
    ["mcr.microsoft.com", "missing SOURCE or TARGET"],
    [":abc.azurecr.io", "missing SOURCE or TARGET"],
    ["mcr.microsoft.com:", "missing SOURCE or TARGET"],
    ["mcr.microsoft.com:evil.example", "is not an ACR login server"],
    ["mcr.microsoft.com:abc.eastus.data.azurecr.io", "is not an ACR login server"],
    ["bad_host!:abc.azurecr.io", "is not a registry host[:port]"],
    ["registry.local:99999:abc.azurecr.io", "out of range"],
    ["foo.azurecr.io:abc.azurecr.io", "is itself an ACR login server"],
  ])("refuses %j: %s", (entry, reason) => {
    let error: unknown;
    try {
      parseRegistryMirrors([entry]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CredentialProviderError);
    expect((error as CredentialProviderError).code).toBe("USAGE");
    expect((error as Error).message).toContain(reason);
  });

  it("refuses one source mapped to two targets, and accepts a repeat", () => {
    expect(() => parseRegistryMirrors(["a.example:abc.azurecr.io,a.example:def.azurecr.io"])).toThrow(
      "already mapped to abc.azurecr.io",
    );
    expect(parseRegistryMirrors(["a.example:abc.azurecr.io,a.example:abc.azurecr.io"]).size).toBe(1);
  });

  it("matches the image's registry exactly, not as a prefix (unlike the Go plugin)", () => {
    const mirrors = parseRegistryMirrors(["mcr.microsoft.com:abc.azurecr.io"]);
    expect(resolveLoginServer("mcr.microsoft.com.evil.example", mirrors)).toBeUndefined();
    expect(resolveLoginServer("MCR.Microsoft.com", mirrors)?.source).toBe("mcr.microsoft.com");
  });
});
