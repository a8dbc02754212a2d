/**
 * Runs the real tools/install/install.sh, under sh and (when installed) dash and busybox sh, against
 * release assets that the test lays out from the real executables in dist/bin: a local directory
 * and the same directory served over HTTP on 127.0.0.1.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const script = resolve(here, "../install.sh");
const distBin = join(root, "dist/bin");
const sim = join(distBin, "kubelet-credential-sim");

const BINARIES = {
  ecr: "ecr-credential-provider",
  acr: "acr-credential-provider",
  gcp: "auth-provider-gcp",
} as const;
type Provider = keyof typeof BINARIES;
const PROVIDERS = Object.keys(BINARIES) as Provider[];
const HOST_ARCH = process.arch === "arm64" ? "arm64" : "amd64";
const OTHER_ARCH = HOST_ARCH === "amd64" ? "arm64" : "amd64";

/** Where a command is on PATH, or undefined. */
function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const missingBuild = PROVIDERS.filter((p) => !existsSync(join(distBin, BINARIES[p])));
if (missingBuild.length > 0 || !existsSync(sim)) {
  throw new Error(`dist/bin is incomplete: run \`npx -y pnpm@12.21.0 build\` at the repo root first`);
}

interface Shell {
  label: string;
  argv: string[];
  skip?: string;
}
const busybox = which("busybox");
const dash = which("dash");
const SHELLS: Shell[] = [
  { label: "sh", argv: [which("sh") ?? "/bin/sh"] },
  dash
    ? { label: "dash", argv: [dash] }
    : { label: "dash", argv: [], skip: "dash is not installed (apt-get install dash)" },
  busybox
    ? { label: "busybox sh", argv: [busybox, "sh"] }
    : { label: "busybox sh", argv: [], skip: "busybox is not installed (apt-get install busybox)" },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(shell: Shell, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [cmd, ...pre] = shell.argv;
  return new Promise((resolvePromise) => {
    execFile(
      cmd as string,
      [...pre, script, ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

const work = mkdtempSync(join(tmpdir(), "install-sh-test-"));
let caseNo = 0;
function freshDir(name: string): string {
  caseNo += 1;
  const dir = join(work, `${caseNo}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Put a hard link (or a copy) of `from` at `to`. */
function place(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The release assets for `arch` of every provider: <bin>-linux-<arch> and SHA256SUMS. */
function assetDir(name: string, archs: string[] = [HOST_ARCH]): string {
  const dir = freshDir(name);
  const lines: string[] = [];
  for (const p of PROVIDERS) {
    for (const arch of archs) {
      const asset = `${BINARIES[p]}-linux-${arch}`;
      place(join(distBin, BINARIES[p]), join(dir, asset));
      lines.push(`${sha256(join(dir, asset))}  ${asset}`);
    }
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  return dir;
}

let assets: string;
let server: Server;
let baseUrl: string;
const requested: string[] = [];

beforeAll(async () => {
  assets = assetDir("assets", [HOST_ARCH, OTHER_ARCH]);
  // The asset directory over HTTP. /<tag>/<asset> serves the same files, as a GitHub release does.
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    requested.push(url);
    const m =
      /^(?:\/releases\/download\/%40kubelet-credential-provider%2F[a-z]+%40[\w.+-]+)?\/([\w.-]+)$/.exec(url);
    const file = join(assets, m?.[1] ?? "-");
    if (req.method !== "GET" || !m || !existsSync(file)) {
      res.writeHead(404).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(work, { recursive: true, force: true });
});

/** Every entry of dir, dotfiles (the installer's temporary files) included. */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function expectInstalled(binDir: string, providers: Provider[], arch = HOST_ARCH): void {
  for (const p of providers) {
    const target = join(binDir, BINARIES[p]);
    const st = statSync(target);
    expect(st.mode & 0o777).toBe(0o755);
    expect(sha256(target)).toBe(sha256(join(assets, `${BINARIES[p]}-linux-${arch}`)));
  }
  expect(entries(binDir)).toEqual(providers.map((p) => BINARIES[p]).sort());
}

function simValidate(config: string): Promise<Run> {
  return new Promise((ok) => {
    execFile(sim, ["validate", config], (error, stdout, stderr) =>
      ok({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

function runVersion(bin: string): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(bin, ["--version"], (error, stdout) => (error ? fail(error) : ok(stdout.trim())));
  });
}

function runHelp(bin: string): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(bin, ["--help"], (error, stdout) => (error ? fail(error) : ok(stdout)));
  });
}

/** The single error line an installer failure must end with, and nothing on stdout. */
function expectRefused(r: Run, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^install\.sh: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe.each(SHELLS)("install.sh under $label", (shell) => {
  const t = shell.skip ? it.skip : it;
  if (shell.skip) {
    it.skip(`skipped: ${shell.skip}`, () => {});
  }

  t(
    "installs every provider from a directory, byte-identical and executable, and writes a valid config",
    async () => {
      const dir = freshDir("all");
      const binDir = join(dir, "bin");
      const config = join(dir, "etc/kubernetes/credential-providers.yaml");
      const r = await run(shell, [
        "--provider",
        "ecr,acr",
        "--provider=gcp",
        "--source",
        assets,
        "--bin-dir",
        binDir,
        "--config",
        config,
      ]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expectInstalled(binDir, PROVIDERS);
      for (const p of PROVIDERS) {
        expect(await runVersion(join(binDir, BINARIES[p]))).toMatch(
          new RegExp(`^${BINARIES[p]} \\d+\\.\\d+\\.\\d+`),
        );
      }
      expect(entries(dirname(config))).toEqual(["credential-providers.yaml"]);
      expect(statSync(config).mode & 0o777).toBe(0o644);

      const doc = parse(readFileSync(config, "utf8"));
      expect(doc.apiVersion).toBe("kubelet.config.k8s.io/v1");
      expect(doc.kind).toBe("CredentialProviderConfig");
      expect(doc.providers.map((x: { name: string }) => x.name)).toEqual(PROVIDERS.map((p) => BINARIES[p]));
      for (const entry of doc.providers) {
        expect(entry.apiVersion).toBe("credentialprovider.kubelet.k8s.io/v1");
        expect(entry.matchImages.length).toBeGreaterThan(0);
      }
      const byName = Object.fromEntries(doc.providers.map((x: { name: string }) => [x.name, x]));
      expect(byName["ecr-credential-provider"].defaultCacheDuration).toBe("12h");
      expect(byName["ecr-credential-provider"].matchImages).toContain("*.dkr.ecr.*.amazonaws.com");
      expect(byName["acr-credential-provider"].args).toEqual(["/etc/kubernetes/azure.json"]);
      expect(byName["acr-credential-provider"].matchImages).toContain("*.azurecr.io");
      expect(byName["auth-provider-gcp"].args).toEqual(["get-credentials", "--v=3"]);
      expect(byName["auth-provider-gcp"].matchImages).toContain("*.pkg.dev");
      // The same matchImages as each provider says to configure (its --help), so the two cannot drift.
      for (const p of PROVIDERS) {
        const help = await runHelp(join(binDir, BINARIES[p]));
        const listed = help.split("matchImages to configure:\n")[1]?.split("\n\n")[0] ?? "";
        const patterns = [...listed.matchAll(/^ {2}- "([^"]+)"$/gm)].map((m) => m[1]);
        expect(patterns.length, `${BINARIES[p]} --help lists its matchImages`).toBeGreaterThan(0);
        expect(byName[BINARIES[p]].matchImages, BINARIES[p]).toEqual(patterns);
      }

      const v = await simValidate(config);
      expect(v.stdout.trim()).toBe("valid: 3 providers from 1 file");
      expect(v.code).toBe(0);
    },
  );

  t("is idempotent: a second run changes nothing", async () => {
    const dir = freshDir("again");
    const binDir = join(dir, "bin");
    const config = join(dir, "config.yaml");
    const args = ["--provider", "gcp", "--source", assets, "--bin-dir", binDir, "--config", config];
    expect((await run(shell, args)).code).toBe(0);
    const before = { bin: statSync(join(binDir, "auth-provider-gcp")), config: statSync(config) };
    const again = await run(shell, args);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/auth-provider-gcp: already installed/);
    expect(again.stderr).toMatch(/unchanged/);
    expect(statSync(join(binDir, "auth-provider-gcp")).ino).toBe(before.bin.ino);
    expect(statSync(config).ino).toBe(before.config.ino);
    expectInstalled(binDir, ["gcp"]);
  });

  t("replaces an older binary atomically (a new inode, no temporary file left)", async () => {
    const dir = freshDir("replace");
    const binDir = join(dir, "bin");
    mkdirSync(binDir);
    writeFileSync(join(binDir, "ecr-credential-provider"), "#!/bin/sh\necho old\n", { mode: 0o755 });
    const r = await run(shell, ["--provider", "ecr", "--source", assets, "--bin-dir", binDir]);
    expect(r.code).toBe(0);
    expectInstalled(binDir, ["ecr"]);
  });

  t(
    "refuses a checksum mismatch: nothing installed, the previous binary kept, no temporary file",
    async () => {
      const bad = freshDir("tampered");
      const asset = `ecr-credential-provider-linux-${HOST_ARCH}`;
      writeFileSync(join(bad, asset), "this is not the release binary\n");
      writeFileSync(join(bad, "SHA256SUMS"), `${sha256(join(assets, asset))}  ${asset}\n`);
      const binDir = join(freshDir("mismatch"), "bin");
      const r = await run(shell, ["--provider", "ecr", "--source", bad, "--bin-dir", binDir]);
      expectRefused(r, /checksum mismatch for ecr-credential-provider-linux-\w+/);
      expect(entries(binDir)).toEqual([]);

      mkdirSync(binDir, { recursive: true });
      writeFileSync(join(binDir, "ecr-credential-provider"), "previous\n", { mode: 0o755 });
      const again = await run(shell, ["--provider", "ecr", "--source", bad, "--bin-dir", binDir]);
      expectRefused(again, /checksum mismatch/);
      expect(entries(binDir)).toEqual(["ecr-credential-provider"]);
      expect(readFileSync(join(binDir, "ecr-credential-provider"), "utf8")).toBe("previous\n");
    },
  );

  t("refuses an asset that SHA256SUMS does not list", async () => {
    const bad = freshDir("unlisted");
    const asset = `acr-credential-provider-linux-${HOST_ARCH}`;
    place(join(assets, asset), join(bad, asset));
    writeFileSync(join(bad, "SHA256SUMS"), `${"0".repeat(64)}  some-other-file\n`);
    const binDir = join(freshDir("unlisted-bin"), "bin");
    const r = await run(shell, ["--provider", "acr", "--source", bad, "--bin-dir", binDir]);
    expectRefused(r, /SHA256SUMS from .* has no entry for acr-credential-provider-linux-\w+/);
    expect(entries(binDir)).toEqual([]);
  });

  t("refuses a missing asset, and a source without SHA256SUMS", async () => {
    const bad = freshDir("missing");
    const asset = `auth-provider-gcp-linux-${HOST_ARCH}`;
    writeFileSync(join(bad, "SHA256SUMS"), `${sha256(join(assets, asset))}  ${asset}\n`);
    const binDir = join(freshDir("missing-bin"), "bin");
    const r = await run(shell, ["--provider", "gcp", "--source", bad, "--bin-dir", binDir]);
    expectRefused(r, /asset auth-provider-gcp-linux-\w+ not found in /);
    expect(entries(binDir)).toEqual([]);

    rmSync(join(bad, "SHA256SUMS"));
    const r2 = await run(shell, ["--provider", "gcp", "--source", bad, "--bin-dir", binDir]);
    expectRefused(r2, /asset SHA256SUMS not found in /);
  });

  t("refuses an unsupported architecture, from --arch or from uname -m", async () => {
    const binDir = join(freshDir("arch"), "bin");
    const r = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      assets,
      "--bin-dir",
      binDir,
      "--arch",
      "s390x",
    ]);
    expectRefused(r, /unsupported architecture 's390x'.*amd64 and arm64 only/);

    const fake = freshDir("fake-uname");
    writeFileSync(join(fake, "uname"), "#!/bin/sh\necho riscv64\n");
    chmodSync(join(fake, "uname"), 0o755);
    const r2 = await run(shell, ["--provider", "ecr", "--source", assets, "--bin-dir", binDir], {
      PATH: `${fake}${delimiter}${process.env.PATH}`,
    });
    expectRefused(r2, /unsupported architecture 'riscv64' \(uname -m\)/);
    expect(entries(binDir)).toEqual([]);
  });

  t("--arch overrides the detected architecture", async () => {
    const binDir = join(freshDir("other-arch"), "bin");
    const alias = OTHER_ARCH === "arm64" ? "aarch64" : "x86_64";
    const r = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      assets,
      "--bin-dir",
      binDir,
      "--arch",
      alias,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`installed ecr-credential-provider-linux-${OTHER_ARCH} `));
    expectInstalled(binDir, ["ecr"], OTHER_ARCH);
  });

  t("--print-config prints the config on stdout; --dry-run changes nothing", async () => {
    const dir = freshDir("print");
    const binDir = join(dir, "bin");
    const r = await run(shell, [
      "--provider",
      "acr",
      "--source",
      assets,
      "--bin-dir",
      binDir,
      "--print-config",
    ]);
    expect(r.code).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.kind).toBe("CredentialProviderConfig");
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0].name).toBe("acr-credential-provider");
    const file = join(dir, "printed.yaml");
    writeFileSync(file, r.stdout);
    expect((await simValidate(file)).code).toBe(0);

    const dryBin = join(dir, "dry-bin");
    const config = join(dir, "dry/config.yaml");
    const dry = await run(shell, [
      "--provider",
      "ecr,gcp",
      "--version",
      "1.2.3",
      "--bin-dir",
      dryBin,
      "--config",
      config,
      "--dry-run",
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe("");
    expect(dry.stderr).toContain(
      "https://github.com/kubelet-credential-providers/kubelet-credential-providers/releases/download/%40kubelet-credential-provider%2Fecr%401.2.3/ecr-credential-provider-linux-",
    );
    expect(dry.stderr).toContain("%40kubelet-credential-provider%2Fgcp%401.2.3/auth-provider-gcp-linux-");
    expect(existsSync(dryBin)).toBe(false);
    expect(existsSync(dirname(config))).toBe(false);
  });

  t("keeps what it replaces: a foreign config is backed up, an unrelated file needs --force", async () => {
    const dir = freshDir("config");
    const binDir = join(dir, "bin");
    const config = join(dir, "config.json");
    const foreign =
      '{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[]}\n';
    writeFileSync(config, foreign);
    const args = ["--provider", "ecr", "--source", assets, "--bin-dir", binDir, "--config", config];
    const r = await run(shell, args);
    expect(r.code).toBe(0);
    expect(readFileSync(`${config}.bak`, "utf8")).toBe(foreign);
    expect(parse(readFileSync(config, "utf8")).providers[0].name).toBe("ecr-credential-provider");

    const other = join(dir, "kubelet.conf");
    writeFileSync(other, "something else entirely\n");
    const refused = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      assets,
      "--bin-dir",
      binDir,
      "--config",
      other,
    ]);
    expectRefused(
      refused,
      /refusing to replace .*kubelet\.conf: it is not a CredentialProviderConfig; pass --force/,
    );
    expect(readFileSync(other, "utf8")).toBe("something else entirely\n");
    expect(entries(dir)).toEqual(["bin", "config.json", "config.json.bak", "kubelet.conf"]);

    const forced = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      assets,
      "--bin-dir",
      binDir,
      "--config",
      other,
      "--force",
    ]);
    expect(forced.code).toBe(0);
    expect(readFileSync(`${other}.bak`, "utf8")).toBe("something else entirely\n");
    expect((await simValidate(other)).code).toBe(0);
  });

  t("downloads over HTTP, from a release-like URL built from --version", async () => {
    const binDir = join(freshDir("http"), "bin");
    const r = await run(shell, ["--provider", "ecr,gcp", "--source", `${baseUrl}/`, "--bin-dir", binDir]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expectInstalled(binDir, ["ecr", "gcp"]);

    const binDir2 = join(freshDir("http-tag"), "bin");
    requested.length = 0;
    const r2 = await run(shell, [
      "--provider",
      "acr",
      "--version",
      "acr=0.1.0,ecr=9.9.9",
      "--source",
      `${baseUrl}/releases/download/{tag}`,
      "--bin-dir",
      binDir2,
    ]);
    expect(r2.code).toBe(0);
    expect(requested).toEqual([
      "/releases/download/%40kubelet-credential-provider%2Facr%400.1.0/SHA256SUMS",
      `/releases/download/%40kubelet-credential-provider%2Facr%400.1.0/acr-credential-provider-linux-${HOST_ARCH}`,
    ]);
    expectInstalled(binDir2, ["acr"]);
  });

  t("refuses a missing asset over HTTP", async () => {
    const binDir = join(freshDir("http-missing"), "bin");
    const r = await run(
      shell,
      ["--provider", "ecr", "--source", `${baseUrl}/nothing-here/`, "--bin-dir", binDir],
      {
        INSTALL_RETRIES: "1",
      },
    );
    expectRefused(r, /cannot download http:\/\/127\.0\.0\.1:\d+\/nothing-here\/(SHA256SUMS|ecr)/);
    expect(entries(binDir)).toEqual([]);
  });

  t("works with only wget and openssl (no curl, no sha256sum)", async (ctx) => {
    const tools = freshDir("tools");
    const needed = [
      "uname",
      "mktemp",
      "rm",
      "cp",
      "mv",
      "chmod",
      "mkdir",
      "sed",
      "tr",
      "awk",
      "sort",
      "dirname",
      "basename",
      "cmp",
      "grep",
      "date",
      "sleep",
      "cat",
      "wget",
      "openssl",
    ];
    for (const cmd of needed) {
      const p = which(cmd);
      if (!p) return ctx.skip(`${cmd} is not installed`);
      symlinkSync(p, join(tools, cmd));
    }
    const binDir = join(freshDir("wget"), "bin");
    const r = await run(shell, ["--provider", "gcp", "--source", baseUrl, "--bin-dir", binDir], {
      PATH: tools,
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expectInstalled(binDir, ["gcp"]);
  });
});

describe("install.sh usage", () => {
  const sh = SHELLS[0] as Shell;
  it("--help prints the usage and exits 0", async () => {
    const r = await run(sh, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: install\.sh --provider ecr\|acr\|gcp/);
  });
  it("rejects an unknown flag, an unknown provider, and a missing source with exit 2", async () => {
    for (const args of [
      ["--provider", "ecr", "--bogus"],
      ["--provider", "docker", "--version", "1.0.0"],
      ["--provider", "ecr"],
      ["--version", "1.0.0"],
    ]) {
      const r = await run(sh, args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
