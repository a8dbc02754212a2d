/**
 * The library packages' unit tests run on the lowest Node their `engines` allow: each has that
 * version of the `node` package as a devDependency, whose binary comes first on the PATH of its
 * scripts (tools/release's pack test holds every public package to the same rule).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe("the lowest supported Node", () => {
  it("is what these tests run on", () => {
    const floor = /^>=(\d+\.\d+\.\d+)$/.exec(manifest.engines.node)?.[1];
    expect(floor).toBe(manifest.devDependencies.node);
    expect(process.versions.node).toBe(floor);
  });
});
