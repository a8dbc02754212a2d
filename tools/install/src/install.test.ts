/**
 * Runs the real tools/install/install.sh, under sh and (when installed) dash and busybox sh, against
 * release assets that the test lays out from the real executables in dist/bin (or small stand-ins,
 * where the point is not the binary): a local directory, the same served over HTTP on 127.0.0.1,
 * and over HTTPS with a certificate from a CA made for the run (given to curl, GNU wget and busybox
 * wget through their own settings: CURL_CA_BUNDLE, WGETRC, SSL_CERT_FILE).
 */
import { execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { BINARIES, HOST_ARCH, type Provider, place, sha256Of, which } from "./testing.ts";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const script = resolve(here, "../install.sh");
const distBin = join(root, "dist/bin");
const sim = join(distBin, "kubelet-credential-sim");

const PROVIDERS = Object.keys(BINARIES) as Provider[];
const OTHER_ARCH = HOST_ARCH === "amd64" ? "arm64" : "amd64";

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
const sh = which("sh") ?? "/bin/sh";
// Debian's sh is dash: each distinct shell runs the suite once (it is the slowest file of the run).
const shIsDash = dash !== undefined && realpathSync(sh) === realpathSync(dash);
const SHELLS: Shell[] = [
  { label: shIsDash ? "sh (dash)" : "sh", argv: [sh] },
  ...(shIsDash
    ? []
    : [
        dash
          ? { label: "dash", argv: [dash] }
          : { label: "dash", argv: [], skip: "dash is not installed (apt-get install dash)" },
      ]),
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
  return sha256Of(readFileSync(file));
}

const work = mkdtempSync(join(tmpdir(), "install-sh-test-"));
let caseNo = 0;
function freshDir(name: string): string {
  caseNo += 1;
  const dir = join(work, `${caseNo}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const SIM = "kubelet-credential-sim";
/**
 * The release assets for `arch` of every provider: <bin>-linux-<arch>, kubelet-credential-sim-linux-<arch>
 * (the real one from dist/bin, whatever the arch: only the host's is ever run) and SHA256SUMS.
 */
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
  for (const arch of archs) {
    place(sim, join(dir, `${SIM}-linux-${arch}`));
    lines.push(`${sha256(sim)}  ${SIM}-linux-${arch}`);
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  return dir;
}

/** What a small stand-in for <binary>-linux-<arch> holds. */
function smallBinary(p: Provider, arch: string = HOST_ARCH): string {
  return `#!/bin/sh\necho ${BINARIES[p]} ${arch}\n`;
}
/**
 * Small stand-ins for every provider's assets, both architectures, and the real simulator (which
 * edits the config), with a SHA256SUMS; the providers in `tamper` get a binary that does not match
 * SHA256SUMS, `sums: false` leaves SHA256SUMS out, `sim: false` leaves the simulator out (a release
 * from before it shipped) and `tamperSim` makes it not match.
 */
function smallAssets(
  name: string,
  opts: { tamper?: Provider[]; sums?: boolean; sim?: boolean; tamperSim?: boolean } = {},
): string {
  const dir = freshDir(name);
  const lines: string[] = [];
  for (const p of PROVIDERS) {
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      const asset = `${BINARIES[p]}-linux-${arch}`;
      lines.push(`${sha256Of(smallBinary(p, arch))}  ${asset}`);
      const body = opts.tamper?.includes(p) ? "#!/bin/sh\necho tampered\n" : smallBinary(p, arch);
      writeFileSync(join(dir, asset), body);
    }
  }
  if (opts.sim !== false) {
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      lines.push(`${sha256(sim)}  ${SIM}-linux-${arch}`);
      if (opts.tamperSim) writeFileSync(join(dir, `${SIM}-linux-${arch}`), "#!/bin/sh\necho tampered\n");
      else place(sim, join(dir, `${SIM}-linux-${arch}`));
    }
  }
  if (opts.sums !== false) writeFileSync(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  return dir;
}

/**
 * A case's node: its small assets (`smallAssets(\`${name}-assets\`, opts)`), then a fresh directory
 * `dir` holding the bin dir `bin` and the config path `configName`.
 */
function nodeCase(name: string, configName = "config.yaml", opts: Parameters<typeof smallAssets>[1] = {}) {
  const src = smallAssets(`${name}-assets`, opts);
  const dir = freshDir(name);
  return { src, dir, binDir: join(dir, "bin"), config: join(dir, configName) };
}

let assets: string;
let server: Server;
let baseUrl: string;
let httpPort: number;
const requested: string[] = [];
/** Directories served at /d/<key>/ by both servers. */
const served = new Map<string, string>();
function serve(dir: string): string {
  const key = `k${served.size + 1}`;
  served.set(key, dir);
  return `/d/${key}`;
}

/**
 * The asset directory at /<asset> and /<tag>/<asset>, as a GitHub release; any registered directory
 * at /d/<key>/<file>; /redirect-https/<path> and /redirect-http/<path> answer 302 to <path> on the
 * HTTPS server (same host name) or on the plain-HTTP one.
 */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  requested.push(url);
  const redirect = /^\/redirect-(https|http)(\/.*)$/.exec(url);
  if (redirect) {
    const host = (req.headers.host ?? "127.0.0.1").replace(/:\d+$/, "");
    const location =
      redirect[1] === "https"
        ? `https://${host}:${httpsPort}${redirect[2]}`
        : `http://127.0.0.1:${httpPort}${redirect[2]}`;
    res.writeHead(302, { location }).end();
    return;
  }
  let file: string | undefined;
  const d = /^\/d\/(k\d+)\/([\w.-]+)$/.exec(url);
  if (d) {
    const dir = served.get(d[1] as string);
    if (dir) file = join(dir, d[2] as string);
  } else {
    const m =
      /^(?:\/releases\/download\/%40kubelet-credential-provider%2F[a-z]+%40[\w.+-]+)?\/([\w.-]+)$/.exec(url);
    if (m) file = join(assets, m[1] as string);
  }
  if (req.method !== "GET" || !file || !existsSync(file)) {
    res.writeHead(404).end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream" });
  res.end(readFileSync(file));
}

// HTTPS: a CA and a server certificate for 127.0.0.1 and localhost, made with openssl for this run.
const openssl = which("openssl");
let httpsServer: Server | undefined;
let httpsPort = 0;
let caFile = "";
let wgetrc = "";

beforeAll(async () => {
  assets = assetDir("assets", [HOST_ARCH, OTHER_ARCH]);
  server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  httpPort = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${httpPort}`;

  if (openssl) {
    const tls = freshDir("tls");
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const ossl = (args: string[]) => execFileSync(openssl, args, { cwd: tls, stdio: "pipe" });
    ossl(
      ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"].concat(
        ["-subj", "/CN=install.sh test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
        ["-addext", "keyUsage=critical,keyCertSign"],
      ),
    );
    ossl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    writeFileSync(join(tls, "ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ossl(
      ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
      ]),
    );
    caFile = join(tls, "ca.pem");
    wgetrc = join(tls, "wgetrc");
    writeFileSync(wgetrc, `ca_certificate = ${caFile}\n`);
    const s = createHttpsServer(
      { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) },
      handler,
    );
    await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
    httpsServer = s;
    httpsPort = (s.address() as AddressInfo).port;
  }
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  if (httpsServer) {
    const s = httpsServer;
    await new Promise<void>((ok) => s.close(() => ok()));
  }
  rmSync(work, { recursive: true, force: true });
});

/** Every entry of dir, dotfiles (the installer's temporary files) included. */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Everything under dir: each path with its type and content (a file's SHA-256, a symlink's target),
 * so that two snapshots differ when anything was created, removed or changed.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const key = relative(dir, p);
      if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = "dir";
        walk(p);
      } else out[key] = `file ${(st.mode & 0o777).toString(8)} ${sha256(p)}`;
    }
  };
  walk(dir);
  return out;
}
/** A snapshot without the entries under the given paths (relative to the snapshot's root). */
function without(snap: Record<string, string>, ...prefixes: string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snap).filter(([k]) => !prefixes.some((p) => k === p || k.startsWith(`${p}/`))),
  );
}

function expectInstalled(binDir: string, providers: Provider[], arch = HOST_ARCH, from = assets): void {
  for (const p of providers) {
    const target = join(binDir, BINARIES[p]);
    const st = lstatSync(target);
    expect(st.isFile(), `${target} is a regular file`).toBe(true);
    expect(st.mode & 0o777).toBe(0o755);
    expect(sha256(target)).toBe(sha256(join(from, `${BINARIES[p]}-linux-${arch}`)));
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

/**
 * The single error line an installer failure must end with (after warnings, when `warnings` says
 * they may come first), the exit status (1: refused, 2: a usage error), and nothing on stdout.
 */
function expectRefused(r: Run, pattern: RegExp, opts: { code?: number; warnings?: boolean } = {}): void {
  expect(r.code, r.stderr).toBe(opts.code ?? 1);
  expect(r.stdout).toBe("");
  let lines = r.stderr.trim().split("\n");
  if (opts.warnings) lines = lines.filter((l) => !/^install\.sh: warning: /.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^install\.sh: error: /);
  expect(lines[0]).toMatch(pattern);
}

/** The commands install.sh runs, besides its downloader and systemctl. */
const BASE_TOOLS = [
  "uname",
  "mktemp",
  "rm",
  "rmdir",
  "cp",
  "mv",
  "chmod",
  "mkdir",
  "tr",
  "awk",
  "sort",
  "cmp",
  "grep",
  "date",
  "sleep",
  "cat",
  "diff",
  "sha256sum",
  "openssl",
];
/**
 * A directory to use as the whole PATH: links to BASE_TOOLS (but `omit`), plus `links` (name ->
 * file) and `scripts` (name -> content). undefined when a tool is not installed.
 */
function toolsDir(
  name: string,
  opts: { omit?: string[]; links?: Record<string, string>; scripts?: Record<string, string> } = {},
): string | undefined {
  const dir = freshDir(name);
  for (const cmd of BASE_TOOLS.filter((c) => !opts.omit?.includes(c))) {
    const p = which(cmd);
    if (!p) return undefined;
    symlinkSync(p, join(dir, cmd));
  }
  for (const [cmd, target] of Object.entries(opts.links ?? {})) symlinkSync(target, join(dir, cmd));
  for (const [cmd, body] of Object.entries(opts.scripts ?? {})) {
    writeFileSync(join(dir, cmd), body);
    chmodSync(join(dir, cmd), 0o755);
  }
  return dir;
}

/** A stand-in for systemctl that records each call's arguments in $SYSTEMCTL_LOG. */
const FAKE_SYSTEMCTL = `#!/bin/sh\nprintf '%s\\n' "$*" >>"$SYSTEMCTL_LOG"\n`;
/** A systemctl that fails the way it does where systemd is not running. */
const FAILING_SYSTEMCTL =
  "#!/bin/sh\necho 'System has not been booted with systemd as init system (PID 1). Can'\\''t operate.' >&2\nexit 1\n";

/** The downloaders install.sh can use, each with what makes it trust the test's CA. */
interface Downloader {
  label: string;
  /** The host name to reach the test servers by. */
  host: string;
  env: () => Record<string, string> | undefined;
  /** What this downloader says for a 404. */
  notFound: RegExp;
}
const gnuWget = which("wget");
const DOWNLOADERS: Downloader[] = [
  {
    label: "curl",
    host: "127.0.0.1",
    env: () => (which("curl") ? { CURL_CA_BUNDLE: caFile } : undefined),
    notFound: /curl: \(22\) The requested URL returned error: 404/,
  },
  {
    label: "GNU wget",
    host: "127.0.0.1",
    env: () => {
      const dir = gnuWget && toolsDir("gnu-wget", { links: { wget: gnuWget } });
      return dir ? { PATH: dir, WGETRC: wgetrc } : undefined;
    },
    notFound: /ERROR 404: Not Found/,
  },
  {
    // busybox wget hands TLS to `openssl s_client`, which it gives host:port as the IP address to
    // verify: a certificate only verifies for a host name, hence localhost (/etc/hosts: 127.0.0.1).
    label: "busybox wget",
    host: "localhost",
    env: () => {
      const dir = busybox && toolsDir("busybox-wget", { links: { wget: busybox } });
      return dir ? { PATH: dir, SSL_CERT_FILE: caFile } : undefined;
    },
    notFound: /server returned error: HTTP\/1\.1 404 Not Found/,
  },
];

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
    const before = statSync(join(binDir, "ecr-credential-provider")).ino;
    const r = await run(shell, ["--provider", "ecr", "--source", assets, "--bin-dir", binDir]);
    expect(r.code).toBe(0);
    expect(statSync(join(binDir, "ecr-credential-provider")).ino).not.toBe(before);
    expectInstalled(binDir, ["ecr"]);
  });

  t(
    "refuses a checksum mismatch: nothing installed, no bin dir made, the previous binary kept, no temporary file",
    async () => {
      const bad = freshDir("tampered");
      const asset = `ecr-credential-provider-linux-${HOST_ARCH}`;
      writeFileSync(join(bad, asset), "this is not the release binary\n");
      writeFileSync(join(bad, "SHA256SUMS"), `${sha256(join(assets, asset))}  ${asset}\n`);
      const binDir = join(freshDir("mismatch"), "bin");
      const r = await run(shell, ["--provider", "ecr", "--source", bad, "--bin-dir", binDir]);
      expectRefused(r, /checksum mismatch for ecr-credential-provider-linux-\w+/);
      expect(existsSync(binDir)).toBe(false);

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
    expect(existsSync(binDir)).toBe(false);
  });

  t("refuses a missing asset, and a source without SHA256SUMS", async () => {
    const bad = freshDir("missing");
    const asset = `auth-provider-gcp-linux-${HOST_ARCH}`;
    writeFileSync(join(bad, "SHA256SUMS"), `${sha256(join(assets, asset))}  ${asset}\n`);
    const binDir = join(freshDir("missing-bin"), "bin");
    const r = await run(shell, ["--provider", "gcp", "--source", bad, "--bin-dir", binDir]);
    expectRefused(r, /asset auth-provider-gcp-linux-\w+ not found in /);
    expect(existsSync(binDir)).toBe(false);

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
    expect(existsSync(binDir)).toBe(false);
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

  t("--print-config prints the config on stdout", async () => {
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
  });

  t("--version alone fetches each provider's GitHub release, over HTTPS", async () => {
    // A curl that records what it is asked for and fails: no request leaves the machine.
    const log = join(freshDir("fake-curl"), "urls");
    const fake = toolsDir("fake-curl-path", {
      scripts: {
        curl: `#!/bin/sh\nfor a in "$@"; do last=$a; done\nprintf '%s\\n' "$last" >>"${log}"\necho 'curl: (6) Could not resolve host: github.com' >&2\nexit 6\n`,
      },
    });
    if (!fake) return;
    const binDir = join(freshDir("release"), "bin");
    const r = await run(
      shell,
      ["--provider", "ecr,gcp", "--version", "1.2.3", "--bin-dir", binDir, "--dry-run"],
      {
        PATH: fake,
      },
    );
    const release =
      "https://github.com/kubelet-credential-providers/kubelet-credential-providers/releases/download";
    expectRefused(
      r,
      /cannot download https:\/\/github\.com\/.*: curl: \(6\) Could not resolve host: github\.com$/,
    );
    expect(readFileSync(log, "utf8")).toBe(
      `${release}/%40kubelet-credential-provider%2Fecr%401.2.3/SHA256SUMS\n`,
    );
    expect(existsSync(binDir)).toBe(false);
  });

  t(
    "merges: a second provider keeps the first in a JSON config, and every other entry and field",
    async () => {
      const { src, dir, binDir, config } = nodeCase("merge-json", "config.json");
      const other = {
        name: "other-provider",
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        matchImages: ["registry.example.com"],
        defaultCacheDuration: "5m",
        tokenAttributes: {
          serviceAccountTokenAudience: "registry.example.com",
          cacheType: "ServiceAccount",
          requireServiceAccount: false,
        },
      };
      const original = `${JSON.stringify(
        { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers: [other] },
        null,
        2,
      )}\n`;
      writeFileSync(config, original);
      const args = (p: string) => ["--provider", p, "--source", src, "--bin-dir", binDir, "--config", config];

      const first = await run(shell, args("ecr"));
      expect(first.stderr).not.toMatch(/error/);
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(/config: added ecr-credential-provider to .*config\.json \(backup: /);
      const second = await run(shell, args("gcp"));
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(/config: added auth-provider-gcp to /);

      const doc = JSON.parse(readFileSync(config, "utf8"));
      expect(doc.providers.map((x: { name: string }) => x.name)).toEqual([
        "other-provider",
        "ecr-credential-provider",
        "auth-provider-gcp",
      ]);
      expect(doc.providers[0]).toEqual(other);
      expect(doc.providers[1].defaultCacheDuration).toBe("12h");
      expect(doc.providers[2].args).toEqual(["get-credentials", "--v=3"]);
      const v = await simValidate(config);
      expect(v.stdout.trim()).toBe("valid: 3 providers from 1 file");
      expect(v.code).toBe(0);
      // One timestamped backup per run that changed the file: the first holds the original.
      const backups = entries(dir).filter((f) => f.startsWith("config.json.bak-"));
      expect(backups).toHaveLength(2);
      expect(backups.map((b) => readFileSync(join(dir, b), "utf8"))).toContain(original);
      expectInstalled(binDir, ["ecr", "gcp"], HOST_ARCH, src);
    },
  );

  t(
    "merges: a second provider keeps the first in a YAML config, with its comments and an unrelated entry",
    async () => {
      const { src, binDir, config } = nodeCase("merge-yaml", "credential-providers.yaml");
      const original = [
        "# Managed by the platform team: keep this comment.",
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  # the registry of the build farm",
        "  - name: other-provider",
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
        "    matchImages:",
        '      - "registry.example.com"',
        '    defaultCacheDuration: "5m"',
        "    tokenAttributes:",
        "      serviceAccountTokenAudience: registry.example.com",
        "      cacheType: Token",
        "      requireServiceAccount: true",
        "",
      ].join("\n");
      writeFileSync(config, original);
      const args = (p: string) => ["--provider", p, "--source", src, "--bin-dir", binDir, "--config", config];
      expect((await run(shell, args("acr"))).code).toBe(0);
      const second = await run(shell, args("ecr"));
      expect(second.stderr).not.toMatch(/error/);
      expect(second.code).toBe(0);

      const text = readFileSync(config, "utf8");
      // The original lines are all still there, byte for byte, first.
      expect(text.startsWith(original)).toBe(true);
      const doc = parse(text);
      expect(doc.providers.map((x: { name: string }) => x.name)).toEqual([
        "other-provider",
        "acr-credential-provider",
        "ecr-credential-provider",
      ]);
      expect(doc.providers[0].tokenAttributes).toEqual({
        serviceAccountTokenAudience: "registry.example.com",
        cacheType: "Token",
        requireServiceAccount: true,
      });
      expect(doc.providers[1].args).toEqual(["/etc/kubernetes/azure.json"]);
      const v = await simValidate(config);
      expect(v.stdout.trim()).toBe("valid: 3 providers from 1 file");

      // Installing the same again changes nothing, not even the file's inode.
      const inode = statSync(config).ino;
      const again = await run(shell, args("ecr"));
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/config .*: unchanged/);
      expect(statSync(config).ino).toBe(inode);
    },
  );

  t(
    "an entry the config already has keeps its args, env and tokenAttributes (AKS identity bindings)",
    async () => {
      const { src, binDir, config } = nodeCase("keep-settings", "credential-providers.yaml");
      const args = [
        "/etc/kubernetes/azure.json",
        "--ib-sni-name=mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io",
        "--ib-apiserver-ip=10.0.0.1",
      ];
      const tokenAttributes = {
        serviceAccountTokenAudience: "api://AzureADTokenExchange",
        requireServiceAccount: true,
        cacheType: "ServiceAccount",
      };
      writeFileSync(
        config,
        [
          "apiVersion: kubelet.config.k8s.io/v1",
          "kind: CredentialProviderConfig",
          "providers:",
          `  - ${JSON.stringify({
            name: "acr-credential-provider",
            apiVersion: "credentialprovider.kubelet.k8s.io/v1",
            matchImages: ["*.azurecr.io"],
            defaultCacheDuration: "10m",
            args,
            tokenAttributes,
          })}`,
          "",
        ].join("\n"),
      );
      const r = await run(shell, [
        "--provider",
        "acr",
        "--source",
        src,
        "--bin-dir",
        binDir,
        "--config",
        config,
        "--azure-config",
        "/etc/other/azure.json",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const [entry] = parse(readFileSync(config, "utf8")).providers;
      expect(entry.args).toEqual(args);
      expect(entry.tokenAttributes).toEqual(tokenAttributes);
      // The rest is the installer's: every matchImages pattern of AKS.
      expect(entry.matchImages.length).toBeGreaterThan(1);
      expect((await simValidate(config)).code).toBe(0);
    },
  );

  t(
    "leaves a config it cannot parse alone (byte-identical, non-zero, nothing installed); --force replaces it",
    async () => {
      const { src, dir, binDir, config } = nodeCase("unparsable");
      const broken = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [\n";
      writeFileSync(config, broken);
      const other = join(dir, "kubelet.conf");
      writeFileSync(other, "something else entirely\n");
      const before = snapshot(dir);
      for (const [file, extra] of [
        [config, []],
        [config, ["--dry-run"]],
        [other, []],
      ] as const) {
        const r = await run(shell, [
          "--provider",
          "ecr",
          "--source",
          src,
          "--bin-dir",
          binDir,
          "--config",
          file,
          ...extra,
        ]);
        expectRefused(
          r,
          new RegExp(
            `cannot add ecr-credential-provider to ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: .*is not a config the kubelet can read and is left unchanged \\(--force replaces it`,
          ),
        );
        expect(snapshot(dir), `${file} ${extra}`).toEqual(before);
      }

      const forced = await run(shell, [
        "--provider",
        "ecr",
        "--source",
        src,
        "--bin-dir",
        binDir,
        "--config",
        other,
        "--force",
      ]);
      expect(forced.code).toBe(0);
      expect(forced.stderr).toMatch(/replacing a file the kubelet cannot read; backup: /);
      const backups = entries(dir).filter((f) => f.startsWith("kubelet.conf.bak-"));
      expect(backups).toHaveLength(1);
      expect(readFileSync(join(dir, backups[0] as string), "utf8")).toBe("something else entirely\n");
      expect((await simValidate(other)).stdout.trim()).toBe("valid: 1 provider from 1 file");
      expect(readFileSync(config, "utf8")).toBe(broken);
    },
  );

  t("refuses a release without kubelet-credential-sim when the config is to be edited", async () => {
    const { src: old, dir, binDir, config } = nodeCase("no-sim", "config.yaml", { sim: false });
    const r = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      old,
      "--bin-dir",
      binDir,
      "--config",
      config,
    ]);
    expectRefused(
      r,
      /SHA256SUMS from .* has no entry for kubelet-credential-sim-linux-\w+: this release does not ship kubelet-credential-sim, which editing --config needs/,
    );
    expect(entries(dir)).toEqual([]);
    // --print-config alone needs no simulator.
    const printed = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      old,
      "--bin-dir",
      join(dir, "print-bin"),
      "--print-config",
    ]);
    expect(printed.code).toBe(0);
    expect(parse(printed.stdout).providers[0].name).toBe("ecr-credential-provider");
    // A simulator that does not match SHA256SUMS is refused like a provider.
    const tampered = smallAssets("tampered-sim-assets", { tamperSim: true });
    const t2 = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      tampered,
      "--bin-dir",
      binDir,
      "--config",
      config,
    ]);
    expectRefused(t2, /checksum mismatch for kubelet-credential-sim-linux-\w+/);
    expect(existsSync(binDir)).toBe(false);
    expect(existsSync(config)).toBe(false);
    // Pinned, by name: the pin is what counts.
    const pinned = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      tampered,
      "--bin-dir",
      binDir,
      "--config",
      config,
      "--sha256",
      `sim=${"1".repeat(64)}`,
    ]);
    expectRefused(pinned, /checksum mismatch for kubelet-credential-sim-linux-\w+ .*pinned by --sha256/);
  });

  t(
    "--uninstall removes exactly one provider: its binary and its entry; dry run first changes nothing",
    async () => {
      const { src, dir, binDir, config } = nodeCase("uninstall");
      writeFileSync(
        config,
        "# keep me\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n",
      );
      const base = ["--source", src, "--bin-dir", binDir, "--config", config];
      expect((await run(shell, ["--provider", "ecr,gcp", ...base])).code).toBe(0);
      writeFileSync(join(binDir, "unrelated"), "keep me\n");
      const before = snapshot(dir);

      const dry = await run(shell, ["--uninstall", "--provider", "gcp", ...base, "--dry-run"]);
      expect(dry.code).toBe(0);
      expect(dry.stderr).toMatch(/dry run: auth-provider-gcp: would remove .*\/bin\/auth-provider-gcp/);
      expect(dry.stderr).toMatch(/dry run: config: would remove auth-provider-gcp from /);
      expect(dry.stdout).toContain("-  - name: auth-provider-gcp\n");
      expect(dry.stdout.split("\n").filter((l) => /^\+[^+]/.test(l))).toEqual([]);
      expect(snapshot(dir)).toEqual(before);

      const r = await run(shell, ["--uninstall", "--provider", "gcp", ...base]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/config: removed auth-provider-gcp from /);
      expect(r.stderr).toMatch(/auth-provider-gcp: removed .*\/bin\/auth-provider-gcp/);
      expect(r.stderr).toMatch(/the kubelet reads .* only when it starts/);
      expect(entries(binDir)).toEqual(["ecr-credential-provider", "unrelated"]);
      expect(sha256(join(binDir, "ecr-credential-provider"))).toBe(sha256Of(smallBinary("ecr")));
      expect(readFileSync(join(binDir, "unrelated"), "utf8")).toBe("keep me\n");
      const text = readFileSync(config, "utf8");
      expect(text.startsWith("# keep me\n")).toBe(true);
      expect(parse(text).providers.map((x: { name: string }) => x.name)).toEqual(["ecr-credential-provider"]);
      expect((await simValidate(config)).code).toBe(0);
      const changed = Object.keys(snapshot(dir)).filter((k) => !(k in before));
      expect(changed.every((k) => k.startsWith("config.yaml.bak-"))).toBe(true);

      // Again: nothing left to remove, nothing changes.
      const settled = snapshot(dir);
      const again = await run(shell, ["--uninstall", "--provider", "gcp", ...base]);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/auth-provider-gcp: not installed in /);
      expect(snapshot(dir)).toEqual(settled);
    },
  );

  t(
    "--uninstall refuses the last entry (the kubelet's flags must go instead) unless --allow-empty, and never removes anything but a file or symlink",
    async () => {
      const { src, dir, binDir, config } = nodeCase("uninstall-last", "config.json");
      const base = ["--source", src, "--bin-dir", binDir, "--config", config];
      expect((await run(shell, ["--provider", "acr", ...base])).code).toBe(0);
      const before = snapshot(dir);
      const r = await run(shell, ["--uninstall", "--provider", "acr", ...base]);
      expectRefused(
        r,
        /cannot remove acr-credential-provider from .*config\.json: refusing to remove acr-credential-provider, the last provider .*remove the kubelet's credential-provider flags \(--image-credential-provider-config, --image-credential-provider-bin-dir\) instead/,
      );
      expect(snapshot(dir)).toEqual(before);

      const empty = await run(shell, ["--uninstall", "--provider", "acr", ...base, "--allow-empty"]);
      expect(empty.code).toBe(0);
      expect(JSON.parse(readFileSync(config, "utf8")).providers).toEqual([]);
      expect(entries(binDir)).toEqual([]);

      // A directory by a provider's name is not what the installer put there: refused, untouched.
      mkdirSync(join(binDir, "ecr-credential-provider"));
      writeFileSync(join(binDir, "ecr-credential-provider", "x"), "x\n");
      const settled = snapshot(dir);
      const d = await run(shell, ["--uninstall", "--provider", "ecr", "--bin-dir", binDir]);
      expectRefused(d, /refusing to remove .*ecr-credential-provider: it is not a regular file or a symlink/);
      expect(snapshot(dir)).toEqual(settled);

      // A symlink by that name is removed, never what it points at; no --config: nothing downloaded.
      const target = join(dir, "elsewhere");
      writeFileSync(target, "keep me\n");
      symlinkSync(target, join(binDir, "auth-provider-gcp"));
      const l = await run(shell, ["--uninstall", "--provider", "gcp", "--bin-dir", binDir]);
      expect(l.code).toBe(0);
      expect(existsSync(join(binDir, "auth-provider-gcp"))).toBe(false);
      expect(readFileSync(target, "utf8")).toBe("keep me\n");
    },
  );

  t("--provider sim installs kubelet-credential-sim into --bin-dir, with no config entry", async () => {
    const src = smallAssets("sim-assets");
    const dir = freshDir("sim");
    const binDir = join(dir, "usr-local-bin");
    const dry = await run(shell, ["--provider", "sim", "--source", src, "--bin-dir", binDir, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(
      /dry run: kubelet-credential-sim: would install kubelet-credential-sim-linux-\w+ /,
    );
    expect(entries(dir)).toEqual([]);

    const r = await run(shell, ["--provider", "sim", "--source", src, "--bin-dir", binDir]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(entries(binDir)).toEqual([SIM]);
    expect(sha256(join(binDir, SIM))).toBe(sha256(sim));
    expect(statSync(join(binDir, SIM)).mode & 0o777).toBe(0o755);
    expect(await runVersion(join(binDir, SIM))).toMatch(/^kubelet-credential-sim \d+\.\d+\.\d+/);

    // With a provider and --config: only the provider gets an entry.
    const config = join(dir, "config.yaml");
    const both = await run(shell, [
      "--provider",
      "sim,gcp",
      "--source",
      src,
      "--bin-dir",
      binDir,
      "--config",
      config,
    ]);
    expect(both.code).toBe(0);
    expect(both.stderr).toMatch(/kubelet-credential-sim: already installed/);
    expect(parse(readFileSync(config, "utf8")).providers.map((x: { name: string }) => x.name)).toEqual([
      "auth-provider-gcp",
    ]);

    // Alone, with --config: refused; without an explicit --bin-dir: refused.
    const alone = await run(shell, [
      "--provider",
      "sim",
      "--source",
      src,
      "--bin-dir",
      binDir,
      "--config",
      config,
    ]);
    expectRefused(alone, /--provider sim alone has no config entry/, { code: 2 });
    const noDir = await run(shell, ["--provider", "sim", "--source", src]);
    expectRefused(noDir, /--provider sim needs --bin-dir: a directory on your PATH/, { code: 2 });

    // --uninstall --provider sim removes it; nothing is downloaded.
    const gone = await run(shell, ["--uninstall", "--provider", "sim", "--bin-dir", binDir]);
    expect(gone.code).toBe(0);
    expect(entries(binDir)).toEqual(["auth-provider-gcp"]);
  });

  t("downloads over plain HTTP with --allow-http, from a release-like URL built from --version", async () => {
    const binDir = join(freshDir("http"), "bin");
    const r = await run(shell, [
      "--provider",
      "ecr,gcp",
      "--source",
      `${baseUrl}/`,
      "--bin-dir",
      binDir,
      "--allow-http",
    ]);
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
      "--allow-http",
    ]);
    expect(r2.code).toBe(0);
    expect(requested).toEqual([
      "/releases/download/%40kubelet-credential-provider%2Facr%400.1.0/SHA256SUMS",
      `/releases/download/%40kubelet-credential-provider%2Facr%400.1.0/acr-credential-provider-linux-${HOST_ARCH}`,
    ]);
    expectInstalled(binDir2, ["acr"]);
  });

  t("refuses a missing asset over HTTP with curl's own error, and makes no bin dir", async () => {
    const binDir = join(freshDir("http-missing"), "bin");
    const r = await run(
      shell,
      ["--provider", "ecr", "--source", `${baseUrl}/nothing-here/`, "--bin-dir", binDir, "--allow-http"],
      { INSTALL_RETRIES: "1" },
    );
    expectRefused(
      r,
      /cannot download http:\/\/127\.0\.0\.1:\d+\/nothing-here\/SHA256SUMS: curl: \(22\) The requested URL returned error: 404$/,
      { warnings: true },
    );
    expect(existsSync(binDir)).toBe(false);
  });

  t("works with only wget and openssl (no curl, no sha256sum)", async (ctx) => {
    const tools = gnuWget && toolsDir("tools", { omit: ["sha256sum"], links: { wget: gnuWget } });
    if (!tools) return ctx.skip("wget or a base tool is not installed");
    const binDir = join(freshDir("wget"), "bin");
    const r = await run(
      shell,
      ["--provider", "gcp", "--source", baseUrl, "--bin-dir", binDir, "--allow-http"],
      {
        PATH: tools,
      },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expectInstalled(binDir, ["gcp"]);
  });

  // ---- hostile input: refused before anything runs or changes --------------------------------

  t(
    "refuses a --version that would run a command through sed, also with --dry-run: nothing runs",
    async () => {
      const dir = freshDir("inject-version");
      const pwned = join(dir, "PWNED");
      const src = smallAssets("inject-version-assets");
      const binDir = join(dir, "bin");
      const before = snapshot(dir);
      for (const version of [
        `x|;1etouch\${IFS}${pwned};#`,
        `ecr=x|;1etouch\${IFS}${pwned};#`,
        `1.2.3;touch ${pwned}`,
        `$(touch ${pwned})`,
        "1.2",
        "v1.2.3",
      ]) {
        for (const extra of [[], ["--dry-run"]]) {
          const r = await run(shell, [
            "--provider",
            "ecr",
            "--source",
            src,
            "--version",
            version,
            "--bin-dir",
            binDir,
            ...extra,
          ]);
          expect(existsSync(pwned), `${version} ${extra} ran a command`).toBe(false);
          expectRefused(r, /invalid version '.*': a semantic version/, { code: 2 });
        }
      }
      expect(snapshot(dir)).toEqual(before);
    },
  );

  t(
    "refuses hostile providers, architectures, checksums, paths and sources: one line, nothing runs",
    async () => {
      const dir = freshDir("hostile");
      const pwned = join(dir, "PWNED");
      const src = smallAssets("hostile-assets");
      const binDir = join(dir, "bin");
      writeFileSync(join(dir, "victim"), "keep me\n");
      const before = snapshot(dir);
      const cases: { args: string[]; code: number; error: RegExp }[] = [
        { args: ["--provider", `ecr;touch\${IFS}${pwned}`], code: 2, error: /unknown provider/ },
        { args: ["--provider", `$(touch ${pwned})`], code: 2, error: /unknown provider/ },
        {
          args: ["--provider", "ecr", "--arch", `amd64$(touch ${pwned})`],
          code: 1,
          error: /unsupported architecture/,
        },
        {
          args: ["--provider", "ecr", "--sha256", `ecr=$(touch ${pwned})`],
          code: 2,
          error: /is not a SHA-256/,
        },
        { args: ["--provider", "ecr", "--sha256", `\`touch ${pwned}\``], code: 2, error: /is not a SHA-256/ },
        {
          args: ["--provider", "ecr", "--sha256", `docker=${"0".repeat(64)}`],
          code: 2,
          error: /unknown name 'docker'/,
        },
        {
          args: ["--provider", "acr", "--azure-config", `/etc/a"; touch ${pwned}; "`],
          code: 2,
          error: /--azure-config must not contain quotes or backslashes/,
        },
        {
          args: ["--provider", "ecr", "--bin-dir", "relative/bin"],
          code: 2,
          error: /--bin-dir must be an absolute path/,
        },
        { args: ["--provider", "ecr", "--bin-dir", `${dir}/bin\nx`], code: 2, error: /control character/ },
        {
          args: ["--provider", "ecr", "--config", `${dir}/c.yaml\ttouch`],
          code: 2,
          error: /control character/,
        },
        {
          args: ["--provider", "ecr", "--config", "c.yaml"],
          code: 2,
          error: /--config must be an absolute path/,
        },
        { args: ["--provider", "ecr", "--source", "file:///etc"], code: 2, error: /unsupported source/ },
        {
          args: ["--provider", "ecr", "--source", "ftp://127.0.0.1/x"],
          code: 2,
          error: /unsupported source/,
        },
        {
          args: ["--provider", "ecr", "--source", "https://127.0.0.1:1/a b"],
          code: 2,
          error: /must not contain spaces/,
        },
        {
          args: ["--provider", "ecr", "--source", `${dir}/$(touch ${pwned})`],
          code: 1,
          error: /asset SHA256SUMS not found in /,
        },
        {
          args: ["--provider", "ecr", `--bogus=$(touch ${pwned})`],
          code: 2,
          error: /unknown argument '--bogus'/,
        },
      ];
      for (const c of cases) {
        const args = [...c.args];
        if (!args.includes("--source")) args.push("--source", src);
        if (!args.includes("--bin-dir")) args.push("--bin-dir", binDir);
        const r = await run(shell, args);
        expect(existsSync(pwned), `${c.args.join(" ")} ran a command`).toBe(false);
        expect(snapshot(dir), c.args.join(" ")).toEqual(before);
        expectRefused(r, c.error, { code: c.code });
      }
    },
  );

  t(
    "takes paths with spaces and glob characters as data: installs into them and deletes nothing else, also when it fails",
    async () => {
      const dir = freshDir("odd-paths");
      const src = smallAssets("odd-paths-assets");
      const bad = smallAssets("odd-paths-bad", { tamper: ["gcp"] });
      // What the old temp-file list, word-split and globbed at exit, deleted.
      writeFileSync(join(dir, "victim"), "keep me\n");
      mkdirSync(join(dir, "g"));
      writeFileSync(join(dir, "g", "a"), "a\n");
      writeFileSync(join(dir, "g", "b"), "b\n");
      mkdirSync(join(dir, "tmp *"));
      const before = snapshot(dir);
      const env = { TMPDIR: join(dir, "tmp *") };

      const binDir = join(dir, "victim dir");
      const config = join(dir, "cfg *", "credential providers.yaml");
      const r = await run(
        shell,
        ["--provider", "ecr", "--source", src, "--bin-dir", binDir, "--config", config],
        env,
      );
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expectInstalled(binDir, ["ecr"], HOST_ARCH, src);
      expect(entries(join(dir, "cfg *"))).toEqual(["credential providers.yaml"]);
      expect(without(snapshot(dir), "victim dir", "cfg *")).toEqual(before);

      const globDir = join(dir, "g", "* x");
      const r2 = await run(shell, ["--provider", "gcp", "--source", src, "--bin-dir", globDir], env);
      expect(r2.code).toBe(0);
      expectInstalled(globDir, ["gcp"], HOST_ARCH, src);
      expect(without(snapshot(dir), "victim dir", "cfg *", "g/* x")).toEqual(before);

      const failed = await run(
        shell,
        [
          "--provider",
          "ecr,gcp",
          "--source",
          bad,
          "--bin-dir",
          join(dir, "g", "* y", "bin"),
          "--config",
          config,
        ],
        env,
      );
      expectRefused(failed, /checksum mismatch for auth-provider-gcp/);
      expect(without(snapshot(dir), "victim dir", "cfg *", "g/* x")).toEqual(before);
      expect(entries(join(dir, "tmp *"))).toEqual([]);
    },
  );

  // ---- downloads --------------------------------------------------------------------------------

  t("refuses an http:// source without --allow-http, before any request", async () => {
    const src = serve(smallAssets("http-refused"));
    const binDir = join(freshDir("http-refused-bin"), "bin");
    requested.length = 0;
    const r = await run(shell, ["--provider", "ecr", "--source", `${baseUrl}${src}`, "--bin-dir", binDir]);
    expectRefused(
      r,
      /refusing the plain-HTTP source 'http:\/\/127\.0\.0\.1:\d+\/d\/k\d+': use an https:\/\/ URL, or pass --allow-http/,
      {
        code: 2,
      },
    );
    expect(requested).toEqual([]);
    expect(existsSync(binDir)).toBe(false);

    const ok = await run(shell, [
      "--provider",
      "ecr",
      "--source",
      `${baseUrl}${src}`,
      "--bin-dir",
      binDir,
      "--allow-http",
    ]);
    expect(ok.code).toBe(0);
    const warnings = ok.stderr.split("\n").filter((l) => l.includes("warning"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^install\.sh: warning: downloading over plain HTTP from http:\/\/.*--sha256/,
    );
  });

  t(
    "--sha256 pins the checksum: SHA256SUMS is then not needed nor trusted, and a wrong pin is refused",
    async () => {
      const src = smallAssets("pins", { sums: false });
      const right = (p: Provider, arch = HOST_ARCH) => sha256Of(smallBinary(p, arch));
      const base = (binDir: string, ...more: string[]) => ["--source", src, "--bin-dir", binDir, ...more];

      const one = join(freshDir("pin-one"), "bin");
      const r = await run(shell, ["--provider", "ecr", "--sha256", right("ecr").toUpperCase(), ...base(one)]);
      expect(r.stderr).toMatch(/installed ecr-credential-provider-linux-\w+ .*pinned by --sha256/);
      expect(r.code).toBe(0);
      expectInstalled(one, ["ecr"], HOST_ARCH, src);

      const wrong = join(freshDir("pin-wrong"), "bin");
      const w = await run(shell, ["--provider", "ecr", "--sha256", right("acr"), ...base(wrong)]);
      expectRefused(w, /checksum mismatch for ecr-credential-provider-linux-\w+ .*\(pinned by --sha256\)/);
      expect(existsSync(wrong)).toBe(false);

      // Per provider, by short name, binary name or asset name; the other architecture's pin is ignored.
      const named = join(freshDir("pin-named"), "bin");
      const n = await run(shell, [
        "--provider",
        "ecr,acr,gcp",
        "--sha256",
        `ecr=${right("ecr")},acr-credential-provider=${right("acr")}`,
        "--sha256",
        `auth-provider-gcp-linux-${HOST_ARCH}=${right("gcp")}`,
        "--sha256",
        `auth-provider-gcp-linux-${OTHER_ARCH}=${"0".repeat(64)}`,
        ...base(named),
      ]);
      expect(n.stderr).not.toMatch(/error/);
      expect(n.code).toBe(0);
      expectInstalled(named, PROVIDERS, HOST_ARCH, src);

      // A pin wins over a SHA256SUMS that says otherwise (which is then not even fetched).
      const lying = smallAssets("pins-lying", { tamper: ["ecr"] });
      const pinned = join(freshDir("pin-over-sums"), "bin");
      const tampered = sha256(join(lying, `ecr-credential-provider-linux-${HOST_ARCH}`));
      const o = await run(shell, [
        "--provider",
        "ecr",
        "--sha256",
        `ecr=${tampered}`,
        "--source",
        lying,
        "--bin-dir",
        pinned,
      ]);
      expect(o.code).toBe(0);
      const sums = await run(shell, [
        "--provider",
        "ecr",
        "--source",
        lying,
        "--bin-dir",
        join(freshDir("pin-none"), "bin"),
      ]);
      expectRefused(sums, /checksum mismatch .*verified against SHA256SUMS/);

      // Pins that cannot be meant: an unnamed one for several providers, one for a provider not installed.
      const unnamed = await run(shell, ["--provider", "ecr,gcp", "--sha256", right("ecr"), ...base(wrong)]);
      expectRefused(unnamed, /--sha256 HASH without a name pins one provider, but several are installed/, {
        code: 2,
      });
      const other = await run(shell, [
        "--provider",
        "ecr",
        "--sha256",
        `gcp=${right("gcp")}`,
        ...base(wrong),
      ]);
      expectRefused(other, /--sha256 pins gcp, but provider gcp is not being installed/, { code: 2 });
      const twice = await run(shell, [
        "--provider",
        "ecr",
        "--sha256",
        `ecr=${right("ecr")},ecr=${right("acr")}`,
        ...base(wrong),
      ]);
      expectRefused(twice, /--sha256 pins ecr twice/, { code: 2 });
      expect(existsSync(wrong)).toBe(false);
    },
  );

  t("replaces a symlink in place of a binary, even one to a file with the right checksum", async () => {
    const { src, dir, binDir } = nodeCase("symlink");
    mkdirSync(binDir);
    const elsewhere = join(dir, "elsewhere");
    writeFileSync(elsewhere, smallBinary("ecr"), { mode: 0o755 });
    symlinkSync(elsewhere, join(binDir, "ecr-credential-provider"));
    mkdirSync(join(dir, "a-dir"));
    symlinkSync(join(dir, "a-dir"), join(binDir, "auth-provider-gcp"));

    const r = await run(shell, ["--provider", "ecr,gcp", "--source", src, "--bin-dir", binDir]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/already installed/);
    expect(r.stderr).toMatch(/ecr-credential-provider: installed /);
    expectInstalled(binDir, ["ecr", "gcp"], HOST_ARCH, src);
    expect(readFileSync(elsewhere, "utf8")).toBe(smallBinary("ecr"));
    expect(entries(join(dir, "a-dir"))).toEqual([]);
  });

  t(
    "verifies every provider before changing anything: one bad provider leaves the node as it was",
    async () => {
      const bad = smallAssets("partial", { tamper: ["gcp"] });
      const dir = freshDir("partial-node");
      const binDir = join(dir, "usr", "local", "bin");
      const config = join(dir, "etc", "kubernetes", "config.yaml");
      const r = await run(shell, [
        "--provider",
        "ecr,gcp",
        "--source",
        bad,
        "--bin-dir",
        binDir,
        "--config",
        config,
      ]);
      expectRefused(r, /checksum mismatch for auth-provider-gcp-linux-\w+/);
      expect(entries(dir)).toEqual([]);

      mkdirSync(binDir, { recursive: true });
      writeFileSync(join(binDir, "ecr-credential-provider"), "previous\n", { mode: 0o755 });
      const before = snapshot(dir);
      const again = await run(shell, [
        "--provider",
        "ecr,gcp",
        "--source",
        bad,
        "--bin-dir",
        binDir,
        "--config",
        config,
      ]);
      expectRefused(again, /checksum mismatch for auth-provider-gcp-linux-\w+/);
      expect(snapshot(dir)).toEqual(before);
    },
  );

  t("--dry-run downloads and verifies everything: a tampered binary fails it, nothing changes", async () => {
    const bad = smallAssets("dry-tampered", { tamper: ["gcp"] });
    const dir = freshDir("dry-tampered-node");
    const binDir = join(dir, "bin");
    const r = await run(shell, ["--provider", "ecr,gcp", "--source", bad, "--bin-dir", binDir, "--dry-run"]);
    expectRefused(r, /checksum mismatch for auth-provider-gcp-linux-\w+/);
    expect(entries(dir)).toEqual([]);

    const good = smallAssets("dry-good");
    const ok = await run(shell, [
      "--provider",
      "ecr,gcp",
      "--source",
      good,
      "--bin-dir",
      binDir,
      "--dry-run",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(
      /dry run: ecr-credential-provider: would install ecr-credential-provider-linux-\w+ from .* \(sha256 [0-9a-f]{64}, verified against SHA256SUMS\)/,
    );
    expect(entries(dir)).toEqual([]);
  });

  t(
    "--dry-run prints the config change as the simulator's unified diff (no diff command needed), changes nothing",
    async () => {
      const { src, dir, binDir, config } = nodeCase("dry-diff", "etc/config.yaml");
      const fresh = await run(shell, [
        "--provider",
        "ecr",
        "--source",
        src,
        "--bin-dir",
        binDir,
        "--config",
        config,
        "--dry-run",
      ]);
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toMatch(
        new RegExp(`^--- /dev/null\\n\\+\\+\\+ ${config.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\n@@ `),
      );
      expect(fresh.stdout).toContain("\n+  - name: ecr-credential-provider\n");
      expect(entries(dir)).toEqual([]);

      expect(
        (await run(shell, ["--provider", "ecr", "--source", src, "--bin-dir", binDir, "--config", config]))
          .code,
      ).toBe(0);
      const before = snapshot(dir);
      const more = await run(shell, [
        "--provider",
        "ecr,gcp",
        "--source",
        src,
        "--bin-dir",
        binDir,
        "--config",
        config,
        "--dry-run",
      ]);
      expect(more.code).toBe(0);
      const lines = more.stdout.split("\n");
      expect(lines[0]).toBe(`--- ${config}`);
      expect(lines[1]).toBe(`+++ ${config}`);
      expect(lines).toContain("+  - name: auth-provider-gcp");
      expect(lines.filter((l) => /^-[^-]/.test(l))).toEqual([]);
      expect(more.stderr).toMatch(/dry run: auth-provider-gcp: would install /);
      expect(more.stderr).toMatch(/dry run: ecr-credential-provider: already installed/);
      expect(more.stderr).toMatch(/the kubelet reads .* only when it starts/);
      expect(snapshot(dir)).toEqual(before);

      // The diff is the simulator's: no diff command is needed.
      const noDiff = toolsDir("no-diff", { omit: ["diff"] });
      if (noDiff) {
        const same = await run(
          shell,
          ["--provider", "ecr,gcp", "--source", src, "--bin-dir", binDir, "--config", config, "--dry-run"],
          { PATH: noDiff },
        );
        expect(same.code).toBe(0);
        expect(same.stdout).toBe(more.stdout);
        expect(snapshot(dir)).toEqual(before);
      }
    },
  );

  t("writes JSON to a config named *.json and YAML otherwise, both valid for the kubelet", async () => {
    const src = smallAssets("formats-assets");
    const dir = freshDir("formats");
    const json = join(dir, "config.json");
    const yaml = join(dir, "config.yaml");
    for (const config of [json, yaml]) {
      const r = await run(shell, [
        "--provider",
        "ecr,acr,gcp",
        "--source",
        src,
        "--bin-dir",
        join(dir, "bin"),
        "--config",
        config,
        "--azure-config",
        "/etc/kubernetes/azure cloud.json",
      ]);
      expect(r.code).toBe(0);
      const v = await simValidate(config);
      expect(v.stdout.trim()).toBe("valid: 3 providers from 1 file");
    }
    const doc = JSON.parse(readFileSync(json, "utf8"));
    expect(doc.kind).toBe("CredentialProviderConfig");
    expect(doc.providers.map((x: { name: string }) => x.name)).toEqual(PROVIDERS.map((p) => BINARIES[p]));
    expect(doc.providers[1].args).toEqual(["/etc/kubernetes/azure cloud.json"]);
    expect(doc.providers[2].args).toEqual(["get-credentials", "--v=3"]);
    expect(parse(readFileSync(yaml, "utf8"))).toEqual(doc);

    const printed = await run(shell, [
      "--provider",
      "gcp",
      "--source",
      src,
      "--bin-dir",
      join(dir, "bin"),
      "--config",
      json,
      "--print-config",
    ]);
    expect(JSON.parse(printed.stdout).providers[0].name).toBe("auth-provider-gcp");
  });

  t(
    "says the kubelet must restart after a config change; --restart-kubelet restarts it, only then",
    async () => {
      const src = smallAssets("restart-assets");
      const dir = freshDir("restart");
      const fake = freshDir("restart-path");
      writeFileSync(join(fake, "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
      const log = join(dir, "systemctl.log");
      const env = { PATH: `${fake}${delimiter}${process.env.PATH}`, SYSTEMCTL_LOG: log };
      const config = join(dir, "config.yaml");
      const args = (providers: string, ...more: string[]) => [
        "--provider",
        providers,
        "--source",
        src,
        "--bin-dir",
        join(dir, "bin"),
        "--config",
        config,
        ...more,
      ];

      const first = await run(shell, args("ecr"), env);
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(
        /the kubelet reads .*config\.yaml only when it starts: restart it .*--restart-kubelet/,
      );
      expect(existsSync(log)).toBe(false);

      const dry = await run(shell, args("ecr,gcp", "--restart-kubelet", "--dry-run"), env);
      expect(dry.code).toBe(0);
      expect(existsSync(log)).toBe(false);

      const restart = await run(shell, args("ecr,gcp", "--restart-kubelet"), env);
      expect(restart.code).toBe(0);
      expect(restart.stderr).toMatch(/restarting the kubelet \(systemctl restart kubelet\)/);
      expect(readFileSync(log, "utf8")).toBe("restart kubelet\n");

      const same = await run(shell, args("ecr,gcp", "--restart-kubelet"), env);
      expect(same.code).toBe(0);
      expect(same.stderr).toMatch(/unchanged: the kubelet is not restarted/);
      expect(readFileSync(log, "utf8")).toBe("restart kubelet\n");

      const noConfig = await run(
        shell,
        ["--provider", "ecr", "--source", src, "--bin-dir", join(dir, "bin"), "--restart-kubelet"],
        env,
      );
      expectRefused(noConfig, /--restart-kubelet needs --config/, { code: 2 });
      expect(readFileSync(log, "utf8")).toBe("restart kubelet\n");
    },
  );

  t(
    "--restart-kubelet: refused before any change without systemctl; systemctl's own error when it fails",
    async () => {
      const { src, dir, binDir, config } = nodeCase("restart-fail");
      const args = [
        "--provider",
        "ecr",
        "--source",
        src,
        "--bin-dir",
        binDir,
        "--config",
        config,
        "--restart-kubelet",
      ];
      const noSystemd = toolsDir("no-systemctl");
      if (noSystemd) {
        const r = await run(shell, args, { PATH: noSystemd });
        expectRefused(r, /--restart-kubelet: systemctl not found/);
        expect(entries(dir)).toEqual([]);
      }
      const failing = freshDir("failing-systemctl");
      writeFileSync(join(failing, "systemctl"), FAILING_SYSTEMCTL, { mode: 0o755 });
      const f = await run(shell, args, { PATH: `${failing}${delimiter}${process.env.PATH}` });
      expect(f.code).toBe(1);
      const last = f.stderr.trim().split("\n").at(-1);
      expect(last).toMatch(
        /^install\.sh: error: the config is in place, but systemctl restart kubelet failed: System has not been booted with systemd/,
      );
      expectInstalled(binDir, ["ecr"], HOST_ARCH, src);
    },
  );

  t("refuses a wget that cannot check TLS certificates, unless the checksums are pinned", async () => {
    const src = smallAssets("no-tls-check");
    // Plays a busybox wget built without a TLS library: it says so, and "downloads" from src.
    const fakeWget = [
      "#!/bin/sh",
      'if [ "$1" = --help ]; then echo "BusyBox v1.36.1 multi-call binary." >&2; exit 1; fi',
      'out=""; url=""',
      'while [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done',
      'echo "wget: note: TLS certificate validation not implemented" >&2',
      `cp "${src}/\${url##*/}" "$out"`,
      "",
    ].join("\n");
    const tools = toolsDir("fake-wget", { scripts: { wget: fakeWget } });
    if (!tools) return;
    const binDir = join(freshDir("no-tls-check-bin"), "bin");
    const args = ["--provider", "ecr", "--source", "https://127.0.0.1:1/release", "--bin-dir", binDir];
    const r = await run(shell, args, { PATH: tools });
    expectRefused(
      r,
      /cannot download https:\/\/127\.0\.0\.1:1\/release\/SHA256SUMS safely: this wget does not validate TLS certificates/,
    );
    expect(existsSync(binDir)).toBe(false);

    const pinned = await run(shell, [...args, "--sha256", sha256Of(smallBinary("ecr"))], { PATH: tools });
    expect(pinned.code).toBe(0);
    expectInstalled(binDir, ["ecr"], HOST_ARCH, src);
  });

  describe.each(DOWNLOADERS)("over HTTPS with $label", (dl) => {
    t(
      "installs, follows a redirect to HTTPS, refuses one to plain HTTP, and prints its own errors",
      async (ctx) => {
        const env = openssl && httpsServer ? dl.env() : undefined;
        if (!env) return ctx.skip(`${dl.label} or openssl is not installed`);
        const src = smallAssets(`https-${dl.label}`);
        const path = serve(src);
        const base = `https://${dl.host}:${httpsPort}`;
        const install = (source: string, binDir: string, trustCa = true) =>
          run(shell, ["--provider", "ecr", "--source", source, "--bin-dir", binDir], {
            ...(trustCa
              ? env
              : Object.fromEntries(
                  Object.entries(env).filter(
                    ([k]) => !["CURL_CA_BUNDLE", "WGETRC", "SSL_CERT_FILE"].includes(k),
                  ),
                )),
            INSTALL_RETRIES: "1",
          });

        const direct = join(freshDir("https-direct"), "bin");
        const r = await install(`${base}${path}`, direct);
        expect(r.stderr).not.toMatch(/error|warning/);
        expect(r.code).toBe(0);
        expectInstalled(direct, ["ecr"], HOST_ARCH, src);

        const viaHttps = join(freshDir("https-redirect"), "bin");
        const r2 = await install(`${base}/redirect-https${path}`, viaHttps);
        expect(r2.code).toBe(0);
        expectInstalled(viaHttps, ["ecr"], HOST_ARCH, src);

        const viaHttp = join(freshDir("http-redirect"), "bin");
        requested.length = 0;
        const r3 = await install(`${base}/redirect-http${path}`, viaHttp);
        expectRefused(
          r3,
          /cannot download https:\/\/.*\/redirect-http\/d\/k\d+\/SHA256SUMS: it redirects to .*not HTTPS/,
        );
        expect(existsSync(viaHttp)).toBe(false);
        // curl refuses before following; wget can only be checked afterwards (its request was made,
        // its answer thrown away unread).
        if (dl.label === "curl") expect(requested).toEqual([`/redirect-http${path}/SHA256SUMS`]);

        const missing = join(freshDir("https-404"), "bin");
        const r4 = await install(`${base}/d/nothing-here`, missing);
        expectRefused(
          r4,
          new RegExp(`cannot download https://.*/d/nothing-here/SHA256SUMS: .*${dl.notFound.source}`),
        );
        expect(existsSync(missing)).toBe(false);

        // Without the test's CA, the server's certificate is not trusted: TLS is verified.
        const untrusted = join(freshDir("https-untrusted"), "bin");
        const r5 = await install(`${base}${path}`, untrusted, false);
        expectRefused(r5, /cannot download https:\/\/.*SHA256SUMS: /);
        expect(existsSync(untrusted)).toBe(false);
      },
    );
  });
});

describe("install.sh usage", () => {
  const sh = SHELLS[0] as Shell;
  it("--help prints the usage, with every flag, and exits 0", async () => {
    const r = await run(sh, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: install\.sh --provider ecr\|acr\|gcp/);
    for (const flag of [
      "--provider",
      "--version",
      "--source",
      "--allow-http",
      "--sha256",
      "--arch",
      "--bin-dir",
      "--config",
      "--print-config",
      "--azure-config",
      "--force",
      "--restart-kubelet",
      "--uninstall",
      "--allow-empty",
      "--dry-run",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${flag} `, "m"));
    }
  });
  it("rejects an unknown flag, an unknown provider, and a missing source with exit 2", async () => {
    for (const args of [
      ["--provider", "ecr", "--bogus"],
      ["--provider", "docker", "--version", "1.0.0"],
      ["--provider", "ecr"],
      ["--version", "1.0.0"],
      ["--provider", "ecr", "--version", "docker=1.0.0"],
      ["--provider", "ecr", "--version", "ecr=1.0.0,ecr=2.0.0"],
    ]) {
      const r = await run(sh, args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
