/**
 * The upstream differential: every scenario of upstream-scenarios.ts run by upstream's Go plugin
 * (built from the module version conformance/upstream/<plugin>/go.mod pins) and by ours from
 * dist/bin, each against a fresh cloud emulator, compared field by field. A difference not named in
 * upstream-differences.ts fails; the run also generates docs/compatibility.md, and fails if the
 * committed one differs (UPDATE_COMPATIBILITY=1 rewrites it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compatibilityDoc, compatibilityDocPath } from "./compatibility.ts";
import type { UpstreamPlugin } from "./go.ts";
import { goAvailable, ourBinDir, pinnedVersion, UPSTREAM_PLUGINS, upstreamPlugin } from "./go.ts";
import { record } from "./summary.ts";
import { DIFFERENCES } from "./upstream-differences.ts";
import type { FlagRow } from "./upstream-flags.ts";
import { probeFlags } from "./upstream-flags.ts";
import { SCENARIOS } from "./upstream-scenarios.ts";
import type { ScenarioResult } from "./upstream-side.ts";
import { runScenario, writeIbWrapper } from "./upstream-side.ts";

const PLUGINS = Object.keys(UPSTREAM_PLUGINS) as UpstreamPlugin[];
const available = goAvailable();
const root = process.getuid?.() === 0;
if (available && !root && process.env.CI === "true") {
  throw new Error("CI=true: the identity-binding scenarios need root (port 443, a mount namespace)");
}
if (available && !root) console.warn("skipping the identity-binding scenarios: they need root");

describe.skipIf(!available)("upstream differential", () => {
  const upstream = {} as Record<UpstreamPlugin, string>;
  const versions = {} as Record<UpstreamPlugin, string>;
  const results = new Map<string, ScenarioResult>();
  const flags = new Map<UpstreamPlugin, FlagRow[]>();
  let dir: string;
  let ibWrapper: string;

  beforeAll(async () => {
    for (const plugin of PLUGINS) {
      if (!existsSync(join(ourBinDir, plugin))) throw new Error(`dist/bin/${plugin} is missing: build first`);
    }
    for (const plugin of PLUGINS) {
      upstream[plugin] = await upstreamPlugin(plugin);
      const { dir: moduleDir, module } = UPSTREAM_PLUGINS[plugin];
      versions[plugin] = await pinnedVersion(join(import.meta.dirname, "../upstream", moduleDir), module);
    }
    dir = mkdtempSync(join(tmpdir(), "kcp-upstream-"));
    ibWrapper = join(dir, "ib-wrap.sh");
    writeIbWrapper(ibWrapper);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const scenario of SCENARIOS) {
    it.skipIf(scenario.identityBindings && !root)(scenario.id, async () => {
      const scratch = mkdtempSync(join(dir, "s-"));
      const apiServerAddress = scenario.identityBindings
        ? `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.1`
        : undefined;
      const result = await runScenario(
        scenario,
        { upstream: upstream[scenario.plugin], ours: join(ourBinDir, scenario.plugin) },
        { dir: scratch, ibWrapper, apiServerAddress },
      );
      results.set(scenario.id, result);
      record({
        kind: "upstream",
        plugin: scenario.plugin,
        version: versions[scenario.plugin],
        explained: result.explained,
      });
      expect(result.ours.leaked, "ours printed an emulator-issued secret").toBe(0);
      const unexplained = result.verdicts
        .filter((v) => !v.equal && !v.difference)
        .map((v) =>
          v.field === "args" || v.field === "flag"
            ? "args: ours gets arguments upstream does not, and no named difference says why"
            : `${v.field}:\n  upstream: ${result.upstream.observation[v.field]}\n  ours:     ${result.ours.observation[v.field]}`,
        );
      const why = `upstream stderr:\n${result.upstream.excerpt}\nours stderr:\n${result.ours.excerpt}`;
      expect(
        unexplained,
        `${scenario.id}: differences no entry of upstream-differences.ts names\n${why}`,
      ).toEqual([]);
    });
  }

  for (const plugin of PLUGINS) {
    it(`${plugin}: every upstream flag`, async () => {
      const rows = await probeFlags(plugin, upstream[plugin], join(ourBinDir, plugin));
      flags.set(plugin, rows);
      const unexplained = rows.filter((r) => r.upstream !== r.ours && !r.difference).map((r) => r.spelling);
      expect(unexplained, `${plugin}: flags upstream accepts and ours does not, not named`).toEqual([]);
    });
  }

  it("every named difference is needed", () => {
    if (results.size !== SCENARIOS.length) return; // Some scenarios were skipped: nothing to say.
    const used = new Set<string>();
    for (const result of results.values()) {
      for (const v of result.verdicts) if (v.difference) used.add(v.difference.name);
    }
    for (const rows of flags.values()) for (const r of rows) if (r.difference) used.add(r.difference.name);
    expect(DIFFERENCES.map((d) => d.name).filter((name) => !used.has(name))).toEqual([]);
  });

  it("docs/compatibility.md is what this run generates", () => {
    if (results.size !== SCENARIOS.length || flags.size !== PLUGINS.length) {
      console.warn("docs/compatibility.md not checked: not every scenario ran");
      return;
    }
    const doc = compatibilityDoc({ versions, results: SCENARIOS.map((s) => results.get(s.id)), flags });
    if (process.env.UPDATE_COMPATIBILITY === "1") writeFileSync(compatibilityDocPath, doc);
    const committed = existsSync(compatibilityDocPath) ? readFileSync(compatibilityDocPath, "utf8") : "";
    expect(
      committed === doc,
      "docs/compatibility.md is stale: rerun with UPDATE_COMPATIBILITY=1 " +
        "(cd conformance && UPDATE_COMPATIBILITY=1 pnpm exec vitest run src/upstream.test.ts) and commit it",
    ).toBe(true);
  });
});
