import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NAME, VERSION } from "./version.ts";

describe("version.ts", () => {
  it("matches package.json (the standalone executable cannot read it)", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
      bin: Record<string, string>;
    };
    expect(VERSION).toBe(manifest.version);
    expect(Object.keys(manifest.bin)).toEqual([NAME]);
  });
});
