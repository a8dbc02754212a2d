/**
 * `config set-provider` and `config remove-provider`, run as the node installer runs them: the CLI
 * as a process, on real files. The config is merged, never replaced: other providers, other fields
 * and (in YAML) comments stay byte for byte; a file the kubelet cannot read is left alone unless
 * --force; a result the kubelet would reject is never written; every write keeps a backup and is
 * atomic; --dry-run writes nothing.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseConfig } from "@kubelet-credential-provider/config";
import { afterAll, describe, expect, it } from "vitest";
import { provider, runSim, type SimRun, scratch, V1, V1BETA1 } from "../testdata/harness.ts";

const tmp = scratch("config");
afterAll(() => tmp.remove());

let dirs = 0;
/** A fresh directory for one test (its name may be odd: it is data, never evaluated). */
function dir(name = "case"): string {
  const path = join(tmp.dir, `${dirs++}-${name}`);
  mkdirSync(path, { recursive: true });
  return path;
}

const ECR = provider(
  "ecr-credential-provider",
  ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"],
  {
    defaultCacheDuration: "12h",
  },
);
// Values that YAML 1.1 would read as booleans or octal unless quoted: they must stay strings.
const GCP = provider("auth-provider-gcp", ["*.gcr.io", "*.pkg.dev"], {
  defaultCacheDuration: "1m",
  args: ["get-credentials", "--v=3"],
  env: { GOOGLE_FLAG: "on", OTHER: "yes", MODE: "0123" },
});
const ACR = provider("acr-credential-provider", ["*.azurecr.io"], {
  args: ["--azure-config", "/etc/kubernetes/azure.json"],
  tokenAttributes: {
    serviceAccountTokenAudience: "api://AzureADTokenExchange",
    cacheType: "ServiceAccount",
    requireServiceAccount: false,
    optionalServiceAccountAnnotationKeys: ["azure.workload.identity/client-id"],
  },
  env: { AZURE_ENVIRONMENT: "AzurePublicCloud" },
});

// A hand-written YAML config, Go's style (`-` under its key), as blocks so that tests can say
// exactly which text must remain.
const YAML_HEADER =
  "# Node credential providers: edited by hand and by the installer.\n" +
  "apiVersion: kubelet.config.k8s.io/v1   # the kubelet's config API\n" +
  "kind: CredentialProviderConfig\n" +
  "providers:\n";
const YAML_ACR =
  "# Azure, with workload identity\n" +
  "- name: acr-credential-provider\n" +
  "  matchImages:\n" +
  '  - "*.azurecr.io"\n' +
  "  defaultCacheDuration: 10m\n" +
  "  apiVersion: credentialprovider.kubelet.k8s.io/v1\n" +
  "  args: [--azure-config, /etc/kubernetes/azure.json]   # flow style, kept\n" +
  "  tokenAttributes:\n" +
  "    serviceAccountTokenAudience: api://AzureADTokenExchange\n" +
  "    cacheType: ServiceAccount\n" +
  "    requireServiceAccount: false\n" +
  "    optionalServiceAccountAnnotationKeys:\n" +
  "    - azure.workload.identity/client-id\n" +
  "  env:\n" +
  "  - name: AZURE_ENVIRONMENT\n" +
  "    value: 'AzurePublicCloud'\n";
const YAML_MIRROR =
  "# the registry mirror's own plugin\n" +
  "- name: mirror-login\n" +
  '  matchImages: ["mirror.internal:5000"]\n' +
  '  defaultCacheDuration: "0s"\n' +
  "  apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\n";
const YAML_TRAILER = "\n# Keep this trailing comment too.\n";
const YAML_CONFIG = YAML_HEADER + YAML_ACR + YAML_MIRROR + YAML_TRAILER;
const MIRROR = {
  name: "mirror-login",
  matchImages: ["mirror.internal:5000"],
  defaultCacheDuration: "0s",
  apiVersion: V1BETA1,
};

// A JSON config with its fields in an unusual order and 4-space indentation, both kept.
const JSON_CONFIG_DATA = {
  kind: "CredentialProviderConfig",
  apiVersion: "kubelet.config.k8s.io/v1",
  providers: [ACR],
};
const JSON_CONFIG = `${JSON.stringify(JSON_CONFIG_DATA, null, 4)}\n`;

function setProvider(config: string, entry: unknown, ...flags: string[]): Promise<SimRun> {
  return runSim([
    "config",
    "set-provider",
    "--config",
    config,
    "--provider-json",
    JSON.stringify(entry),
    ...flags,
  ]);
}

function removeProvider(config: string, name: string, ...flags: string[]): Promise<SimRun> {
  return runSim(["config", "remove-provider", "--config", config, "--name", name, ...flags]);
}

/** The providers of a config file as the kubelet decodes it (throws when it does not). */
async function providersIn(path: string): Promise<unknown[]> {
  return (await parseConfig(readFileSync(path, "utf8"), { file: path })).providers;
}

/** The file names in a directory, sorted. */
function ls(path: string): string[] {
  return readdirSync(path).sort();
}

/** A run that refused: exit 1, nothing on stdout, exactly one line on stderr, matching `pattern`. */
function expectRefusal(run: SimRun, pattern: RegExp): void {
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/^kubelet-credential-sim: [^\n]+\n$/);
  expect(run.stderr).toMatch(pattern);
  expect(run.code).toBe(1);
}

/** A run that succeeded with one line on stdout matching `pattern`, nothing on stderr. */
function expectOneLine(run: SimRun, pattern: RegExp): void {
  expect(run.stderr).toBe("");
  expect(run.stdout).toMatch(/^[^\n]+\n$/);
  expect(run.stdout).toMatch(pattern);
  expect(run.code).toBe(0);
}

const BACKUP = /\.bak-\d{8}T\d{6}Z(-\d+)?$/;

describe("config set-provider: JSON", () => {
  it("creates a missing .json file as JSON, mode 0644, with just the entry", async () => {
    const path = join(dir(), "config.json");
    expectOneLine(await setProvider(path, ECR), new RegExp(`^added ecr-credential-provider to ${path}\n$`));
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [ECR],
    });
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(ls(join(path, ".."))).toEqual(["config.json"]);
    expect((await runSim(["validate", path])).code).toBe(0);
  });

  it("adds a second provider and keeps the first, every other field, their order and the indentation", async () => {
    const path = join(dir(), "config.json");
    writeFileSync(path, JSON_CONFIG);
    expectOneLine(
      await setProvider(path, ECR),
      new RegExp(`^added ecr-credential-provider to ${path} \\(backup: ${path}\\.bak-\\d{8}T\\d{6}Z\\)\n$`),
    );
    expectOneLine(await setProvider(path, GCP), /^added auth-provider-gcp to /);
    expect(readFileSync(path, "utf8")).toBe(
      `${JSON.stringify({ ...JSON_CONFIG_DATA, providers: [ACR, ECR, GCP] }, null, 4)}\n`,
    );
    expect(await providersIn(path)).toEqual([ACR, ECR, GCP].map((entry) => expect.objectContaining(entry)));
  });

  it("replaces the entry of the same name where it is, keeping the others", async () => {
    const path = join(dir(), "config.json");
    writeFileSync(path, `${JSON.stringify({ ...JSON_CONFIG_DATA, providers: [ECR, ACR, GCP] }, null, 2)}\n`);
    const newAcr = {
      ...provider("acr-credential-provider", ["*.azurecr.io", "*.azurecr.cn"]),
      args: ["--v=2"],
    };
    expectOneLine(await setProvider(path, newAcr), /^replaced acr-credential-provider in /);
    expect(JSON.parse(readFileSync(path, "utf8")).providers).toEqual([ECR, newAcr, GCP]);
  });

  it("writes JSON into a .json file that held YAML (the issue's config.json)", async () => {
    const path = join(dir(), "config.json");
    writeFileSync(path, YAML_CONFIG);
    expectOneLine(
      await setProvider(path, ECR),
      /^added ecr-credential-provider to \S+ \(written as JSON, was YAML; backup: /,
    );
    const data = JSON.parse(readFileSync(path, "utf8"));
    expect(data.providers.map((entry: { name: string }) => entry.name)).toEqual([
      "acr-credential-provider",
      "mirror-login",
      "ecr-credential-provider",
    ]);
    expect(data.providers[1]).toEqual(MIRROR);
  });

  it("converts a .json file holding YAML even when the entry is already as given; a removal of nothing writes nothing", async () => {
    const base = dir();
    const path = join(base, "config.json");
    writeFileSync(path, YAML_CONFIG);
    expectOneLine(
      await removeProvider(path, "ecr-credential-provider"),
      /^unchanged: \S+ has no provider ecr-credential-provider\n$/,
    );
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);
    expectOneLine(
      await setProvider(path, MIRROR),
      /^converted \S+config\.json to JSON, mirror-login unchanged \(backup: \S+\)\n$/,
    );
    expect(JSON.parse(readFileSync(path, "utf8")).providers[1]).toEqual(MIRROR);
  });
});

describe("config set-provider: YAML", () => {
  it("adds a provider after the others, leaving every other line of the file as it was", async () => {
    const path = join(dir(), "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    expectOneLine(await setProvider(path, ECR), /^added ecr-credential-provider to /);
    const once = readFileSync(path, "utf8");
    expect(once.startsWith(YAML_HEADER + YAML_ACR + YAML_MIRROR)).toBe(true);
    expect(once.endsWith(YAML_TRAILER)).toBe(true);
    // Go's style, as the file: `-` under its key.
    expect(once).toContain(
      '\n- name: ecr-credential-provider\n  matchImages:\n  - "*.dkr.ecr.*.amazonaws.com"\n',
    );

    expectOneLine(await setProvider(path, GCP), /^added auth-provider-gcp to /);
    const twice = readFileSync(path, "utf8");
    expect(twice.startsWith(once.slice(0, -YAML_TRAILER.length))).toBe(true);
    expect(twice.endsWith(YAML_TRAILER)).toBe(true);
    const providers = await providersIn(path);
    expect(providers).toEqual([ACR, MIRROR, ECR, GCP].map((entry) => expect.objectContaining(entry)));
    // "on", "yes" and "0123" are still strings to the kubelet.
    expect(providers[3]).toMatchObject({ env: GCP.env });
    expect((await runSim(["validate", path])).stdout).toBe("valid: 4 providers from 1 file\n");
  });

  it("replaces an entry in place: the comment above it, the other entries and the trailer stay", async () => {
    const path = join(dir(), "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    const newAcr = provider("acr-credential-provider", ["*.azurecr.io", "*.azurecr.us"]);
    expectOneLine(await setProvider(path, newAcr), /^replaced acr-credential-provider in /);
    const text = readFileSync(path, "utf8");
    expect(
      text.startsWith(`${YAML_HEADER}# Azure, with workload identity\n- name: acr-credential-provider\n`),
    ).toBe(true);
    expect(text.endsWith(YAML_MIRROR + YAML_TRAILER)).toBe(true);
    expect(await providersIn(path)).toEqual([
      expect.objectContaining(newAcr),
      expect.objectContaining(MIRROR),
    ]);
  });

  it("keeps indented lists indented, and edits a flow-style list too", async () => {
    const indented = join(dir(), "indented.yaml");
    writeFileSync(
      indented,
      `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: mirror-login  # two spaces in\n    matchImages: ["mirror.internal:5000"]\n    defaultCacheDuration: "0s"\n    apiVersion: ${V1BETA1}\n`,
    );
    expectOneLine(await setProvider(indented, ECR), /^added /);
    expect(readFileSync(indented, "utf8")).toContain(
      '# two spaces in\n    matchImages: ["mirror.internal:5000"]\n    defaultCacheDuration: "0s"\n' +
        `    apiVersion: ${V1BETA1}\n  - name: ecr-credential-provider\n    matchImages:\n      - "*.dkr.ecr.*.amazonaws.com"\n`,
    );

    const flow = join(dir(), "flow.yaml");
    writeFileSync(
      flow,
      `# flow\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [${JSON.stringify(MIRROR)}]\n`,
    );
    expectOneLine(await setProvider(flow, ECR), /^added /);
    expect(readFileSync(flow, "utf8")).toMatch(/^# flow\n/);
    expect(await providersIn(flow)).toEqual([expect.objectContaining(MIRROR), expect.objectContaining(ECR)]);
  });

  it("creates a missing .yaml file, or one without an extension, as YAML", async () => {
    const base = dir();
    for (const name of ["config.yaml", "credential-provider-config"]) {
      const path = join(base, name);
      expectOneLine(await setProvider(path, GCP), /^added auth-provider-gcp to /);
      const text = readFileSync(path, "utf8");
      expect(text).toMatch(
        /^apiVersion: kubelet\.config\.k8s\.io\/v1\nkind: CredentialProviderConfig\nproviders:\n/,
      );
      expect(await providersIn(path)).toEqual([expect.objectContaining(GCP)]);
    }
  });

  it("takes an empty file as a new config, without --force (there is nothing in it to lose)", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, " \n");
    expectOneLine(
      await setProvider(path, ECR),
      /^added ecr-credential-provider to \S+ \(replacing a file the kubelet cannot read; backup: /,
    );
    expect(await providersIn(path)).toEqual([expect.objectContaining(ECR)]);
  });

  it("says `unchanged` and writes nothing when the entry is already as given", async () => {
    const path = join(dir(), "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    const before = statSync(path);
    // The same entry, its fields in another order.
    const { name, ...rest } = MIRROR;
    expectOneLine(
      await setProvider(path, { ...rest, name }),
      new RegExp(`^unchanged: mirror-login in ${path} is already as given\n$`),
    );
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);
    expect(statSync(path).ino).toBe(before.ino);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(ls(join(path, ".."))).toEqual(["config.yaml"]);
  });
});

describe("config set-provider: refusals", () => {
  const UNREADABLE: Record<string, string | Buffer> = {
    "broken YAML": "providers: [\n",
    "broken JSON": '{"kind": "CredentialProviderConfig",',
    "not a CredentialProviderConfig": "apiVersion: v1\nkind: Pod\n",
    "an unknown field": `${YAML_HEADER}${YAML_MIRROR}providerz: []\n`,
    "two YAML documents": `${YAML_HEADER}${YAML_MIRROR}---\n${YAML_HEADER}`,
    "not UTF-8": Buffer.from([0xff, 0xfe, 0x7b, 0x00]),
  };

  for (const [what, content] of Object.entries(UNREADABLE)) {
    it(`leaves a file with ${what} alone with one line and exit 1; --force backs it up and replaces it`, async () => {
      const base = dir();
      const path = join(base, "config.yaml");
      writeFileSync(path, content);
      const original = readFileSync(path);
      expectRefusal(
        await setProvider(path, ECR),
        /is not a config the kubelet can read and is left unchanged \(--force replaces it, keeping a backup\)\n$/,
      );
      expect(readFileSync(path)).toEqual(original);
      expect(ls(base)).toEqual(["config.yaml"]);

      expectOneLine(
        await setProvider(path, ECR, "--force"),
        /^added ecr-credential-provider to \S+ \(replacing a file the kubelet cannot read; backup: \S+\)\n$/,
      );
      const [config, backup, ...others] = ls(base);
      expect(others).toEqual([]);
      expect(config).toBe("config.yaml");
      expect(backup).toMatch(/^config\.yaml\.bak-\d{8}T\d{6}Z$/);
      expect(readFileSync(join(base, backup as string))).toEqual(original);
      expect(await providersIn(path)).toEqual([expect.objectContaining(ECR)]);
    });
  }

  it("refuses a result the kubelet would reject and writes nothing: a bad entry, or another entry already invalid", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    expectRefusal(
      await setProvider(path, { name: "x", matchImages: [], defaultCacheDuration: "1m", apiVersion: V1 }),
      /^kubelet-credential-sim: refusing to write \S+: the kubelet would reject the result: providers\[2\]\.matchImages: Required value: at least 1 item in matchImages is required\n$/,
    );
    expectRefusal(
      await setProvider(path, { ...ECR, cacheDuration: "1m" }),
      /refusing to write \S+: the kubelet could not read the result: .*unknown field "providers\[2\]\.cacheDuration"\n$/,
    );
    expectRefusal(
      await setProvider(path, { ...ECR, defaultCacheDuration: 60 }),
      /the kubelet could not read the result: .*cannot unmarshal number/,
    );
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);

    // An entry already invalid is not made worse silently: the whole result must be valid.
    const invalid = join(base, "invalid.json");
    writeFileSync(
      invalid,
      JSON.stringify({ ...JSON_CONFIG_DATA, providers: [{ ...MIRROR, defaultCacheDuration: "-1s" }] }),
    );
    expectRefusal(
      await setProvider(invalid, ECR),
      /the kubelet would reject the result: providers\[0\]\.defaultCacheDuration: Invalid value: "?-1s"?: defaultCacheDuration must be greater than or equal to 0\n$/,
    );
    expect(ls(base)).toEqual(["config.yaml", "invalid.json"]);
  });

  it("refuses a directory, a missing directory and a symlink to nothing", async () => {
    const base = dir();
    expectRefusal(await setProvider(base, ECR), /is a directory: give the one config file to change\n$/);
    expectRefusal(
      await setProvider(join(base, "nope", "config.yaml"), ECR),
      /cannot create \S+: the directory \S+nope does not exist\n$/,
    );
    symlinkSync(join(base, "missing.yaml"), join(base, "dangling.yaml"));
    expectRefusal(
      await setProvider(join(base, "dangling.yaml"), ECR),
      /dangling\.yaml is a symlink to nothing/,
    );
    expect(ls(base)).toEqual(["dangling.yaml"]);
  });

  it.each([
    [["config", "set-provider", "--provider-json", "{}"], "flag --config is required"],
    [["config", "set-provider", "--config", "x.yaml"], "flag --provider-json is required"],
    [
      ["config", "set-provider", "--config", "x.yaml", "--provider-json", "{"],
      "flag --provider-json is not JSON: ",
    ],
    [
      ["config", "set-provider", "--config", "x.yaml", "--provider-json", "[]"],
      "flag --provider-json takes a JSON object",
    ],
    [
      ["config", "set-provider", "--config", "x.yaml", "--provider-json", '{"name":""}'],
      'the entry needs a "name"',
    ],
    [["config", "remove-provider", "--config", "x.yaml"], "flag --name is required"],
    [["config", "frobnicate"], 'unknown command "config frobnicate"'],
    [["config", "--config", "x.yaml"], "config takes a command first: set-provider or remove-provider"],
    [["config"], "Usage: kubelet-credential-sim config COMMAND"],
  ])("%j is a usage mistake: exit 2", async (argv, message) => {
    const run = await runSim(argv);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe("");
    expect(run.code).toBe(2);
  });

  it("documents every flag in --help", async () => {
    const set = await runSim(["config", "set-provider", "--help"]);
    expect(set.code).toBe(0);
    for (const flag of ["--config FILE", "--provider-json JSON", "--force", "--backup-dir DIR", "--dry-run"])
      expect(set.stdout).toContain(`  ${flag} `);
    const remove = await runSim(["help", "config", "remove-provider"]);
    for (const flag of ["--config FILE", "--name NAME", "--allow-empty", "--backup-dir DIR", "--dry-run"])
      expect(remove.stdout).toContain(`  ${flag} `);
    expect((await runSim(["--help"])).stdout).toContain("  config set-provider  ");
  });
});

describe("config: backups and atomic writes", () => {
  it("keeps the previous file as FILE.bak-<UTC time>, never overwriting an earlier backup", async () => {
    const base = dir();
    const path = join(base, "config.json");
    writeFileSync(path, JSON_CONFIG);
    const started = new Date();
    expectOneLine(await setProvider(path, ECR), /\(backup: \S+\)\n$/);
    const afterFirst = readFileSync(path, "utf8");
    expectOneLine(await setProvider(path, GCP), /\(backup: \S+\)\n$/);
    const ended = new Date();
    const backups = ls(base).filter((name) => BACKUP.test(name));
    expect(backups).toHaveLength(2);
    const contents = backups.map((name) => readFileSync(join(base, name), "utf8")).sort();
    expect(contents).toEqual([JSON_CONFIG, afterFirst].sort());
    for (const name of backups) {
      const [, y, mo, d, h, mi, s] = /\.bak-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(
        name,
      ) as RegExpExecArray;
      const at = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
      expect(at).toBeGreaterThanOrEqual(Math.floor(started.getTime() / 1000) * 1000);
      expect(at).toBeLessThanOrEqual(ended.getTime());
    }
  });

  it("puts the backup in --backup-dir, making it (0700) when missing", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    const backups = join(base, "backups", "kcp");
    const run = await setProvider(path, ECR, "--backup-dir", backups);
    expectOneLine(run, new RegExp(`\\(backup: ${backups}/config\\.yaml\\.bak-\\d{8}T\\d{6}Z\\)\n$`));
    const [backup] = ls(backups);
    expect(readFileSync(join(backups, backup as string), "utf8")).toBe(YAML_CONFIG);
    expect(statSync(backups).mode & 0o777).toBe(0o700);
    expect(ls(base)).toEqual(["backups", "config.yaml"]);
  });

  it("replaces the file by rename: a new inode, the old one untouched, mode and owner kept, no temporary file left", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    chmodSync(path, 0o640);
    const root = process.getuid?.() === 0;
    if (root) chownSync(path, 1234, 5678);
    // A hard link sees the old inode: written in place, it would show the new text.
    linkSync(path, join(base, "old-inode"));
    const before = statSync(path);
    expectOneLine(await setProvider(path, ECR), /^added /);
    const after = statSync(path);
    expect(after.ino).not.toBe(before.ino);
    expect(readFileSync(join(base, "old-inode"), "utf8")).toBe(YAML_CONFIG);
    expect(after.mode & 0o7777).toBe(0o640);
    if (root) expect([after.uid, after.gid]).toEqual([1234, 5678]);
    expect(ls(base).filter((name) => name !== "old-inode" && !BACKUP.test(name))).toEqual(["config.yaml"]);
  });

  it("writes through a symlink to its target, and keeps the symlink", async () => {
    const base = dir();
    mkdirSync(join(base, "real"));
    writeFileSync(join(base, "real", "config.yaml"), YAML_CONFIG);
    symlinkSync("real/config.yaml", join(base, "link.yaml"));
    expectOneLine(await setProvider(join(base, "link.yaml"), ECR), /^added /);
    expect(await providersIn(join(base, "real", "config.yaml"))).toHaveLength(3);
    expect(statSync(join(base, "link.yaml"), { throwIfNoEntry: true }).isFile()).toBe(true);
    expect(
      readdirSync(base, { withFileTypes: true })
        .find((e) => e.name === "link.yaml")
        ?.isSymbolicLink(),
    ).toBe(true);
  });
});

describe("config --dry-run", () => {
  it("prints the unified diff and what it would do, and writes nothing", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    const before = statSync(path);
    const run = await setProvider(path, ECR, "--dry-run");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual([`--- ${path}`, `+++ ${path}`]);
    expect(lines.at(-2)).toBe(`would add ecr-credential-provider to ${path}`);
    expect(lines).toContain("+- name: ecr-credential-provider");
    expect(lines.filter((line) => line.startsWith("-") && !line.startsWith("---"))).toEqual([]);
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(ls(base)).toEqual(["config.yaml"]);

    // The diff is the one `diff -u` gives between the file and what would be written.
    const written = join(dir(), "config.yaml");
    writeFileSync(written, YAML_CONFIG);
    await setProvider(written, ECR);
    const gnu = spawnSync("diff", ["-u", path, written], { encoding: "utf8" });
    if (gnu.error === undefined) {
      expect(lines.slice(2, -2)).toEqual(gnu.stdout.split("\n").slice(2, -1));
    }
  });

  it("shows a new file against /dev/null, a removal, and a forced replacement, creating nothing", async () => {
    const base = dir();
    const fresh = await setProvider(join(base, "new.json"), ECR, "--dry-run");
    expect(fresh.stdout).toMatch(/^--- \/dev\/null\n\+\+\+ \S+new\.json\n@@ -0,0 \+1,15 @@\n\+\{\n/);
    expect(fresh.stdout).toMatch(/\nwould add ecr-credential-provider to \S+new\.json\n$/);

    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    const removal = await removeProvider(path, "mirror-login", "--dry-run");
    expect(removal.code).toBe(0);
    expect(removal.stdout).toContain("\n-- name: mirror-login\n");
    expect(removal.stdout).toMatch(/\nwould remove mirror-login from \S+\n$/);

    const broken = join(base, "broken.yaml");
    writeFileSync(broken, "providers: [\n");
    const forced = await setProvider(broken, ECR, "--dry-run", "--force");
    expect(forced.stdout).toContain("\n-providers: [\n");
    expect(forced.stdout).toMatch(
      /\nwould add ecr-credential-provider to \S+ \(replacing a file the kubelet cannot read\)\n$/,
    );
    expect(ls(base)).toEqual(["broken.yaml", "config.yaml"]);
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);
  });
});

describe("config remove-provider", () => {
  it("removes exactly the named YAML entry and the comment right above it; the rest stays byte for byte", async () => {
    const base = dir();
    const first = join(base, "first.yaml");
    writeFileSync(first, YAML_CONFIG);
    expectOneLine(
      await removeProvider(first, "acr-credential-provider"),
      /^removed acr-credential-provider from \S+ \(backup: /,
    );
    expect(readFileSync(first, "utf8")).toBe(YAML_HEADER + YAML_MIRROR + YAML_TRAILER);

    const last = join(base, "last.yaml");
    writeFileSync(last, YAML_CONFIG);
    expectOneLine(await removeProvider(last, "mirror-login"), /^removed mirror-login from /);
    expect(readFileSync(last, "utf8")).toBe(YAML_HEADER + YAML_ACR + YAML_TRAILER);
  });

  it("removes exactly the named JSON entry of three", async () => {
    const path = join(dir(), "config.json");
    writeFileSync(path, `${JSON.stringify({ ...JSON_CONFIG_DATA, providers: [ECR, ACR, GCP] }, null, 2)}\n`);
    expectOneLine(
      await removeProvider(path, "acr-credential-provider"),
      /^removed acr-credential-provider from /,
    );
    expect(readFileSync(path, "utf8")).toBe(
      `${JSON.stringify({ ...JSON_CONFIG_DATA, providers: [ECR, GCP] }, null, 2)}\n`,
    );
  });

  it("is `unchanged` (exit 0, nothing written) for a name that is not there, a missing file and an empty one", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, YAML_CONFIG);
    expectOneLine(
      await removeProvider(path, "ecr-credential-provider"),
      new RegExp(`^unchanged: ${path} has no provider ecr-credential-provider\n$`),
    );
    expectOneLine(
      await removeProvider(join(base, "none.yaml"), "x"),
      /^unchanged: \S+none\.yaml does not exist\n$/,
    );
    writeFileSync(join(base, "empty.yaml"), "\n");
    expectOneLine(
      await removeProvider(join(base, "empty.yaml"), "x"),
      /^unchanged: \S+empty\.yaml has no provider x\n$/,
    );
    expect(readFileSync(join(base, "empty.yaml"), "utf8")).toBe("\n");
    expect(readFileSync(path, "utf8")).toBe(YAML_CONFIG);
    expect(ls(base)).toEqual(["config.yaml", "empty.yaml"]);
  });

  it("refuses to remove the last provider (the kubelet needs one) unless --allow-empty, which writes [] and warns", async () => {
    const base = dir();
    const path = join(base, "config.json");
    writeFileSync(path, JSON_CONFIG);
    expectRefusal(
      await removeProvider(path, "acr-credential-provider"),
      /refusing to remove acr-credential-provider, the last provider of \S+: the kubelet does not start with no providers .* or pass --allow-empty/,
    );
    expect(readFileSync(path, "utf8")).toBe(JSON_CONFIG);

    const run = await removeProvider(path, "acr-credential-provider", "--allow-empty");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^removed acr-credential-provider from \S+ \(backup: \S+\)\n$/);
    expect(run.stderr).toMatch(
      /^kubelet-credential-sim: warning: \S+ has no providers left: the kubelet does not start with it; [^\n]+\n$/,
    );
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ ...JSON_CONFIG_DATA, providers: [] });
  });

  it("leaves a file the kubelet cannot read alone", async () => {
    const base = dir();
    const path = join(base, "config.yaml");
    writeFileSync(path, "providers: [\n");
    expectRefusal(await removeProvider(path, "x"), /is left unchanged/);
    expect(readFileSync(path, "utf8")).toBe("providers: [\n");
    expect(ls(base)).toEqual(["config.yaml"]);
  });
});

describe("config: paths are data", () => {
  it("takes spaces, quotes, $(...), globs and newlines in paths literally", async () => {
    const odd = dir(`we'ird "dir" $(touch PWNED) * ;x`);
    const nested = join(odd, "line\nbreak");
    mkdirSync(nested);
    const path = join(nested, "my config [1].yaml");
    expectOneLine(
      await setProvider(path, ECR),
      /^added ecr-credential-provider to .*line\\nbreak\/my config \[1\]\.yaml\n$/,
    );
    expectOneLine(
      await setProvider(path, GCP, "--backup-dir", join(odd, "back ups")),
      /\(backup: .*back ups\/my config \[1\]\.yaml\.bak-/,
    );
    expectOneLine(
      await removeProvider(path, "ecr-credential-provider", "--backup-dir", join(odd, "back ups")),
      /^removed /,
    );
    expect(await providersIn(path)).toEqual([expect.objectContaining(GCP)]);
    expect(ls(nested)).toEqual(["my config [1].yaml"]);
    expect(ls(join(odd, "back ups"))).toHaveLength(2);
    expect(existsSync(join(tmp.dir, "PWNED"))).toBe(false);
    expect(existsSync("PWNED")).toBe(false);
  });
});
