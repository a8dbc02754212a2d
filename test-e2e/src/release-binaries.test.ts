/**
 * The release binaries in dist/release (`pnpm build:release`, also run by `pnpm test`), as a node
 * of each architecture would run them: listed in SHA256SUMS with the right digest, and answering a
 * real request against the emulator with nothing but the cloud's settings in the environment (no
 * PATH, no Node), also with NODE_OPTIONS set; and, on amd64, unmoved by what Bun or Node would
 * read from the environment or the working directory (NODE_DEBUG, .env, bunfig.toml and its
 * preload, package.json, tsconfig.json), except BUN_OPTIONS, which Bun always honours and
 * docs/install.md warns about. The linux-arm64 ones run under qemu-user; without
 * it (a developer machine that has not installed it) their tests are skipped and say why, while
 * CI installs it (.ci/run) and then requires them. kubelet-credential-sim, which ships in every
 * provider's release for the node installer, is checked the same way: its version, and a config
 * merge (YAML in, the kubelet's validation) run by the binary alone.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Emulator, NodeSetup } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommit } from "../../packages/build/src/commit.ts";

const releaseDir = resolve(import.meta.dirname, "../../dist/release");
const qemu = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"];
const qemuAvailable =
  spawnSync(qemu[0] as string, ["--version"], { stdio: "ignore" }).status === 0 &&
  existsSync("/usr/aarch64-linux-gnu/lib");
const arm64Required = process.env.CI === "true" || qemuAvailable;

const PROVIDERS = ["ecr-credential-provider", "acr-credential-provider", "auth-provider-gcp"] as const;
type ProviderName = (typeof PROVIDERS)[number];
const SIM = "kubelet-credential-sim";
const SIM_VERSION = (
  JSON.parse(
    readFileSync(resolve(import.meta.dirname, "../../packages/kubelet-sim/package.json"), "utf8"),
  ) as {
    version: string;
  }
).version;

// What the build named: the binaries are built from this work tree just before the tests run.
const builtCommit = buildCommit(resolve(import.meta.dirname, "../.."));

let emulator: Emulator;
let setups: Map<string, NodeSetup>;

beforeAll(async () => {
  emulator = await startEmulator();
  setups = new Map(nodeSetups(emulator).map((setup) => [setup.name, setup]));
});

afterAll(async () => {
  await emulator?.close();
});

function sums(): Map<string, string> {
  const file = join(releaseDir, "SHA256SUMS");
  if (!existsSync(file)) throw new Error("dist/release/SHA256SUMS is missing: run pnpm build:release");
  return new Map(
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => {
        const [digest, name] = line.split(/ {2}/);
        return [name as string, digest as string];
      }),
  );
}

interface Run {
  image: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous: the emulator answers from this very process. */
function answer(
  runner: string[],
  name: ProviderName,
  extraEnv: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  const setup = setups.get(name);
  if (!setup) throw new Error(`the emulator has no node setup for ${name}`);
  const { args, image, env } = setup;
  const arch = runner.length > 0 ? "arm64" : "amd64";
  const [command, ...prefix] = [...runner, join(releaseDir, `${name}-linux-${arch}`)];
  const request = {
    kind: "CredentialProviderRequest",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    image,
  };
  return new Promise((resolveRun, reject) => {
    const child = spawn(command as string, [...prefix, ...args], { env: { ...env, ...extraEnv }, cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolveRun({ image, status, stdout, stderr }));
    child.stdin.end(`${JSON.stringify(request)}\n`);
  });
}

/**
 * The simulator's release binary, alone (no PATH, NODE_OPTIONS set): its --version, then a provider
 * added to a YAML config with a comment, which must stay, and the result valid for the kubelet.
 */
function expectSimWorks(runner: string[]): void {
  const arch = runner.length > 0 ? "arm64" : "amd64";
  const [command, ...prefix] = [...runner, join(releaseDir, `${SIM}-linux-${arch}`)];
  const env = { NODE_OPTIONS: "--require /nonexistent" };
  const run = (args: string[]) =>
    spawnSync(command as string, [...prefix, ...args], { env, encoding: "utf8", timeout: 120_000 });
  const version = run(["--version"]);
  expect(version.stderr).toBe("");
  // The version is package.json's; the commit and platform are the build's.
  expect(version.stdout).toBe(`${SIM} ${SIM_VERSION} (${builtCommit}, linux/${arch})\n`);
  expect(version.status).toBe(0);

  const dir = mkdtempSync(join(tmpdir(), "kcp-release-sim-"));
  try {
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      "# kept\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n" +
        "- name: ecr-credential-provider\n  matchImages: ['*.dkr.ecr.*.amazonaws.com']\n" +
        "  defaultCacheDuration: 12h\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
    );
    const entry = {
      name: "auth-provider-gcp",
      matchImages: ["*.gcr.io"],
      defaultCacheDuration: "1m",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    };
    const set = run(["config", "set-provider", "--config", config, "--provider-json", JSON.stringify(entry)]);
    expect(set.stderr).toBe("");
    expect(set.stdout).toMatch(/^added auth-provider-gcp to /);
    expect(set.status).toBe(0);
    expect(readFileSync(config, "utf8")).toMatch(/^# kept\n/);
    const validate = run(["validate", config]);
    expect(validate.stdout).toBe("valid: 2 providers from 1 file\n");
    expect(validate.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ELF_AARCH64 = 183;

/** The ELF header's e_machine: which CPU the binary is for. */
function _elfMachine(file: string): number {
  return readFileSync(file).subarray(0, 20).readUInt16LE(18);
}

function expectAnswer(run: Run) {
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const response = JSON.parse(run.stdout);
  expect(response.kind).toBe("CredentialProviderResponse");
  const host = run.image.split("/")[0] as string;
  expect(Object.keys(response.auth)).toContain(host);
  expect(response.auth[host].password.length).toBeGreaterThan(0);
}

describe("dist/release", () => {
  it("lists every provider and the simulator for linux-amd64, linux-arm64 and windows-amd64 in SHA256SUMS, with matching digests", () => {
    const listed = sums();
    const expected = [...PROVIDERS, SIM].flatMap((name) => [
      `${name}-linux-amd64`,
      ...(arm64Required ? [`${name}-linux-arm64`] : []),
      `${name}-windows-amd64.exe`,
    ]);
    for (const asset of expected) {
      expect(listed.has(asset), `${asset} in SHA256SUMS`).toBe(true);
      const digest = createHash("sha256")
        .update(readFileSync(join(releaseDir, asset)))
        .digest("hex");
      expect(digest, asset).toBe(listed.get(asset));
    }
    expect(
      [...listed.keys()].every((asset) => /-(linux-(amd64|arm64)|windows-amd64\.exe)$/.test(asset)),
    ).toBe(true);
  });

  describe("linux-amd64, natively", () => {
    for (const name of PROVIDERS) {
      it(`${name} answers with no PATH, and ignores NODE_OPTIONS`, async () => {
        expectAnswer(await answer([], name));
        expectAnswer(await answer([], name, { NODE_OPTIONS: "--require /nonexistent" }));
      });
    }
    it(`${SIM} prints its version and merges a config with no PATH, and ignores NODE_OPTIONS`, () => {
      expectSimWorks([]);
    });

    describe("the runtime's own settings change nothing", () => {
      let dir: string;
      let marker: string;
      beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "kcp-release-cwd-"));
        marker = join(dir, "preload-ran");
        // Code that would run before the provider: it leaves a marker and writes to stdout.
        writeFileSync(
          join(dir, "evil.js"),
          `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran"); process.stdout.write("EVIL");\n`,
        );
        writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./evil.js"]\n[run]\nbun = true\n');
        // Each of these would break or change the answer if it were read. The key id is made
        // here, in the shape of an access key id, so that no credential-looking text is committed.
        const hostileKeyId = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
        writeFileSync(
          join(dir, ".env"),
          "HTTPS_PROXY=http://127.0.0.1:9\nHTTP_PROXY=http://127.0.0.1:9\nNODE_EXTRA_CA_CERTS=/nonexistent\n" +
            `AWS_EC2_METADATA_DISABLED=true\nAWS_ACCESS_KEY_ID=${hostileKeyId}\n`,
        );
        writeFileSync(join(dir, "package.json"), '{"type":"commonjs","imports":{"#x":"./evil.js"}}\n');
        writeFileSync(
          join(dir, "tsconfig.json"),
          '{"compilerOptions":{"jsx":"react","paths":{"*":["./evil.js"]}}}\n',
        );
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      for (const name of PROVIDERS) {
        it(`${name}: NODE_OPTIONS, NODE_DEBUG, and a .env, bunfig.toml, package.json and tsconfig.json in its working directory`, async () => {
          const env = {
            NODE_OPTIONS: `--require ${join(dir, "evil.js")}`,
            NODE_DEBUG: "http,https,net,tls,fetch,undici",
          };
          expectAnswer(await answer([], name, env, dir));
          expect(existsSync(marker), "the preload ran").toBe(false);
        });
      }

      it("BUN_OPTIONS is honoured (docs/install.md: the kubelet's environment must not set it)", async () => {
        const run = await answer(
          [],
          "auth-provider-gcp",
          { BUN_OPTIONS: `--preload ${join(dir, "evil.js")}` },
          dir,
        );
        expect(run.stdout.startsWith("EVIL")).toBe(true);
        expect(existsSync(marker)).toBe(true);
        rmSync(marker);
      });
    });
  });

  describe(
    qemuAvailable ? "linux-arm64, under qemu-user" : "linux-arm64 (skipped: qemu-user is not installed)",
    () => {
      for (const name of PROVIDERS) {
        it.skipIf(!qemuAvailable && !arm64Required)(
          `${name} answers with no PATH, and ignores NODE_OPTIONS`,
          async () => {
            if (!qemuAvailable) throw new Error("CI needs qemu-user for the arm64 binaries (see .ci/run)");
            expect(_elfMachine(join(releaseDir, `${name}-linux-arm64`)), "ELF e_machine").toBe(ELF_AARCH64);
            expectAnswer(await answer(qemu, name));
            expectAnswer(await answer(qemu, name, { NODE_OPTIONS: "--require /nonexistent" }));
          },
          120_000,
        );
      }
      it.skipIf(!qemuAvailable && !arm64Required)(
        `${SIM} prints its version and merges a config with no PATH, and ignores NODE_OPTIONS`,
        () => {
          if (!qemuAvailable) throw new Error("CI needs qemu-user for the arm64 binaries (see .ci/run)");
          expect(_elfMachine(join(releaseDir, `${SIM}-linux-arm64`)), "ELF e_machine").toBe(ELF_AARCH64);
          expectSimWorks(qemu);
        },
        240_000,
      );
    },
  );
});
