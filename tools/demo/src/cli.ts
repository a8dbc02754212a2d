/**
 * `pnpm demo`: the built executables in dist/bin doing a kubelet's work against the local cloud
 * emulator. The kubelet simulator runs each provider as the kubelet would, for a few images, and
 * checks the credentials at the emulated registry; the providers reach their cloud's real hostnames
 * through HTTPS_PROXY with the emulator's CA, as on a node behind a corporate proxy.
 *
 * Everything started here is stopped on the way out, also on Ctrl-C: the emulator's listeners, the
 * simulator and its plugins, and the temporary directory.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";

const root = resolve(import.meta.dirname, "../../..");
const binDir = join(root, "dist/bin");
const sim = join(binDir, "kubelet-credential-sim");
const IMAGES = [
  "registry.example.com/team/app:1.0",
  "registry.example.com/team/worker:2.3",
  "eu.registry.example.com/team/app:1.0",
  "docker.io/library/nginx:1.27",
];

for (const name of ["kubelet-credential-sim", "example-credential-provider"]) {
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
    child?.kill("SIGTERM");
    await emulator.close();
    rmSync(workDir, { recursive: true, force: true });
  })();
  return stopping;
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stop().then(() => process.exit(130));
  });
}

try {
  const config = join(workDir, "example.yaml");
  const template = readFileSync(join(import.meta.dirname, "../example.yaml"), "utf8");
  writeFileSync(config, template.replaceAll("{{API_KEY_FILE}}", emulator.example.apiKeyFile));
  const stderrDir = join(workDir, "plugin-stderr");

  console.log("kubelet-credential-providers demo\n");
  console.log(`cloud emulator: https ${emulator.httpsUrl}, proxy ${emulator.proxyUrl} (work dir ${workDir})`);
  console.log(`kubelet config: ${relative(root, join(import.meta.dirname, "../example.yaml"))}`);
  console.log(
    `\n$ kubelet-credential-sim lookup --config example.yaml --bin-dir dist/bin --verify \\\n    ${IMAGES.join(" ")}\n`,
  );

  const args = [
    "lookup",
    "--config",
    config,
    "--bin-dir",
    binDir,
    "--verify",
    "--plugin-stderr-dir",
    stderrDir,
  ];
  // The kubelet's environment on a node behind a proxy: no Node, no PATH needed.
  const result = await new Promise<{ code: number | null; output: string }>((resolveRun, reject) => {
    child = spawn(sim, [...args, ...IMAGES], { env: emulator.env(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const show = (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout?.on("data", show);
    child.stderr?.on("data", show);
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, output }));
  });

  const pluginStderr = existsSync(stderrDir)
    ? readdirSync(stderrDir).map((file) => readFileSync(join(stderrDir, file), "utf8"))
    : [];
  const leaked = emulator
    .issued()
    .filter((secret) => [result.output, ...pluginStderr].some((text) => text.includes(secret)));
  const counts = Object.entries(emulator.callCounts())
    .map(([id, n]) => `${id} ${n}`)
    .join(", ");
  console.log(`\nemulated cloud calls: ${counts}`);
  console.log(
    leaked.length === 0
      ? `leak check: none of the ${emulator.issued().length} secrets the cloud issued appears in any output`
      : `leak check: ${leaked.length} issued secret(s) appeared in the output`,
  );
  if (result.code !== 0 || leaked.length > 0) {
    console.error(`demo: failed (simulator exit ${result.code})`);
    process.exitCode = 1;
  }
} finally {
  await stop();
}
