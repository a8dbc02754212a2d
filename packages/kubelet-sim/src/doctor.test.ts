/**
 * `doctor` over the node layouts of testdata/nodes (EKS with nodeadm, AKS with AgentBaker, GKE on
 * COS, kubeadm): each healthy as laid out, then broken one silent failure at a time, each reported
 * on one line with its fix. The JSON report is checked against its schema. Run as a process.
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { type Grant, startApiServer, type TestApiServer } from "../testdata/api-server.ts";
import { PLUGINS, runSim, scratch } from "../testdata/harness.ts";
import { nodeArch } from "./doctor-binary.ts";

const tmp = scratch("doctor");
afterAll(() => tmp.remove());
const NODES = new URL("../testdata/nodes/", import.meta.url).pathname;

/** Where each layout's kubelet looks for its providers, and the providers its config names. */
const LAYOUTS = {
  eks: { binDir: "etc/eks/image-credential-provider", providers: ["ecr-credential-provider"] },
  aks: { binDir: "var/lib/kubelet/credential-provider", providers: ["acr-credential-provider"] },
  gke: { binDir: "home/kubernetes/bin", providers: ["auth-provider-gcp"] },
  kubeadm: {
    binDir: "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
    providers: ["ecr-credential-provider", "example-credential-provider"],
  },
} as const;
type Layout = keyof typeof LAYOUTS;

let count = 0;
/** A copy of a layout with its provider binaries (the counting test plugin) and a /bin/sh. */
function node(layout: Layout): string {
  const root = tmp.path(`${layout}-${++count}`);
  cpSync(join(NODES, layout), root, { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "bin/sh"), "");
  for (const name of LAYOUTS[layout].providers) {
    const path = join(root, LAYOUTS[layout].binDir, name);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(PLUGINS, "counting.sh"), path);
    chmodSync(path, 0o755);
  }
  if (layout === "kubeadm") {
    // The running kubelet, with kubeadm's flags expanded as systemd passes them.
    const args = [
      "/usr/bin/kubelet",
      "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
      "--kubeconfig=/etc/kubernetes/kubelet.conf",
      "--config=/var/lib/kubelet/config.yaml",
      "--image-credential-provider-config=/etc/kubernetes/credential-providers",
      "--image-credential-provider-bin-dir",
      "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
    ];
    mkdirSync(join(root, "proc/4242"), { recursive: true });
    writeFileSync(join(root, "proc/4242/cmdline"), `${args.join("\0")}\0`);
    mkdirSync(join(root, "proc/1"), { recursive: true });
    writeFileSync(join(root, "proc/1/cmdline"), "/sbin/init\0");
  }
  return root;
}

function edit(root: string, path: string, change: (text: string) => string): void {
  writeFileSync(join(root, path), change(readFileSync(join(root, path), "utf8")));
}

async function doctor(root: string, ...args: string[]) {
  const run = await runSim(["doctor", "--root", root, ...args]);
  return { ...run, lines: run.stdout.split("\n").filter((line) => line !== "") };
}

/** The lines of one status mark. */
const marked = (lines: string[], mark: "✓" | "!" | "✗" | "-") =>
  lines.filter((line) => line.startsWith(`${mark} `));

const text = () => z.string().check(z.minLength(1));
const checkSchema = z.strictObject({
  status: z.enum(["ok", "warn", "fail", "info"]),
  check: text(),
  message: text(),
  fix: z.optional(text()),
});
const reportSchema = z.strictObject({
  root: z.string(),
  kubelet: z.strictObject({
    path: z.optional(text()),
    source: z.optional(text()),
    version: z.string().check(z.regex(/^1\.\d+$/)),
    versionFrom: z.enum(["--kubelet-version", "kubelet --version", "unknown"]),
    config: z.optional(text()),
    binDir: z.optional(text()),
    environment: z.optional(z.array(text())),
  }),
  checks: z.array(checkSchema),
  broken: z.int().check(z.nonnegative()),
  warnings: z.int().check(z.nonnegative()),
});

describe("doctor on a healthy node", { timeout: 30_000 }, () => {
  it.each([
    [
      "eks",
      ["--kubelet-version", "1.34", "--image", "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0"],
    ],
    ["aks", ["--kubelet-version", "1.35", "--image", "myregistry.azurecr.io/team/app"]],
    ["gke", ["--kubelet-version", "1.33"]],
    ["kubeadm", ["--kubelet-version", "1.34"]],
  ] as const)("%s: every check passes", async (layout, args) => {
    const root = node(layout);
    const run = await doctor(root, ...args);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.lines.at(-1)).toBe("doctor: healthy");
    expect(marked(run.lines, "✗")).toEqual([]);
    expect(marked(run.lines, "!")).toEqual([]);
    const binDir = `/${LAYOUTS[layout].binDir}`;
    for (const name of LAYOUTS[layout].providers) {
      expect(run.lines).toContain(
        `✓ provider ${name}: ${binDir}/${name}: a script (#!/bin/sh); --version: ${name} 0.0.0-test`,
      );
    }
    expect(marked(run.lines, "✓").some((line) => line.startsWith("✓ lookup "))).toBe(true);
    expect(run.stderr).toBe("");
  });

  it("finds the kubelet's flags where each platform puts them", async () => {
    const sources: Record<Layout, RegExp> = {
      eks: /^✓ kubelet: \/usr\/bin\/kubelet, its flags from its systemd unit \(etc\/systemd\/system\/kubelet\.service\)$/,
      aks: /^✓ kubelet: \/usr\/local\/bin\/kubelet, its flags from its systemd unit/,
      gke: /^✓ kubelet: \/home\/kubernetes\/bin\/kubelet, its flags from its systemd unit/,
      kubeadm: /^✓ kubelet: \/usr\/bin\/kubelet, its flags from its running process \(pid 4242\)$/,
    };
    for (const layout of Object.keys(LAYOUTS) as Layout[]) {
      const run = await doctor(node(layout), "--kubelet-version", "1.34", "--image", "nothing.example/app");
      expect(run.lines[1], layout).toMatch(sources[layout]);
    }
  });

  it("runs the plugins with the kubelet's environment, not its own: the process's, or the unit's", async () => {
    const counts = (name: string) => tmp.path(`${name}-${++count}.count`);
    // kubeadm: the running kubelet's /proc/<pid>/environ.
    const kubeadm = node("kubeadm");
    const fromProcess = counts("process");
    writeFileSync(
      join(kubeadm, "proc/4242/environ"),
      `PATH=/usr/sbin:/usr/bin:/sbin:/bin\0COUNT_FILE=${fromProcess}\0INHERITED=kubelet-process\0AWS_SECRET_ACCESS_KEY=kubelet-env-secret\0`,
    );

    const env = { INHERITED: "doctor" };
    const run = await runSim(["doctor", "--root", kubeadm, "--kubelet-version", "1.34", "--output", "json"], {
      env,
    });
    expect(readFileSync(fromProcess, "utf8")).toMatch(/ inherited=kubelet-process\n$/);
    expect(reportSchema.parse(JSON.parse(run.stdout)).kubelet.environment).toEqual([
      "AWS_SECRET_ACCESS_KEY",
      "COUNT_FILE",
      "INHERITED",
      "PATH",
    ]);
    // A plugin that quotes its environment in its error: doctor masks the secret's value.
    writeFileSync(
      join(kubeadm, LAYOUTS.kubeadm.binDir, "example-credential-provider"),
      '#!/bin/sh\nif [ "$#" -gt 0 ] && [ "$1" = --version ]; then echo "example 1"; exit 0; fi\necho "no access with key $AWS_SECRET_ACCESS_KEY" >&2\nexit 1\n',
    );
    const quoted = await doctor(kubeadm, "--kubelet-version", "1.34");
    expect(quoted.stdout).toContain("no access with key [REDACTED]");
    expect(quoted.stdout + quoted.stderr).not.toContain("kubelet-env-secret");
    // AKS: the unit's EnvironmentFile, over systemd's default PATH.
    const aks = node("aks");
    const fromUnit = counts("unit");
    edit(aks, "etc/default/kubelet", (text) => `${text}COUNT_FILE=${fromUnit}\nINHERITED=kubelet-unit\n`);
    await runSim(
      ["doctor", "--root", aks, "--kubelet-version", "1.35", "--image", "myregistry.azurecr.io/app"],
      {
        env,
      },
    );
    expect(readFileSync(fromUnit, "utf8")).toMatch(/ inherited=kubelet-unit\n$/);
  });

  it("finds kubeadm's flags in its drop-in and /etc/default/kubelet when no kubelet runs", async () => {
    const root = node("kubeadm");
    rmSync(join(root, "proc"), { recursive: true });
    const run = await doctor(root, "--kubelet-version", "1.34");
    expect(run.lines[1]).toBe(
      "✓ kubelet: /usr/bin/kubelet, its flags from its systemd unit (usr/lib/systemd/system/kubelet.service, usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf)",
    );
    expect(run.lines).toContain(
      "✓ flags: --image-credential-provider-config=/etc/kubernetes/credential-providers --image-credential-provider-bin-dir=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
    );
    expect(run.code).toBe(0);
  });

  it("looks up an example image per pattern that has one, and says which patterns need --image", async () => {
    const run = await doctor(node("gke"), "--kubelet-version", "1.34");
    expect(run.lines).toContain(
      "✓ lookup container.cloud.google.com/doctor-check: a credential for container.cloud.google.com from auth-provider-gcp, cached by Registry for 1m",
    );
    expect(run.lines).toContain(
      "✓ lookup gcr.io/doctor-check: a credential for gcr.io from auth-provider-gcp, cached by Registry for 1m",
    );
    expect(marked(run.lines, "-")).toEqual([
      '- lookup: no example image for "*.gcr.io" (auth-provider-gcp): give one with --image',
      '- lookup: no example image for "*.pkg.dev" (auth-provider-gcp): give one with --image',
    ]);
  });

  it("prints the same findings as JSON, which the schema accepts", async () => {
    const root = node("kubeadm");
    const run = await doctor(root, "--kubelet-version", "1.34", "--output", "json");
    expect(run.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(run.stdout));
    expect(report).toMatchObject({
      root,
      kubelet: {
        path: "/usr/bin/kubelet",
        source: "its running process (pid 4242)",
        version: "1.34",
        versionFrom: "--kubelet-version",
        config: "/etc/kubernetes/credential-providers",
      },
      broken: 0,
      warnings: 0,
    });
    expect(report.checks.map((check) => check.check)).toEqual([
      "kubelet",
      "flags",
      "config",
      "provider ecr-credential-provider",
      "provider example-credential-provider",
      "lookup", // no example image for *.dkr.ecr.*.amazonaws.com
      "lookup", // nor for *.registry.example.com
      "lookup registry.example.com/doctor-check",
    ]);
  });
});

describe("doctor on a broken node: each silent failure, one line, with its fix", { timeout: 30_000 }, () => {
  /** The ✗ and ! lines of a run, and its exit status. */
  async function findings(root: string, ...args: string[]) {
    const run = await doctor(root, ...args);
    return {
      code: run.code,
      broken: marked(run.lines, "✗"),
      warnings: marked(run.lines, "!"),
      last: run.lines.at(-1),
    };
  }

  it("a kubelet without the credential provider flags", async () => {
    const root = node("aks");
    edit(root, "etc/default/kubelet", (text) => text.replace(/--image-credential-provider-config=\S+ /, ""));
    expect(await findings(root, "--kubelet-version", "1.34")).toEqual({
      code: 1,
      broken: [
        "✗ flags: the kubelet has no --image-credential-provider-config: it runs no credential provider, and pulls private images without credentials (fix: add --image-credential-provider-config=FILE and --image-credential-provider-bin-dir=DIR to the kubelet's flags, and restart it)",
      ],
      warnings: [],
      last: "doctor: 1 broken",
    });
  });

  it("no kubelet at all", async () => {
    const root = node("gke");
    rmSync(join(root, "etc/systemd"), { recursive: true });
    const result = await findings(root);
    expect(result.broken).toEqual([
      "✗ kubelet: no kubelet found: no running kubelet process, no kubelet.service (fix: give its flags with --kubelet-flags, or --config and --bin-dir)",
    ]);
    expect(result.code).toBe(1);
  });

  it("matchImages patterns that cannot match as meant: warnings, not breakage", async () => {
    const root = node("eks");
    edit(root, "etc/eks/image-credential-provider/config.json", (text) =>
      text.replace('"*.dkr.ecr.*.amazonaws.com",', '"*.amazonaws.com", "registry.example.com/team/*",'),
    );
    const result = await findings(
      root,
      "--kubelet-version",
      "1.34",
      "--image",
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/app",
    );
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^! config: \/etc\/eks\/image-credential-provider\/config\.json: providers\[0\]\.matchImages\[0\]: "\*\.amazonaws\.com": "\*" matches one DNS label: .* \(fix: write "\*\.dkr\.ecr\.\*\.amazonaws\.com"\)$/,
      ),
      expect.stringMatching(
        /^! config: .*providers\[0\]\.matchImages\[1\]: "registry\.example\.com\/team\/\*": the path .* \(fix: write "registry\.example\.com\/team\/"\)$/,
      ),
      // The image the operator meant now matches nothing.
      expect.stringMatching(
        /^! lookup 123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com\/app: no provider matches it: ecr-credential-provider "\*\.amazonaws\.com": 3 DNS labels; /,
      ),
    ]);
    expect(result.last).toBe("doctor: 3 warnings");
  });

  it("cacheKeyType in the config, where tokenAttributes.cacheType was meant", async () => {
    const root = node("eks");
    edit(root, "etc/eks/image-credential-provider/config.json", (text) =>
      text.replace(
        '"defaultCacheDuration": "12h",',
        '"defaultCacheDuration": "12h", "cacheKeyType": "Registry",',
      ),
    );
    const result = await findings(root, "--kubelet-version", "1.34");
    expect(result.broken).toEqual([
      expect.stringMatching(
        /^✗ config: the kubelet 1\.34 would not start: error decoding config ".*": strict decoding error: unknown field "providers\[0\]\.cacheKeyType" \(fix: cacheKeyType belongs in a plugin's answer, not in the config; the config's cache setting is tokenAttributes\.cacheType \(ServiceAccount or Token, kubelet 1\.34\+\)\)$/,
      ),
    ]);
    expect(result.code).toBe(1);
  });

  const serviceAccountMode = (cacheType: string) => (text: string) =>
    text.replace(
      "    args:\n      - /etc/kubernetes/azure.json",
      `    args:\n      - /etc/kubernetes/azure.json\n    tokenAttributes:\n      serviceAccountTokenAudience: api://AzureADTokenExchange\n      requireServiceAccount: true\n${cacheType}`,
    );

  it("a config written for 1.34 (tokenAttributes.cacheType) on a 1.33 kubelet", async () => {
    const root = node("aks");
    edit(
      root,
      "var/lib/kubelet/credential-provider-config.yaml",
      serviceAccountMode("      cacheType: ServiceAccount\n"),
    );
    const result = await findings(root, "--kubelet-version", "1.33");
    expect(result.broken).toEqual([
      expect.stringMatching(
        /unknown field "providers\[0\]\.tokenAttributes\.cacheType" \(fix: kubelet 1\.33 has no tokenAttributes\.cacheType \(it came in 1\.34\): remove it, or upgrade the kubelet\)$/,
      ),
    ]);
    // The same config is healthy on 1.34; its lookup waits for a pod's service account.
    const run = await doctor(root, "--kubelet-version", "1.34", "--image", "myregistry.azurecr.io/app");
    expect(run.code).toBe(0);
    expect(marked(run.lines, "✗")).toEqual([]);
    expect(marked(run.lines, "-")).toEqual([
      "- lookup myregistry.azurecr.io/app: acr-credential-provider not run: tokenAttributes.requireServiceAccount is true and the pod has no service account (no --service-account-token given); the kubelet logs this only at -v=5",
    ]);
  });

  it("a config written for 1.33 (tokenAttributes without cacheType) on a 1.34 kubelet", async () => {
    const root = node("aks");
    edit(root, "var/lib/kubelet/credential-provider-config.yaml", serviceAccountMode(""));
    const result = await findings(root, "--kubelet-version", "1.34");
    expect(result.broken).toEqual([
      expect.stringMatching(
        /cacheType is required .* \(fix: from kubelet 1\.34, tokenAttributes needs cacheType: add cacheType: ServiceAccount \(or Token\)\)$/,
      ),
    ]);
  });

  it("tokenAttributes on 1.33 without its feature gate", async () => {
    const root = node("aks");
    edit(root, "var/lib/kubelet/credential-provider-config.yaml", serviceAccountMode(""));
    const result = await findings(root, "--kubelet-version", "1.33", "--image", "myregistry.azurecr.io/app");
    expect(result.broken).toEqual([
      "✗ config: tokenAttributes needs the KubeletServiceAccountTokenForCredentialProviders feature gate on kubelet 1.33 (off by default): the kubelet would not start (fix: add --feature-gates=KubeletServiceAccountTokenForCredentialProviders=true to the kubelet's flags)",
    ]);
    edit(root, "etc/default/kubelet", (text) =>
      text.replace(
        "--anonymous-auth=false",
        "--anonymous-auth=false --feature-gates=KubeletServiceAccountTokenForCredentialProviders=true",
      ),
    );
    expect(
      (await findings(root, "--kubelet-version", "1.33", "--image", "myregistry.azurecr.io/app")).broken,
    ).toEqual([]);
  });

  it("a config directory on a 1.33 kubelet", async () => {
    const result = await findings(node("kubeadm"), "--kubelet-version", "1.33");
    expect(result.broken).toEqual([
      expect.stringMatching(
        /is a directory \(fix: kubelet 1\.33 reads one file: point --image-credential-provider-config at a file, or upgrade the kubelet to 1\.34\+\)$/,
      ),
    ]);
  });

  /** A minimal 64-bit little-endian ELF executable header, with a PT_INTERP segment when given. */
  function elf(machine: number, interpreter?: string): Buffer {
    const header = Buffer.alloc(64 + 56 + 64);
    header.writeUInt32BE(0x7f454c46, 0);
    header[4] = 2; // 64-bit
    header[5] = 1; // little-endian
    header[6] = 1;
    header.writeUInt16LE(2, 16); // ET_EXEC
    header.writeUInt16LE(machine, 18);
    header.writeBigUInt64LE(64n, 0x20); // e_phoff
    header.writeUInt16LE(56, 0x36); // e_phentsize
    header.writeUInt16LE(interpreter === undefined ? 0 : 1, 0x38); // e_phnum
    if (interpreter !== undefined) {
      header.writeUInt32LE(3, 64); // PT_INTERP
      header.writeBigUInt64LE(120n, 64 + 0x08);
      header.writeBigUInt64LE(BigInt(interpreter.length + 1), 64 + 0x20);
      header.write(interpreter, 120);
    }
    return header;
  }
  const HOST_MACHINE = nodeArch() === "arm64" ? 183 : 62;
  const OTHER = nodeArch() === "arm64" ? { machine: 62, arch: "amd64" } : { machine: 183, arch: "arm64" };

  it("a Windows executable where a Linux one belongs (a release's -windows-amd64.exe copied by mistake)", async () => {
    const root = node("gke");
    const pe = Buffer.alloc(0x90);
    pe.write("MZ", 0, "latin1");
    pe.writeUInt32LE(0x80, 0x3c);
    pe.write("PE\0\0", 0x80, "latin1");
    writeFileSync(join(root, "home/kubernetes/bin/auth-provider-gcp"), pe, { mode: 0o755 });
    expect((await findings(root, "--kubelet-version", "1.34")).broken[0]).toBe(
      `✗ provider auth-provider-gcp: /home/kubernetes/bin/auth-provider-gcp is a Windows executable (fix: install the linux-${nodeArch()} build of auth-provider-gcp)`,
    );
  });

  it("a provider binary for another architecture", async () => {
    const root = node("gke");
    writeFileSync(
      join(root, "home/kubernetes/bin/auth-provider-gcp"),
      elf(OTHER.machine, "/lib/ld-linux.so"),
      { mode: 0o755 },
    );
    expect((await findings(root, "--kubelet-version", "1.34")).broken).toEqual([
      `✗ provider auth-provider-gcp: /home/kubernetes/bin/auth-provider-gcp is built for linux/${OTHER.arch}; this node is linux/${nodeArch()} (fix: install the linux-${nodeArch()} build of auth-provider-gcp)`,
      expect.stringMatching(
        /^✗ lookup container\.cloud\.google\.com\/doctor-check: auth-provider-gcp failed: /,
      ),
      expect.stringMatching(/^✗ lookup gcr\.io\/doctor-check: auth-provider-gcp failed: /),
    ]);
  });

  it("a provider binary for another C library (musl on a glibc node)", async () => {
    const root = node("eks");
    const musl = nodeArch() === "arm64" ? "/lib/ld-musl-aarch64.so.1" : "/lib/ld-musl-x86_64.so.1";
    writeFileSync(
      join(root, "etc/eks/image-credential-provider/ecr-credential-provider"),
      elf(HOST_MACHINE, musl),
      {
        mode: 0o755,
      },
    );
    expect((await findings(root, "--kubelet-version", "1.34")).broken).toEqual([
      `✗ provider ecr-credential-provider: /etc/eks/image-credential-provider/ecr-credential-provider is built for musl (${musl}), which this node does not have (fix: install the build of ecr-credential-provider for this node's C library)`,
    ]);
  });

  it("a provider binary missing, or not executable", async () => {
    const root = node("kubeadm");
    const exec = "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec";
    rmSync(join(root, exec, "example-credential-provider"));
    chmodSync(join(root, exec, "ecr-credential-provider"), 0o644);
    const result = await findings(root, "--kubelet-version", "1.34");
    expect(result.broken.slice(0, 2)).toEqual([
      `✗ provider ecr-credential-provider: /${exec}/ecr-credential-provider is not executable: the kubelet will not start (fix: chmod 755 /${exec}/ecr-credential-provider)`,
      `✗ provider example-credential-provider: /${exec}/example-credential-provider does not exist: the kubelet will not start (fix: install example-credential-provider into /${exec})`,
    ]);
    expect(result.code).toBe(1);
  });

  it("a provider that does not answer --version", async () => {
    const root = node("aks");
    writeFileSync(
      join(root, "var/lib/kubelet/credential-provider/acr-credential-provider"),
      "#!/bin/sh\nexit 3\n",
      { mode: 0o755 },
    );
    expect((await findings(root, "--kubelet-version", "1.34")).broken).toEqual([
      "✗ provider acr-credential-provider: /var/lib/kubelet/credential-provider/acr-credential-provider does not answer --version (exit 3) (fix: run /var/lib/kubelet/credential-provider/acr-credential-provider --version by hand, and reinstall acr-credential-provider)",
    ]);
  });

  it("a provider whose answer the kubelet refuses", async () => {
    const root = node("kubeadm");
    // It logs to stdout, which belongs to the protocol.
    writeFileSync(
      join(
        root,
        "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/example-credential-provider",
      ),
      '#!/bin/sh\nif [ "$1" = --version ]; then echo "example 1.0"; exit 0; fi\ncat >/dev/null\necho "I1122 20:03:01.000000 4242 plugin.go:42] fetching credentials"\n',
      { mode: 0o755 },
    );
    const result = await findings(root, "--kubelet-version", "1.34");
    expect(result.broken).toEqual([
      expect.stringMatching(
        /^✗ lookup registry\.example\.com\/doctor-check: example-credential-provider failed: error reading GVK from response: .* \(fix: see what the plugin said: kubelet-credential-sim lookup --config \/etc\/kubernetes\/credential-providers --bin-dir \S+ --plugin-stderr-dir DIR registry\.example\.com\/doctor-check\)$/,
      ),
    ]);
  });

  it("an unknown kubelet version: a warning naming the flag", async () => {
    const result = await findings(node("gke"));
    expect(result.warnings).toEqual([
      "! kubelet: its version is unknown: checked as the newest, 1.37 (fix: give --kubelet-version MINOR)",
    ]);
    expect(result.code).toBe(0);
  });
});

describe("doctor: service account audiences, asked of the API server as the kubelet", {
  timeout: 30_000,
}, () => {
  const AUDIENCE = "api://AzureADTokenExchange";
  const NODE_USER = "system:node:aks-nodepool1-12345678-vmss000000";
  let api: TestApiServer;
  beforeAll(async () => {
    api = await startApiServer();
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.grants.length = 0;
    api.reviews.length = 0;
    api.tokens.clear();
  });

  /**
   * An AKS node in service account mode whose kubelet kubeconfig names its rotated client
   * certificate (certificate and key in one file, as the kubelet writes it) and the cluster's CA.
   */
  async function serviceAccountNode(user = NODE_USER, groups = ["system:nodes"]): Promise<string> {
    const root = node("aks");
    edit(root, "var/lib/kubelet/credential-provider-config.yaml", (text) =>
      text.replace(
        "    args:\n      - /etc/kubernetes/azure.json",
        `    args:\n      - /etc/kubernetes/azure.json\n    tokenAttributes:\n      serviceAccountTokenAudience: ${AUDIENCE}\n      requireServiceAccount: true\n      cacheType: ServiceAccount\n`,
      ),
    );
    const pair = await api.clientCertificate(user, groups);
    mkdirSync(join(root, "var/lib/kubelet/pki"), { recursive: true });
    writeFileSync(
      join(root, "var/lib/kubelet/pki/kubelet-client-current.pem"),
      `${pair.cert.trimEnd()}\n${pair.key}`,
      {
        mode: 0o600,
      },
    );
    mkdirSync(join(root, "etc/kubernetes/certs"), { recursive: true });
    writeFileSync(join(root, "etc/kubernetes/certs/ca.crt"), api.caPem);
    writeFileSync(
      join(root, "var/lib/kubelet/kubeconfig"),
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: localcluster",
        "  cluster:",
        "    certificate-authority: /etc/kubernetes/certs/ca.crt",
        `    server: ${api.url}`,
        "users:",
        "- name: client",
        "  user:",
        "    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem",
        "    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem",
        "contexts:",
        "- context:",
        "    cluster: localcluster",
        "    user: client",
        "  name: localclustercontext",
        "current-context: localclustercontext",
        "",
      ].join("\n"),
    );
    return root;
  }
  const IMAGE = ["--image", "myregistry.azurecr.io/app"];
  const audienceLines = (lines: string[]) => lines.filter((line) => line.includes(" service accounts: "));
  const grant = (extra: Partial<Grant> = {}): Grant => ({
    subject: "system:nodes",
    verbs: ["request-serviceaccounts-token-audience"],
    resources: [AUDIENCE],
    ...extra,
  });

  it("granted to the nodes for every service account: ok, asked with the kubelet's own certificate", async () => {
    api.grants.push(grant());
    const run = await doctor(await serviceAccountNode(), "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(run.lines)).toEqual([
      `✓ service accounts: ${NODE_USER} may request tokens for audience "${AUDIENCE}" for every service account`,
    ]);
    expect(run.code).toBe(0);
    // NodeRestriction's question (conformance/ checks it against the plugin's code).
    expect(api.reviews).toEqual([
      {
        username: NODE_USER,
        attributes: {
          namespace: "",
          verb: "request-serviceaccounts-token-audience",
          group: "",
          version: "v1",
          resource: AUDIENCE,
          name: "",
        },
      },
    ]);
  });

  it("tls-server-name: dials the server's address, checks the certificate for that name", async () => {
    api.grants.push(grant());
    const root = await serviceAccountNode();
    const port = new URL(api.url).port;
    edit(root, "var/lib/kubelet/kubeconfig", (text) =>
      text.replace(
        `    server: ${api.url}\n`,
        `    server: https://127.0.0.1:${port}\n    tls-server-name: localhost\n`,
      ),
    );
    const run = await doctor(root, "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(run.lines)).toEqual([
      `✓ service accounts: ${NODE_USER} may request tokens for audience "${AUDIENCE}" for every service account`,
    ]);
    edit(root, "var/lib/kubelet/kubeconfig", (text) =>
      text.replace("tls-server-name: localhost", "tls-server-name: other.test"),
    );
    const mismatch = await doctor(root, "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(mismatch.lines)).toEqual([
      expect.stringMatching(/^! service accounts: audiences not checked: .*does not match the host name/),
    ]);
  });

  it("not granted: a warning naming the RBAC rule that grants it", async () => {
    const run = await doctor(await serviceAccountNode(), "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(run.lines)).toEqual([
      `! service accounts: ${NODE_USER} may not request tokens for audience "${AUDIENCE}" for every service account: a pod gets one only if one of its volumes names the audience or a narrower rule grants its service account (fix: grant it: a ClusterRole with the rule {apiGroups: [""], resources: ["${AUDIENCE}"], verbs: [request-serviceaccounts-token-audience]}, bound to the group system:nodes; or check a pod's service account with --service-account NAMESPACE/NAME)`,
    ]);
    expect(run.code).toBe(0);
  });

  it("--service-account: broken when that account is not granted, ok when a RoleBinding names it", async () => {
    const root = await serviceAccountNode();
    api.grants.push(grant({ namespace: "builds", resourceNames: ["builder"] }));
    const denied = await doctor(
      root,
      "--kubelet-version",
      "1.34",
      ...IMAGE,
      "--service-account",
      "default/builder",
    );
    expect(audienceLines(denied.lines)).toEqual([
      `✗ service accounts: ${NODE_USER} may not request tokens for audience "${AUDIENCE}" for default/builder: the API server refuses the kubelet's token request, and the pull fails (fix: grant it: a Role in default with the rule {apiGroups: [""], resources: ["${AUDIENCE}"], verbs: [request-serviceaccounts-token-audience], resourceNames: ["builder"]}, bound to the group system:nodes)`,
    ]);
    expect(denied.code).toBe(1);
    const allowed = await doctor(
      root,
      "--kubelet-version",
      "1.34",
      ...IMAGE,
      "--service-account",
      "builds/builder",
    );
    expect(audienceLines(allowed.lines)).toEqual([
      `✓ service accounts: ${NODE_USER} may request tokens for audience "${AUDIENCE}" for builds/builder`,
    ]);
    expect(api.reviews.at(-1)?.attributes).toMatchObject({ namespace: "builds", name: "builder" });
    expect(allowed.code).toBe(0);
  });

  it("an exec plugin's token (as on EKS): run with KUBERNETES_EXEC_INFO, its token never printed", async () => {
    const root = await serviceAccountNode();
    const token = "k8s-aws-v1.c2VjcmV0LXRva2VuLWZvci10ZXN0cw";
    api.tokens.set(token, { username: NODE_USER, groups: ["system:nodes"] });
    api.grants.push(grant());
    const plugin = join(root, "usr/local/bin/get-token");
    mkdirSync(dirname(plugin), { recursive: true });
    writeFileSync(
      plugin,
      `#!/bin/sh\ncase "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 3 ;; esac\n[ "$CLUSTER" = c1 ] || exit 4\nprintf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}' "${token}"\n`,
      { mode: 0o755 },
    );
    edit(root, "var/lib/kubelet/kubeconfig", (text) =>
      text.replace(
        / {4}client-certificate: .*\n {4}client-key: .*\n/,
        `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${plugin}\n      args: [eks, get-token]\n      env:\n      - name: CLUSTER\n        value: c1\n`,
      ),
    );
    for (const output of ["text", "json"]) {
      const run = await doctor(root, "--kubelet-version", "1.34", ...IMAGE, "--output", output);
      expect(run.stdout).toContain(`may request tokens for audience`);
      expect(run.stdout + run.stderr).not.toContain(token);
    }
    // A token the API server does not take.
    api.tokens.clear();
    const refused = await doctor(root, "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(refused.lines)).toEqual([
      expect.stringMatching(
        /^! service accounts: audiences not checked: SelfSubjectReview \(localhost:\d+\) did not accept the kubeconfig's credentials \(HTTP 401\) \(fix: give a kubeconfig doctor can use with --kubeconfig\)$/,
      ),
    ]);
  });

  it("a kubeconfig that is not the node's: its answers, with a warning that they are not the kubelet's", async () => {
    api.grants.push(grant({ subject: "alice" }));
    const run = await doctor(
      await serviceAccountNode("alice", ["admins"]),
      "--kubelet-version",
      "1.34",
      ...IMAGE,
    );
    expect(audienceLines(run.lines)).toEqual([
      '! service accounts: the kubeconfig authenticates as "alice", not as a node (system:node:NAME in system:nodes): the answers below are for it, not the kubelet (fix: give the kubelet\'s own kubeconfig with --kubeconfig)',
      `✓ service accounts: alice may request tokens for audience "${AUDIENCE}" for every service account`,
    ]);
  });

  it("--kubeconfig given, a missing kubeconfig, and a bad --service-account", async () => {
    const root = await serviceAccountNode();
    api.grants.push(grant());
    const given = join(root, "var/lib/kubelet/kubeconfig");
    const moved = tmp.path(`kubeconfig-${++count}`);
    // Paths in a given kubeconfig are this machine's, not under --root.
    writeFileSync(
      moved,
      readFileSync(given, "utf8")
        .replaceAll(": /var/lib/kubelet/", `: ${root}/var/lib/kubelet/`)
        .replace(": /etc/kubernetes/certs/ca.crt", `: ${root}/etc/kubernetes/certs/ca.crt`),
    );
    rmSync(given);
    const missing = await doctor(root, "--kubelet-version", "1.34", ...IMAGE);
    expect(audienceLines(missing.lines)).toEqual([
      "! service accounts: audiences not checked: cannot read the kubeconfig /var/lib/kubelet/kubeconfig (ENOENT) (fix: give a kubeconfig doctor can use with --kubeconfig)",
    ]);
    const run = await doctor(root, "--kubelet-version", "1.34", ...IMAGE, "--kubeconfig", moved);
    expect(audienceLines(run.lines)).toEqual([
      `✓ service accounts: ${NODE_USER} may request tokens for audience "${AUDIENCE}" for every service account`,
    ]);
    const bad = await doctor(root, "--service-account", "Default/x");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /flag --service-account takes NAMESPACE\/NAME, such as default\/builder, not "Default\/x"/,
    );
  });
});
