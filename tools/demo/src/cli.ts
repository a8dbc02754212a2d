/**
 * `pnpm demo`: the built executables in dist/bin doing a kubelet's work against the local cloud
 * emulator. For each cloud, the kubelet simulator runs the provider as the kubelet would, for a few
 * images, and checks the credentials at the emulated registry; the providers reach their clouds'
 * real hostnames through HTTPS_PROXY with the emulator's CA, as on a node behind a corporate proxy.
 *
 * Everything started here is stopped on the way out, also on Ctrl-C: the emulator's listeners, the
 * simulator and its plugins, and the temporary directory.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";

const root = resolve(import.meta.dirname, "../../..");
const binDir = join(root, "dist/bin");
const configs = join(import.meta.dirname, "../configs");
const sim = join(binDir, "kubelet-credential-sim");

interface Tour {
  title: string;
  provider: string;
  config: string;
  images: string[];
  /**
   * An image on a host that looks like the cloud's and that the config's matchImages send to the
   * provider, which must refuse it before any cloud call.
   */
  lookalike: string;
  /** The node's environment for this cloud, beyond the emulator's proxy settings. */
  setUp(
    emulator: Emulator,
    workDir: string,
  ): Promise<{ env?: Record<string, string>; vars: Record<string, string> }>;
}

const TOURS: Tour[] = [
  {
    title: "Example registry (the SDK walkthrough)",
    provider: "example-credential-provider",
    config: "example.yaml",
    images: [
      "registry.example.com/team/app:1.0",
      "registry.example.com/team/worker:2.3",
      "eu.registry.example.com/team/app:1.0",
      "docker.io/library/nginx:1.27",
    ],
    lookalike: "mirror.example.com/team/app:1.0",
    setUp: async (emulator) => ({ vars: { API_KEY_FILE: emulator.example.apiKeyFile } }),
  },
  {
    title: "Amazon ECR, with the node's AWS credentials",
    provider: "ecr-credential-provider",
    config: "ecr.yaml",
    images: [
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0",
      "123456789012.dkr-ecr.us-west-2.on.aws/team/app:1.0",
      "public.ecr.aws/nginx/nginx:1.27",
    ],
    lookalike: "12345.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0",
    setUp: async (emulator) => ({
      env: {
        AWS_CONFIG_FILE: "/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
        ...emulator.aws.imdsEnv(),
        ...emulator.aws.credentialsEnv(),
      },
      vars: {},
    }),
  },
  {
    title: "Azure Container Registry, with a service principal",
    provider: "acr-credential-provider",
    config: "acr.yaml",
    images: ["myregistry.azurecr.io/team/app:1.0", "myregistry.azurecr.io/team/worker:2.3"],
    lookalike: "my-evil-registry.azurecr.io/team/app:1.0",
    setUp: async (emulator, workDir) => {
      const clientId = randomUUID();
      const secret = emulator.azure.registerClientSecret(clientId);
      const azureJson = join(workDir, "azure.json");
      const cloudConfig = {
        cloud: "AzurePublicCloud",
        tenantId: emulator.azure.tenantId,
        aadClientId: clientId,
        aadClientSecret: secret,
      };
      writeFileSync(azureJson, JSON.stringify(cloudConfig), { mode: 0o600 });
      return { env: emulator.azure.imdsEnv(), vars: { AZURE_JSON: azureJson } };
    },
  },
  {
    title: "Google Artifact Registry and Container Registry, with the node's service account",
    provider: "auth-provider-gcp",
    config: "gcp.yaml",
    images: [
      "us-docker.pkg.dev/my-project/team/app:1.0",
      "us-docker.pkg.dev/my-project/team/worker:2.3",
      "gcr.io/my-project/app:1.0",
    ],
    lookalike: "storage.cloud.google.com/my-project/app:1.0",
    setUp: async (emulator) => ({ env: emulator.google.metadataEnv(), vars: {} }),
  },
];

for (const name of ["kubelet-credential-sim", ...TOURS.map((tour) => tour.provider)]) {
  if (!existsSync(join(binDir, name))) {
    console.error(`demo: dist/bin/${name} is missing: run pnpm build first`);
    process.exit(1);
  }
}

const workDir = mkdtempSync(join(tmpdir(), "kcp-demo-"));
const emulator = await startEmulator();
let child: ChildProcess | undefined;
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= (async () => {
    await _endChild();
    await emulator.close();
    rmSync(workDir, { recursive: true, force: true });
  })();
  return stopping;
};
/** Stops the simulator, which stops its plugins, and waits until it is gone. */
async function _endChild(): Promise<void> {
  const running = child;
  if (!running || running.exitCode !== null || running.signalCode !== null) return;
  const closed = new Promise<void>((resolveClosed) => running.once("close", () => resolveClosed()));
  running.kill("SIGTERM");
  const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
  await closed;
  clearTimeout(timer);
}

/** Runs the simulator, its output shown as it comes (`show`) and returned. */
function _runSim(
  args: string[],
  env: Record<string, string>,
  show: boolean,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    child = spawn(sim, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (show) process.stdout.write(chunk);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, output }));
  });
}

const _totalCalls = () => Object.values(emulator.callCounts()).reduce((sum, n) => sum + n, 0);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stop().then(() => process.exit(130));
  });
}

try {
  console.log("kubelet-credential-providers demo\n");
  console.log(`cloud emulator: https ${emulator.httpsUrl}, proxy ${emulator.proxyUrl} (work dir ${workDir})`);
  const printed: string[] = [];
  const stderrDir = join(workDir, "plugin-stderr");
  let failed = false;

  for (const [index, tour] of TOURS.entries()) {
    // Interrupted: start nothing new while the signal handler tears everything down.
    if (stopping) break;
    const { env = {}, vars } = await tour.setUp(emulator, workDir);
    const template = readFileSync(join(configs, tour.config), "utf8");
    const config = join(workDir, tour.config);
    writeFileSync(
      config,
      template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => vars[key] ?? ""),
    );

    console.log(`\n== ${tour.title} ==`);
    console.log(`kubelet config: ${relative(root, join(configs, tour.config))}`);
    console.log(`$ kubelet-credential-sim lookup --config ${tour.config} --bin-dir dist/bin --verify \\`);
    console.log(`    ${tour.images.join(" ")}\n`);
    const args = ["lookup", "--config", config, "--bin-dir", binDir, "--verify"];
    args.push("--plugin-stderr-dir", join(stderrDir, String(index)), ...tour.images);
    // The kubelet's environment on a node behind a proxy: no Node, no PATH needed.
    if (stopping) break;
    const result = await _runSim(args, { ...emulator.env(), ...env }, true);
    printed.push(result.output);
    if (result.code !== 0) failed = true;

    // The lookalike: the provider runs (its pattern matches) and refuses, and the cloud hears nothing.
    if (stopping) break;
    const callsBefore = _totalCalls();
    const refusal = await _runSim(
      ["lookup", "--config", config, "--bin-dir", binDir, tour.lookalike],
      { ...emulator.env(), ...env },
      false,
    );
    printed.push(refusal.output);
    const calls = _totalCalls() - callsBefore;
    const refused = refusal.code === 1 && refusal.output.includes("not this provider's registry");
    const host = tour.lookalike.split("/")[0];
    console.log(
      refused && calls === 0
        ? `refused: ${host}, a lookalike its matchImages let through: the provider said no, with no cloud call`
        : `NOT refused as it should be: ${host} (exit ${refusal.code}, ${calls} cloud calls):\n${refusal.output}`,
    );
    if (!refused || calls !== 0) failed = true;
  }

  for (const dir of existsSync(stderrDir) ? readdirSync(stderrDir) : []) {
    for (const file of readdirSync(join(stderrDir, dir)))
      printed.push(readFileSync(join(stderrDir, dir, file), "utf8"));
  }
  const leaked = emulator.issued().filter((secret) => printed.some((text) => text.includes(secret)));
  const counts = Object.entries(emulator.callCounts())
    .map(([id, n]) => `${id} ${n}`)
    .join(", ");
  console.log(`\nemulated cloud calls: ${counts}`);
  console.log(
    leaked.length === 0
      ? `leak check: none of the ${emulator.issued().length} secrets the clouds issued appears in any output`
      : `leak check: ${leaked.length} issued secret(s) appeared in the output`,
  );
  if (failed || leaked.length > 0) {
    console.error("demo: failed");
    process.exitCode = 1;
  }
} finally {
  await stop();
}
