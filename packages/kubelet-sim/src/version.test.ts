import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NAME, VERSION } from "./version.ts";

describe("version.ts", () => {
  it("is package.json's version and bin name", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
      bin: Record<string, string>;
    };
    expect(VERSION).toBe(manifest.version);
    expect(Object.keys(manifest.bin)).toEqual([NAME]);
  });
});
