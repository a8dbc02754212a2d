/**
 * `pnpm bench`: what a kubelet cache miss costs. Each executable in dist/bin answers one request
 * per fresh process, as the kubelet runs it, against the local cloud emulator; the variants are
 * interleaved round by round so that machine noise hits all alike. Baselines measured in the same
 * run: `node -e 0` on the Node the executables embed, /bin/true, and plain node making one HTTPS
 * call (the floor for any Node provider). The measuring is in _bench.ts, which the regression
 * guard in the test command (bench.guard.test.ts) shares.
 *
 * Prints a table and writes bench-results/bench.json: median and p95 wall time, median user+sys
 * CPU time and peak RSS (GNU time, when installed), binary size, cloud calls per request, and
 * ratios to the baselines. `--rounds=N`, default 20. `--compare=LABEL=DIR` (repeatable) adds the
 * providers built in another directory (another branch's dist/bin, say), named `LABEL: name`, to
 * the same interleaved rounds. Where Go is installed, the upstream Go plugins of ECR, ACR and
 * Google (conformance/src/go.ts builds them at their pinned versions) run in the same rounds too,
 * with ours set up the same way (_bench-upstream.ts), and a second table shows, per cloud, ours
 * against upstream; `--no-upstream` leaves them out. Every run of a provider or an upstream plugin
 * must answer with a credential the emulator issued, else the bench fails. Then, per provider, a
 * burst of 50 concurrent execs against its token API throttled at 20 requests/s: answers, p50/p99
 * wall time, and the burst's peak total RSS.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import type { BurstResult, Variant } from "./_bench.ts";
import {
  assertBuilt,
  BASELINE_NODE,
  BASELINE_TRUE,
  BURST_TOKEN_ENDPOINTS,
  measure,
  measureBurst,
  PROVIDERS,
  root,
  runOnce,
  variants,
} from "./_bench.ts";
import type { Compared, ComparisonRow, Upstream } from "./_bench-upstream.ts";
import {
  CLOUD_ENDPOINTS,
  COMPARED,
  checkAnswer,
  checkSamples,
  comparison,
  OURS_ACR_MANAGED_IDENTITY,
  oursWithManagedIdentity,
  upstreamVariants,
} from "./_bench-upstream.ts";

const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");

const compare = process.argv
  .filter((a) => a.startsWith("--compare="))
  .map((a) => {
    const [label, dir] = a.slice("--compare=".length).split(/=(.*)/s);
    if (!label || !dir) throw new Error(`${a}: expected --compare=LABEL=DIR`);
    return { label, dir };
  });

assertBuilt();
for (const { dir } of compare) assertBuilt(dir);
const emulator = await startEmulator();
try {
  const list = variants(emulator);
  for (const { label, dir } of compare) {
    const names = new Set<string>(PROVIDERS);
    for (const variant of variants(emulator, dir)) {
      if (names.has(variant.name)) list.push({ ...variant, name: `${label}: ${variant.name}` });
    }
  }
  // Calls per request over every endpoint of the provider's cloud, as for upstream's plugins.
  for (const variant of list) {
    const endpoints = variant.image && CLOUD_ENDPOINTS[basename(variant.command[0] ?? "") as Compared];
    if (endpoints) variant.calls = endpoints;
  }
  const upstream = process.argv.includes("--no-upstream") ? undefined : await upstreamVariants(emulator);
  const compared: Variant[] = [];
  if (upstream) {
    compared.push(oursWithManagedIdentity(emulator), ...upstream.map((u) => u.variant));
    // Each must answer before it is measured: a plugin that exits 0 without credentials (upstream's
    // Google plugin does, when its metadata call fails) would otherwise be timed as if it had.
    for (const variant of compared) {
      const why = checkAnswer(emulator, variant, (await runOnce(variant)).stdout);
      if (why) throw new Error(`before measuring: ${why}`);
    }
    list.push(...compared);
  }
  const measurement = await measure({ rounds, variants: list });
  const { results, gnuTime } = measurement;
  checkSamples(
    emulator,
    list.filter((v) => v.image),
    measurement.samples,
  );
  const node = results.find((r) => r.name === BASELINE_NODE);
  const bin = results.find((r) => r.name === BASELINE_TRUE);
  console.log(
    `${rounds} rounds, interleaved; baselines: node -e 0 ${node?.medianMs.toFixed(1)} ms` +
      (node?.cpuMs != null ? ` (${node.cpuMs} ms CPU)` : "") +
      `, /bin/true ${bin?.medianMs.toFixed(1)} ms` +
      (gnuTime ? "" : "; no GNU time (/usr/bin/time): no CPU time or peak RSS"),
  );
  console.table(results);
  let vsUpstream: ComparisonRow[] | undefined;
  if (upstream) {
    const ours = Object.fromEntries(COMPARED.map((c) => [c, c])) as Record<Compared, string>;
    ours["acr-credential-provider"] = OURS_ACR_MANAGED_IDENTITY;
    vsUpstream = comparison(measurement, upstream, ours);
    console.log(
      `ours against the upstream Go plugins, same rounds: ${upstream.map((u: Upstream) => `${u.module} ${u.version}`).join(", ")}`,
    );
    console.table(vsUpstream);
  }
  // A node booting with 50 images: each provider's burst against its token API at 20 requests/s.
  const bursts: BurstResult[] = [];
  for (const variant of variants(emulator)) {
    const token = BURST_TOKEN_ENDPOINTS[variant.name];
    if (!token) continue;
    emulator.clearFaults();
    emulator.rateLimit(token, { perSecond: 20, burst: 1, retryAfter: 1 });
    bursts.push(await measureBurst({ variant, execs: 50 }));
  }
  emulator.clearFaults();
  console.log("50 concurrent execs, token API throttled at 20 requests/s (burst 1, Retry-After 1):");
  console.table(bursts);
  mkdirSync(join(root, "bench-results"), { recursive: true });
  writeFileSync(
    join(root, "bench-results/bench.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, results, vsUpstream, bursts }, null, 2)}\n`,
  );
  console.log("written: bench-results/bench.json");
} finally {
  await emulator.close();
}
