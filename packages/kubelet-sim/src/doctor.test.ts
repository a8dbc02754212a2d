/**
 * `doctor` over the node layouts of testdata/nodes (EKS with nodeadm, AKS with AgentBaker, GKE on
 * COS, kubeadm): each healthy as laid out, then broken one silent failure at a time, each reported
 * on one line with its fix. The JSON report is checked against its schema. Run as a process.
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod/mini";
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
