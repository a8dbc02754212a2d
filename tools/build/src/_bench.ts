/**
 * What a kubelet cache miss costs, as a library: `pnpm bench` (bench.ts) prints it, the regression
 * guard (bench.guard.test.ts) holds it against ceilings. Each executable in dist/bin answers one
 * request per fresh process, as the kubelet runs it, against the local cloud emulator; the variants
 * are interleaved round by round so that machine noise hits all alike. Baselines measured in the
 * same run: `node -e 0` on the repo's Node 24 (what a Node provider could not start under), and
 * /bin/true.
 *
 * Per run: wall time (from this process), and through GNU time, when installed, user+sys CPU time
 * and peak RSS. CPU time is much steadier than wall time on a shared machine.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups } from "@kubelet-credential-provider/cloud-emulator";

export const root = resolve(import.meta.dirname, "../../..");
export const binDir = join(root, "dist/bin");

/** The providers the bench runs, by their file name in dist/bin. */
export const PROVIDERS = [
  "example-credential-provider",
  "ecr-credential-provider",
  "acr-credential-provider",
  "auth-provider-gcp",
] as const;
export type Provider = (typeof PROVIDERS)[number];

export const BASELINE_NODE = "node -e 0";
export const BASELINE_TRUE = "/bin/true";
/**
 * The floor for any Node provider: plain `node` making the example provider's one HTTPS call
 * (CONNECT through the proxy, TLS, POST) with node:http and node:tls, and printing the answer.
 */
export const BASELINE_HTTPS = "node: one HTTPS call";

const ONE_HTTPS_CALL = `
const { readFileSync } = require("node:fs");
const http = require("node:http");
const tls = require("node:tls");
const proxy = new URL(process.env.HTTPS_PROXY);
const key = readFileSync(process.env.API_KEY_FILE, "utf8").trim();
const body = JSON.stringify({ registry: "registry.example.com" });
http.request({ host: proxy.hostname, port: proxy.port, method: "CONNECT", path: "auth.registry.example.com:443" })
  .on("connect", (_, socket) => {
    const secure = tls.connect({ socket, servername: "auth.registry.example.com" }, () => {
      secure.end("POST /token HTTP/1.1\\r\\nhost: auth.registry.example.com\\r\\nauthorization: Bearer " + key +
        "\\r\\ncontent-type: application/json\\r\\ncontent-length: " + body.length + "\\r\\nconnection: close\\r\\n\\r\\n" + body);
    });
    let answer = "";
    secure.setEncoding("utf8").on("data", (chunk) => (answer += chunk));
    secure.on("end", () => process.stdout.write(answer.slice(answer.indexOf("\\r\\n\\r\\n") + 4)));
  })
  .end();
`;

/** GNU time, when installed: CPU time and peak RSS per run. */
export const gnuTime: string | undefined = ["/usr/bin/time"].find(
  (path) => spawnSync(path, ["-f", "%M", "true"]).status === 0,
);

/**
 * The Node of the baselines: the repo's pinned `node` package, whichever Node runs this (the
 * machine's may be older); else this process's own.
 */
export const nodeBinary: string = existsSync(join(root, "node_modules/.bin/node"))
  ? realpathSync(join(root, "node_modules/.bin/node"))
  : process.execPath;

export interface Variant {
  name: string;
  command: string[];
  stdin?: string;
  env?: Record<string, string>;
  /** The image asked for, for providers: the answer must carry credentials that match it. */
  image?: string;
  /** The emulator endpoint ids this variant calls, for calls per request. */
  calls?: string[];
  /** The emulator's call counts by endpoint id, read before and after the rounds. */
  callCounts?: () => Record<string, number>;
}

export const request = (image: string) =>
  `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image })}\n`;

/** Fails, naming it, when a provider's executable is not in dist/bin. */
export function assertBuilt(dir = binDir): void {
  for (const name of PROVIDERS) {
    if (!existsSync(join(dir, name))) throw new Error(`dist/bin/${name} is missing: run pnpm build first`);
  }
}

/** The two baselines and the four providers, each set up against `emulator`. */
export function variants(emulator: Emulator, dir = binDir): Variant[] {
  const proxy = emulator.env();
  const callCounts = () => emulator.callCounts();
  const providers = nodeSetups(emulator).map(
    (setup): Variant => ({
      name: setup.name,
      command: [join(dir, setup.name), ...setup.args],
      env: setup.env,
      image: setup.image,
      stdin: request(setup.image),
      calls: setup.calls,
      callCounts,
    }),
  );
  return [
    { name: BASELINE_TRUE, command: ["/bin/true"] },
    { name: BASELINE_NODE, command: [nodeBinary, "-e", "0"] },
    {
      name: BASELINE_HTTPS,
      command: [nodeBinary, "-e", ONE_HTTPS_CALL],
      env: { ...proxy, API_KEY_FILE: emulator.example.apiKeyFile },
      calls: ["example.token"],
      callCounts,
    },
    ...providers,
  ];
}

export interface Sample {
  wallMs: number;
  /** User + system CPU time, from bash's `time` (to the ms) or else GNU time's (to 10 ms). */
  cpuMs?: number;
  rssKb?: number;
  stdout: string;
}

/**
 * GNU time prints user and system time each truncated to 10 ms, too coarse for `node -e 0` (about
 * 45 ms of CPU, which it reports as 10 to 30): so, when bash is there, its `time` keyword around
 * GNU time gives the CPU time to the ms (it includes GNU time's own, about 4 ms, as /bin/true's row
 * shows). Its elapsed time is then the wall time: bash's own start (several ms when spawned from
 * here) would otherwise be in every row; without bash, wall time is measured from here.
 */
const bash = gnuTime && existsSync("/bin/bash") ? "/bin/bash" : undefined;

function _timed(command: string[]): string[] {
  if (!gnuTime) return command;
  const withGnuTime = [gnuTime, "-f", "%e %U %S %M", ...command];
  return bash ? [bash, "-c", 'TIMEFORMAT="%3R %3U %3S"; time "$@"', "bench", ...withGnuTime] : withGnuTime;
}

/** One request in a fresh process; rejects, with the last line of stderr, unless it exits 0. */
export function runOnce(variant: Variant): Promise<Sample> {
  const [file, ...args] = _timed(variant.command);
  const started = process.hrtime.bigint();
  return new Promise((resolveRun, reject) => {
    const child = spawn(file as string, args, { env: variant.env ?? {}, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const lines = stderr.trim().split("\n");
      // The timing lines come last: bash's after GNU time's.
      const bashLine = bash ? lines.pop() : undefined;
      const gnuLine = gnuTime ? lines.pop() : undefined;
      if (code !== 0) {
        const own = lines.filter(
          (line) => line.trim() !== "" && !line.startsWith("Command exited with non-zero status"),
        );
        // A Go plugin's error comes first (cobra's `Error: …`, klog's `E1206 …`), its usage after.
        const error = own.find((line) => /^(Error: |E\d{4} )/.test(line)) ?? own.at(-1);
        return reject(new Error(`${variant.name} exited ${code}: ${error ?? stderr}`));
      }
      const sample: Sample = { wallMs, stdout };
      if (gnuLine !== undefined) {
        const [, user, sys, rss] = gnuLine.trim().split(/\s+/).map(Number);
        const [bashReal, bashUser, bashSys] = (bashLine ?? "").trim().split(/\s+/).map(Number);
        if (bashReal !== undefined && !Number.isNaN(bashReal)) sample.wallMs = bashReal * 1000;
        const cpu = bashLine !== undefined ? Number(bashUser) + Number(bashSys) : Number(user) + Number(sys);
        if (!Number.isNaN(cpu)) sample.cpuMs = Math.round(cpu * 1000);
        if (rss !== undefined && !Number.isNaN(rss)) sample.rssKb = rss;
      }
      resolveRun(sample);
    });
    // A baseline that exits without reading stdin closes the pipe first: that EPIPE is expected.
    child.stdin.on("error", () => {});
    child.stdin.end(variant.stdin ?? "");
  });
}

export const quantile = (values: number[], q: number) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

export interface VariantResult {
  name: string;
  medianMs: number;
  p95Ms: number;
  /** Median user + system CPU time; null without GNU time. */
  cpuMs: number | null;
  peakRssKb: number | null;
  sizeBytes: number | null;
  /** Calls to the variant's emulator endpoints, in all, per request. */
  cloudCallsPerRequest: number;
  /** Median wall time over `node -e 0`'s, and over /bin/true's. */
  vsNode: number;
  vsTrue: number;
  /** Median CPU time over `node -e 0`'s; null without GNU time. */
  cpuVsNode: number | null;
  rssVsNode: number | null;
  /**
   * Median CPU time over that of plain Node making one HTTPS call (BASELINE_HTTPS): what a
   * provider costs beyond the floor any Node provider pays; null without GNU time.
   */
  cpuVsHttps: number | null;
}

export interface Measurement {
  rounds: number;
  /** Whether CPU time and peak RSS were measured (GNU time is installed). */
  gnuTime: boolean;
  results: VariantResult[];
  /** Per variant name, every run in round order. */
  samples: Map<string, Sample[]>;
  /** Per variant name, calls per request by endpoint id (each id of the variant's `calls`). */
  callsByEndpoint: Map<string, Record<string, number>>;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const orNull = (value: number) => (Number.isNaN(value) ? null : value);

export interface MeasureOptions {
  rounds: number;
  variants: Variant[];
  /** Rounds run first and not counted (page cache, the emulator's first connections); default 0. */
  warmup?: number;
}

/**
 * Runs every variant `rounds` times, interleaved. The baselines `node -e 0` and /bin/true must be
 * among `variants` for the ratios (they are null otherwise). Rejects on a run that does not exit 0.
 */
/**
 * Drops each file's pages from the page cache (GNU dd's `iflag=nocache`: posix_fadvise
 * DONTNEED), so that every executable is read back from disk by readahead, as on a node after a
 * reboot. A file the build has just written stays in the page cache in large folios, which the
 * kernel's fault-around maps whole: the same bytes then measured 5 to 6 MB more peak RSS (Google's
 * `--version`: 36.6 MB just built, 30.5 MB read back), and which binaries were fresh decided the
 * comparison. Best effort: without GNU dd nothing is dropped.
 */
function _dropPageCache(files: readonly string[]): void {
  for (const file of new Set(files)) {
    if (!file.startsWith("/")) continue;
    // Dirty pages cannot be dropped: write the file out first (GNU sync FILE).
    spawnSync("sync", [file], { stdio: "ignore" });
    spawnSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"], { stdio: "ignore" });
  }
}

export async function measure({ rounds, variants, warmup = 0 }: MeasureOptions): Promise<Measurement> {
  _dropPageCache(variants.map((v) => v.command[0] as string));
  for (let r = 0; r < warmup; r++) {
    for (const variant of variants) await runOnce(variant);
  }
  const samples = new Map(variants.map((v) => [v.name, [] as Sample[]]));
  // Counted around each run, not over all rounds: variants share endpoints (the HTTPS baseline
  // calls the example's token service, every registry is registry.v2).
  const calls = new Map(variants.map((v) => [v.name, {} as Record<string, number>]));
  for (let r = 0; r < rounds; r++) {
    for (const variant of variants) {
      const before = variant.callCounts?.() ?? {};
      samples.get(variant.name)?.push(await runOnce(variant));
      const after = variant.callCounts?.() ?? {};
      const total = calls.get(variant.name) ?? {};
      for (const id of variant.calls ?? [])
        total[id] = (total[id] ?? 0) + (after[id] ?? 0) - (before[id] ?? 0);
    }
  }
  const callsByEndpoint = new Map(
    variants.map((v) => {
      const total = calls.get(v.name) ?? {};
      return [
        v.name,
        Object.fromEntries((v.calls ?? []).map((id) => [id, (total[id] ?? 0) / rounds])),
      ] as const;
    }),
  );
  const median = (name: string, of: (s: Sample) => number | undefined) =>
    quantile(
      (samples.get(name) ?? []).map((s) => of(s) ?? Number.NaN),
      0.5,
    );
  const nodeMs = median(BASELINE_NODE, (s) => s.wallMs);
  const trueMs = median(BASELINE_TRUE, (s) => s.wallMs);
  const nodeCpu = median(BASELINE_NODE, (s) => s.cpuMs);
  const nodeRss = median(BASELINE_NODE, (s) => s.rssKb);
  const httpsCpu = median(BASELINE_HTTPS, (s) => s.cpuMs);
  const results = variants.map((variant): VariantResult => {
    const runs = samples.get(variant.name) ?? [];
    const ms = runs.map((s) => s.wallMs);
    const wall = quantile(ms, 0.5);
    const cpu = median(variant.name, (s) => s.cpuMs);
    const rss = median(variant.name, (s) => s.rssKb);
    const binary = variant.command[0] as string;
    return {
      name: variant.name,
      medianMs: round(wall, 1),
      p95Ms: round(quantile(ms, 0.95), 1),
      cpuMs: orNull(cpu),
      peakRssKb: orNull(rss),
      sizeBytes: binary.startsWith("/") && existsSync(binary) ? statSync(binary).size : null,
      cloudCallsPerRequest: Object.values(callsByEndpoint.get(variant.name) ?? {}).reduce((a, b) => a + b, 0),
      vsNode: round(wall / nodeMs, 2),
      vsTrue: round(wall / trueMs, 1),
      cpuVsNode: orNull(round(cpu / nodeCpu, 2)),
      rssVsNode: orNull(round(rss / nodeRss, 2)),
      cpuVsHttps: orNull(round(cpu / httpsCpu, 2)),
    };
  });
  return { rounds, gnuTime: gnuTime !== undefined, results, samples, callsByEndpoint };
}

export interface BurstOptions {
  /** The provider, as nodeSetups() sets it up. */
  variant: Variant;
  /** Concurrent execs. */
  execs: number;
  /** How often to sample the execs' resident memory. */
  sampleEveryMs?: number;
}

export interface BurstResult {
  name: string;
  execs: number;
  answered: number;
  p50Ms: number;
  p99Ms: number;
  /** The most memory all execs of the burst held at once (summed VmRSS, sampled). */
  peakTotalRssMb: number;
}

/**
 * A node booting with many images: `execs` processes of one provider at once (against whatever
 * throttling the caller set on the emulator), each timed from its spawn to its exit; their
 * resident memory is summed from /proc every few ms for the burst's peak.
 */
export async function measureBurst({
  variant,
  execs,
  sampleEveryMs = 20,
}: BurstOptions): Promise<BurstResult> {
  const live = new Set<number>();
  let peakKb = 0;
  const sampler = setInterval(() => {
    let total = 0;
    for (const pid of live) {
      try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
        total += Number(kb ?? 0);
      } catch {
        // exited between the set and the read
      }
    }
    peakKb = Math.max(peakKb, total);
  }, sampleEveryMs);
  const [file, ...args] = variant.command;
  const runs = await Promise.all(
    Array.from(
      { length: execs },
      () =>
        new Promise<{ ms: number; code: number | null }>((resolveRun, reject) => {
          const started = process.hrtime.bigint();
          // A pipe, as the kubelet gives: a provider refuses to answer into /dev/null.
          const child = spawn(file as string, args, {
            env: variant.env ?? {},
            stdio: ["pipe", "pipe", "ignore"],
          });
          child.stdout.resume();
          if (child.pid) live.add(child.pid);
          child.on("error", reject);
          child.on("close", (code) => {
            if (child.pid) live.delete(child.pid);
            resolveRun({ ms: Number(process.hrtime.bigint() - started) / 1e6, code });
          });
          child.stdin.on("error", () => {});
          child.stdin.end(variant.stdin ?? "");
        }),
    ),
  );
  clearInterval(sampler);
  const ms = runs.map((r) => r.ms);
  return {
    name: variant.name,
    execs,
    answered: runs.filter((r) => r.code === 0).length,
    p50Ms: round(quantile(ms, 0.5), 0),
    p99Ms: round(quantile(ms, 0.99), 0),
    peakTotalRssMb: round(peakKb / 1024, 0),
  };
}

/** The token API each provider's burst is throttled on (see test-e2e/adversarial's burst test). */
export const BURST_TOKEN_ENDPOINTS: Readonly<Record<string, string>> = {
  "ecr-credential-provider": "ecr.GetAuthorizationToken",
  "acr-credential-provider": "entra.token",
  "auth-provider-gcp": "gce.token",
};
