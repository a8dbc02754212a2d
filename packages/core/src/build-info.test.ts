import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { packageVersion, versionLine } from "./build-info.ts";

const dir = mkdtempSync(join(tmpdir(), "build-info-"));
const manifest = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return pathToFileURL(join(dir, name));
};

describe("packageVersion", () => {
  it("reads the version of the package.json it is given", () => {
    expect(packageVersion(manifest("a.json", JSON.stringify({ name: "a", version: "2.3.4-rc.1" })))).toBe(
      "2.3.4-rc.1",
    );
  });
  it("is core's own for core's package.json", async () => {
    const { default: own } = await import("../package.json", { with: { type: "json" } });
    expect(packageVersion(new URL("../package.json", import.meta.url))).toBe(own.version);
  });
  it.each([
    ["a missing file", pathToFileURL(join(dir, "missing.json"))],
    ["a file that is not JSON", manifest("b.json", "{ version: 1")],
    ["no version", manifest("c.json", JSON.stringify({ name: "c" }))],
    ["a version that is not a string", manifest("d.json", JSON.stringify({ version: 1 }))],
  ])("is `unknown` for %s, rather than stopping the provider", (_, url) => {
    expect(packageVersion(url)).toBe("unknown");
  });
});

describe("versionLine", () => {
  it("names the runtime instead of a commit on Node, and the platform as Go spells it", () => {
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch;
    expect(versionLine("x-provider", "1.0.0")).toBe(
      `x-provider 1.0.0 (node ${process.version}, ${process.platform}/${arch})`,
    );
  });
});
