/**
 * `pnpm bench`: what a kubelet cache miss costs. Each executable in dist/bin answers one request
 * per fresh process, as the kubelet runs it, against the local cloud emulator; the variants are
 * interleaved round by round so that machine noise hits all alike. Baselines measured in the same
 * run: `node -e 0` on the Node the executables embed, and /bin/true. The measuring is in
 * _bench.ts, which the regression guard in the test command (bench.guard.test.ts) shares.
 *
 * Prints a table and writes bench-results/bench.json: median and p95 wall time, median user+sys
 * CPU time and peak RSS (GNU time, when installed), binary size, cloud calls per request, and
 * ratios to the baselines. `--rounds=N`, default 20.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { assertBuilt, BASELINE_NODE, BASELINE_TRUE, measure, root, variants } from "./_bench.ts";

const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");

assertBuilt();
const emulator = await startEmulator();
try {
  const { results, gnuTime } = await measure({ rounds, variants: variants(emulator) });
  const node = results.find((r) => r.name === BASELINE_NODE);
  const bin = results.find((r) => r.name === BASELINE_TRUE);
  console.log(
    `${rounds} rounds, interleaved; baselines: node -e 0 ${node?.medianMs.toFixed(1)} ms` +
      (node?.cpuMs != null ? ` (${node.cpuMs} ms CPU)` : "") +
      `, /bin/true ${bin?.medianMs.toFixed(1)} ms` +
      (gnuTime ? "" : "; no GNU time (/usr/bin/time): no CPU time or peak RSS"),
  );
  console.table(results);
  mkdirSync(join(root, "bench-results"), { recursive: true });
  writeFileSync(
    join(root, "bench-results/bench.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, results }, null, 2)}\n`,
  );
  console.log("written: bench-results/bench.json");
} finally {
  await emulator.close();
}
