/**
 * `pnpm bench`: what a kubelet cache miss costs. Each executable in dist/bin answers one request
 * per fresh process, as the kubelet runs it, against the local cloud emulator; the variants are
 * interleaved round by round so that machine noise hits all alike. Baselines measured in the same
 * run: `node -e 0` on the Node the executables embed, and /bin/true.
 *
 * Prints a table and writes bench-results/bench.json: median and p95 wall time, median peak RSS
 * (GNU time, when installed), binary size, cloud calls per request, and ratios to the baselines.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";

const root = resolve(import.meta.dirname, "../../..");
const binDir = join(root, "dist/bin");
const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 20);
const gnuTime = ["/usr/bin/time"].find((path) => spawnSync(path, ["-f", "%M", "true"]).status === 0);

interface Variant {
  name: string;
  command: string[];
  stdin?: string;
  env?: Record<string, string>;
  /** The emulator endpoint ids this variant calls, for calls per request. */
  calls?: string[];
}

const request = (image: string) =>
  `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image })}\n`;

async function variants(emulator: Emulator): Promise<Variant[]> {
  const clientId = randomUUID();
  const azureJson = join(emulator.dir, "bench-azure.json");
  const azure = {
    tenantId: emulator.azure.tenantId,
    aadClientId: clientId,
    aadClientSecret: emulator.azure.registerClientSecret(clientId),
  };
  writeFileSync(azureJson, JSON.stringify(azure));
  const proxy = emulator.env();
  return [
    { name: "/bin/true", command: ["/bin/true"] },
    { name: "node -e 0", command: [process.execPath, "-e", "0"] },
    {
      name: "example-credential-provider",
      command: [join(binDir, "example-credential-provider"), `--api-key-file=${emulator.example.apiKeyFile}`],
      stdin: request("registry.example.com/team/app"),
      env: proxy,
      calls: ["example.token"],
    },
    {
      name: "ecr-credential-provider",
      command: [join(binDir, "ecr-credential-provider")],
      stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app"),
      env: {
        ...proxy,
        ...emulator.aws.credentialsEnv(),
        ...emulator.aws.imdsEnv(),
        AWS_CONFIG_FILE: "/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      },
      calls: ["ecr.GetAuthorizationToken"],
    },
    {
      name: "acr-credential-provider",
      command: [join(binDir, "acr-credential-provider"), azureJson],
      stdin: request("myregistry.azurecr.io/team/app"),
      env: { ...proxy, ...emulator.azure.imdsEnv() },
      calls: ["entra.token", "registry.v2", "acr.exchange"],
    },
    {
      name: "auth-provider-gcp",
      command: [join(binDir, "auth-provider-gcp"), "get-credentials"],
      stdin: request("us-docker.pkg.dev/my-project/team/app"),
      env: { ...proxy, ...emulator.google.metadataEnv() },
      calls: ["gce.token", "gce.metadata"],
    },
  ];
}

function runOnce(variant: Variant): Promise<{ ms: number; rssKb?: number }> {
  const [file, ...args] = gnuTime ? [gnuTime, "-f", "%M", ...variant.command] : variant.command;
  const started = process.hrtime.bigint();
  return new Promise((resolveRun, reject) => {
    const child = spawn(file as string, args, { env: variant.env ?? {}, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0)
        return reject(
          new Error(`${variant.name} exited ${code}: ${stderr.trim().split("\n").at(-2) ?? stderr}`),
        );
      const rss = gnuTime ? Number(stderr.trim().split("\n").at(-1)) : undefined;
      resolveRun(rss === undefined || Number.isNaN(rss) ? { ms } : { ms, rssKb: rss });
    });
    // A baseline that exits without reading stdin closes the pipe first: that EPIPE is expected.
    child.stdin.on("error", () => {});
    child.stdin.end(variant.stdin ?? "");
  });
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

const emulator = await startEmulator();
try {
  for (const name of [
    "example-credential-provider",
    "ecr-credential-provider",
    "acr-credential-provider",
    "auth-provider-gcp",
  ]) {
    if (!existsSync(join(binDir, name))) throw new Error(`dist/bin/${name} is missing: run pnpm build first`);
  }
  const list = await variants(emulator);
  const samples = new Map(list.map((v) => [v.name, [] as Array<{ ms: number; rssKb?: number }>]));
  const callsBefore = emulator.callCounts();
  for (let round = 0; round < rounds; round++) {
    for (const variant of list) samples.get(variant.name)?.push(await runOnce(variant));
  }
  const callsAfter = emulator.callCounts();
  const median = (name: string) =>
    quantile(
      (samples.get(name) ?? []).map((s) => s.ms),
      0.5,
    );
  const nodeMs = median("node -e 0");
  const trueMs = median("/bin/true");
  const nodeRss = quantile(
    (samples.get("node -e 0") ?? []).map((s) => s.rssKb ?? Number.NaN),
    0.5,
  );
  const results = list.map((variant) => {
    const runs = samples.get(variant.name) ?? [];
    const ms = runs.map((s) => s.ms);
    const rss = quantile(
      runs.map((s) => s.rssKb ?? Number.NaN),
      0.5,
    );
    const calls = (variant.calls ?? []).reduce(
      (sum, id) => sum + ((callsAfter[id] ?? 0) - (callsBefore[id] ?? 0)),
      0,
    );
    const binary = variant.command[0] as string;
    return {
      name: variant.name,
      medianMs: Math.round(quantile(ms, 0.5) * 10) / 10,
      p95Ms: Math.round(quantile(ms, 0.95) * 10) / 10,
      peakRssKb: Number.isNaN(rss) ? null : rss,
      sizeBytes: binary.startsWith("/") && existsSync(binary) ? statSync(binary).size : null,
      cloudCallsPerRequest: variant.calls ? calls / rounds : 0,
      vsNode: Math.round((quantile(ms, 0.5) / nodeMs) * 100) / 100,
      vsTrue: Math.round((quantile(ms, 0.5) / trueMs) * 10) / 10,
      rssVsNode: Number.isNaN(rss) || Number.isNaN(nodeRss) ? null : Math.round((rss / nodeRss) * 100) / 100,
    };
  });
  console.log(
    `${rounds} rounds, interleaved; baselines: node -e 0 ${nodeMs.toFixed(1)} ms, /bin/true ${trueMs.toFixed(1)} ms`,
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
