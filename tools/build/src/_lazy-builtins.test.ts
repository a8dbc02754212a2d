import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { lazyBuiltins } from "./_lazy-builtins.ts";

const dir = mkdtempSync(join(tmpdir(), "kcp-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Bundles `source` as the executables' bundles are (the plugin, the FormData stand-in), runs it in
 * a fresh Node, returns what it printed as JSON.
 */
async function run(source: string): Promise<Record<string, unknown>> {
  const outfile = join(dir, `${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(`${outfile}.entry.js`, source);
  await build({
    entryPoints: [`${outfile}.entry.js`],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    logLevel: "error",
    plugins: [lazyBuiltins()],
    inject: [join(import.meta.dirname, "_lazy-form-data.ts")],
  });
  return JSON.parse(execFileSync(process.execPath, [outfile], { encoding: "utf8" }));
}

const loaded = `const loaded = (name) => process.moduleLoadList.includes("NativeModule " + name);`;

describe("lazyBuiltins", () => {
  it("defers node:http2 through a top-level read of its constants, until a member is used", async () => {
    const result = await run(`${loaded}
      const http2 = require("node:http2");
      const { constants } = http2;
      const before = loaded("http2");
      const method = constants.HTTP2_HEADER_METHOD;
      console.log(JSON.stringify({ before, method, after: loaded("http2") }));`);
    expect(result).toEqual({ before: false, method: ":method", after: true });
  });

  it("lets a module subclass https.Agent before node:https loads, with the real methods and instanceof", async () => {
    const result = await run(`${loaded}
      import https from "node:https";
      import * as star from "node:http";
      class Tunnel extends https.Agent {
        constructor() { super({ keepAlive: false }); this.mine = true; }
      }
      const before = loaded("https");
      const agent = new Tunnel();
      console.log(JSON.stringify({
        before,
        after: loaded("https"),
        isAgent: agent instanceof https.Agent,
        isTunnel: agent instanceof Tunnel,
        plainAgentIsTunnel: new https.Agent() instanceof Tunnel,
        hasRealMethod: typeof agent.createConnection === "function",
        mine: agent.mine,
        protocol: agent.protocol,
        starKeys: Object.keys(star).includes("request"),
      }));`);
    expect(result).toEqual({
      before: false,
      after: true,
      isAgent: true,
      isTunnel: true,
      plainAgentIsTunnel: false,
      hasRealMethod: true,
      mine: true,
      protocol: "https:",
      starKeys: true,
    });
  });

  it("answers `instanceof FormData` without loading undici, and FormData still works", async () => {
    const result = await run(`${loaded}
      const plain = typeof FormData !== "undefined" && {} instanceof FormData;
      const before = loaded("internal/deps/undici/undici");
      const form = new FormData();
      form.append("grant_type", "client_credentials");
      console.log(JSON.stringify({
        plain, before, isForm: form instanceof FormData, value: form.get("grant_type"),
        after: loaded("internal/deps/undici/undici"),
      }));`);
    expect(result).toEqual({
      plain: false,
      before: false,
      isForm: true,
      value: "client_credentials",
      after: true,
    });
  });
});
