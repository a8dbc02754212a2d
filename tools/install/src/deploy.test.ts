/**
 * The manifests under deploy/: every object validates against the Kubernetes API schemas
 * (kubernetes-models' validators, generated from the official OpenAPI, plus a strict unknown-field
 * check through the same generated types), follows the project's rules (images pinned by digest,
 * resources, minimal securityContext, no token), carries install.sh byte for byte, and is safe to
 * run on every node: no hostPath wider than the kubelet's credential-provider bin dir and its
 * config (directory or file), no control-plane node unless opted in, pods that roll when a setting
 * changes. The container's command (a sh wrapper around install.sh) is run for real, under dash,
 * bash and busybox sh (the image's shell is dash), against a temporary directory laid out as the node's.
 */
import { execFile, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import ts from "typescript";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  CLOUDS,
  DEPLOY,
  generatedFiles,
  type K8sObject,
  kustomize,
  kustomizeHashSuffix,
  plainObjects,
  ROOT,
  readYamlDocuments,
  SCRIPT,
  SETTINGS,
  SETTINGS_ANNOTATION,
  sameObjects,
} from "./render-deploy.ts";
import { BINARIES, HOST_ARCH, place, sha256Of, which } from "./testing.ts";

vi.setConfig({ testTimeout: 60_000 });

const here = dirname(fileURLToPath(import.meta.url));
const script = readFileSync(SCRIPT, "utf8");

// ---- schema validation -------------------------------------------------------------------------

const MODELS: Record<string, { validate(obj: K8sObject): void; type: string; from: string }> = {
  "v1/Namespace": {
    validate: (o) => new Namespace(o as never).validate(),
    type: "INamespace",
    from: "kubernetes-models/v1/Namespace",
  },
  "v1/ConfigMap": {
    validate: (o) => new ConfigMap(o as never).validate(),
    type: "IConfigMap",
    from: "kubernetes-models/v1/ConfigMap",
  },
  "apps/v1/DaemonSet": {
    validate: (o) => new DaemonSet(o as never).validate(),
    type: "IDaemonSet",
    from: "kubernetes-models/apps/v1/DaemonSet",
  },
};

function modelOf(o: K8sObject) {
  const m = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!m) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  return m;
}

/**
 * Unknown fields, which the OpenAPI schemas allow (no additionalProperties: false) but the API
 * server's strict field validation rejects: each object is type-checked as an object literal of
 * its kubernetes-models type, whose excess property check names any field the API does not have.
 * Returns the errors of each object ("" when none).
 */
function unknownFieldErrors(objects: K8sObject[]): string[] {
  const file = join(here, "__deploy_manifests_check__.ts");
  const kinds = [...new Set(objects.map((o) => modelOf(o)))];
  const source = [
    ...kinds.map((m) => `import type { ${m.type} } from "${m.from}";`),
    ...objects.map((o, i) => `export const o${i}: ${modelOf(o).type} = ${JSON.stringify(o)};`),
  ].join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, readFile, fileExists } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile.call(host, name, lang, ...rest);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  const program = ts.createProgram([file], options, host);
  const errors = objects.map(() => "");
  const lineOffset = kinds.length;
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (d.file?.fileName !== file || d.start === undefined) throw new Error(`type check failed: ${msg}`);
    const line = d.file.getLineAndCharacterOfPosition(d.start).line - lineOffset;
    if (line < 0) throw new Error(`type check failed: ${msg}`);
    errors[line] = `${errors[line]}${msg}\n`;
  }
  return errors;
}

type Container = {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type Volume = {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string };
  emptyDir?: object;
};
type PodSpec = {
  automountServiceAccountToken?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
};

function podSpec(ds: K8sObject): PodSpec {
  return (ds as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

/**
 * An image reference with its registry spelled out and a sha256 digest (a tag may precede it, for
 * people; the runtime pulls by the digest alone).
 */
const PINNED_IMAGE =
  /^[a-z0-9]+(?:[.-][a-z0-9]+)*\.[a-z]+(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::\w[\w.-]{0,127})?@sha256:[0-9a-f]{64}$/;
function pinnedByDigest(image: string): boolean {
  return PINNED_IMAGE.test(image);
}

/** The project's rules, which the schema does not have. Returns the problems. */
function policyProblems(o: K8sObject): string[] {
  const problems: string[] = [];
  if (o.kind !== "Namespace" && o.metadata.namespace !== "kubelet-credential-providers") {
    problems.push(`${o.kind}/${o.metadata.name}: not in the namespace kubelet-credential-providers`);
  }
  if (o.kind !== "DaemonSet") return problems;
  const spec = podSpec(o);
  if (spec.automountServiceAccountToken !== false) problems.push("automountServiceAccountToken is not false");
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const at = `container ${c.name}`;
    if (!c.image) problems.push(`${at}: no image`);
    else if (!pinnedByDigest(c.image)) problems.push(`${at}: image ${c.image} is not pinned by digest`);
    if (!c.resources?.requests?.cpu || !c.resources.requests.memory)
      problems.push(`${at}: no resource requests`);
    if (!c.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) problems.push(`${at}: privileged`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: root file system is writable`);
    if (!sc.capabilities?.drop?.includes("ALL")) problems.push(`${at}: capabilities are not all dropped`);
  }
  return problems;
}

/** Validates one object with every check; throws with the reasons. */
function validate(o: K8sObject): void {
  modelOf(o).validate(o);
  const problems = policyProblems(o);
  const unknown = unknownFieldErrors([o])[0];
  if (unknown) problems.push(unknown.trim());
  if (problems.length > 0) throw new Error(problems.join("; "));
}

// ---- what deploy/ holds ------------------------------------------------------------------------

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(name) ? [p] : [];
    })
    .sort();
}

const allFiles = yamlFiles(DEPLOY);
const isKustomization = (f: string) => f.endsWith("kustomization.yaml");
const isPatch = (f: string) => relative(DEPLOY, f).startsWith("overlays/") && !isKustomization(f);
const manifestFiles = allFiles.filter((f) => !isKustomization(f) && !isPatch(f));

/** What the installer can be applied as: the base (self-managed nodes) and one overlay per cloud. */
const TARGETS = ["base", ...CLOUDS] as const;
type Target = (typeof TARGETS)[number];
const targetDir = (t: Target) => (t === "base" ? join(DEPLOY, "base") : join(DEPLOY, "overlays", t));
const CONTROL_PLANE = join(DEPLOY, "overlays/control-plane");

/** What each target applies as plain manifests (deploy/plain has the clouds'), and as kustomize renders it. */
const plain: Record<Target, K8sObject[]> = Object.fromEntries(
  TARGETS.map((t) => [t, plainObjects(targetDir(t))]),
) as Record<Target, K8sObject[]>;
const kustomized: Record<Target, K8sObject[]> = Object.fromEntries(
  TARGETS.map((t) => [t, kustomize(targetDir(t))]),
) as Record<Target, K8sObject[]>;

/** A target with the control-plane component added, as an operator's kustomization would. */
function withControlPlane(t: Target, { hashSuffix = true } = {}): K8sObject[] {
  const dir = join(tmpdir(), `virtual-kustomization-${t}`);
  const text = `resources:\n  - ${targetDir(t)}\ncomponents:\n  - ${CONTROL_PLANE}\n`;
  return kustomize(dir, new Map([[join(dir, "kustomization.yaml"), text]]), { hashSuffix });
}

function find(objects: K8sObject[], kind: string, name: string | RegExp): K8sObject {
  const o = objects.find(
    (x) =>
      x.kind === kind && (typeof name === "string" ? x.metadata.name === name : name.test(x.metadata.name)),
  );
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
}
const daemonSetOf = (objects: K8sObject[]) => find(objects, "DaemonSet", "credential-provider-installer");
const settingsOf = (objects: K8sObject[]) =>
  (
    find(objects, "ConfigMap", new RegExp(`^${SETTINGS}(-[a-z0-9]{10})?$`)) as unknown as {
      data: Record<string, string>;
    }
  ).data;

/** Every value under `key` anywhere in a parsed YAML document, with where it is. */
function collect(doc: unknown, key: string, at = ""): { at: string; value: unknown; parent: unknown }[] {
  if (Array.isArray(doc)) return doc.flatMap((x, i) => collect(x, key, `${at}[${i}]`));
  if (typeof doc !== "object" || doc === null) return [];
  return Object.entries(doc).flatMap(([k, v]) => [
    ...(k === key ? [{ at: `${at}.${k}`, value: v, parent: doc }] : []),
    ...collect(v, key, `${at}.${k}`),
  ]);
}

describe("deploy/ manifests", () => {
  it("has the layout: base, one overlay and one plain file per cloud, the control-plane component", () => {
    const rel = allFiles.map((f) => relative(DEPLOY, f));
    expect(rel).toContain("base/kustomization.yaml");
    expect(rel).toContain("overlays/control-plane/kustomization.yaml");
    for (const c of CLOUDS) {
      expect(rel).toContain(`overlays/${c}/kustomization.yaml`);
      expect(rel).toContain(`plain/${c}.yaml`);
    }
  });

  it.each(manifestFiles.map((f) => [relative(DEPLOY, f), f]))(
    "%s: every object validates against the Kubernetes schemas",
    (_, file) => {
      const objects = readYamlDocuments(file) as K8sObject[];
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) validate(o);
    },
  );

  it.each(TARGETS)("%s renders to valid objects (kustomize and plain), as deploy/plain has them", (t) => {
    for (const objects of [plain[t], kustomized[t], withControlPlane(t)]) {
      expect(objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, "")}`).sort()).toEqual(
        [
          "ConfigMap/installer-script",
          "ConfigMap/installer-settings",
          "DaemonSet/credential-provider-installer",
          "Namespace/kubelet-credential-providers",
        ],
      );
      for (const o of objects) validate(o);
    }
    if (t !== "base") {
      expect(normalize(readYamlDocuments(join(DEPLOY, "plain", `${t}.yaml`)))).toEqual(normalize(plain[t]));
    }
  });

  it("the generated files are up to date (node tools/install/src/render-deploy.ts)", () => {
    for (const { path, content } of generatedFiles()) {
      expect(sameObjects(path, content), `${relative(DEPLOY, path)} is out of date`).toBe(true);
    }
  });

  const kubectl = (() => {
    try {
      execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  const kubectlKustomize = (dir: string) =>
    readYamlDocumentsFromText(
      execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" }),
    ) as K8sObject[];
  it.skipIf(!kubectl).each(TARGETS)(
    `kubectl kustomize renders %s as render-deploy.ts does, hash suffix included${kubectl ? "" : " (skipped: no kubectl)"}`,
    (t) => {
      expect(normalize(kubectlKustomize(targetDir(t)))).toEqual(normalize(kustomized[t]));
      // With the component, through a kustomization on disk as an operator would write it.
      const dir = mkdtempSync(join(tmpdir(), "deploy-kustomization-"));
      try {
        writeFileSync(
          join(dir, "kustomization.yaml"),
          `resources:\n  - ${relative(dir, targetDir(t))}\ncomponents:\n  - ${relative(dir, CONTROL_PLANE)}\n`,
        );
        expect(normalize(kubectlKustomize(dir))).toEqual(normalize(withControlPlane(t)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(TARGETS)("%s: the ConfigMap carries install.sh byte for byte", (t) => {
    const cm = find(plain[t], "ConfigMap", "installer-script") as K8sObject & {
      data: Record<string, string>;
    };
    expect(cm.data["install.sh"]).toBe(script);
    const base = readYamlDocuments(join(DEPLOY, "base/installer-script.yaml"))[0] as {
      data: Record<string, string>;
    };
    expect(base.data["install.sh"]).toBe(script);
  });
});

function readYamlDocumentsFromText(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((x) => x != null);
}

/** Objects in a canonical order: by kind and name, and lists of named items by name (their order does not matter to Kubernetes). */
function normalize(objects: unknown[]): unknown[] {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(canon);
      if (items.every((x) => typeof x === "object" && x !== null && "name" in x && !Array.isArray(x))) {
        return [...items].sort((a, b) =>
          String((a as { name: unknown }).name).localeCompare(String((b as { name: unknown }).name)),
        );
      }
      return items;
    }
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, canon(x)]),
      );
    }
    return v;
  };
  const key = (o: unknown) => `${(o as K8sObject).kind}/${(o as K8sObject).metadata.name}`;
  return [...objects].sort((a, b) => key(a).localeCompare(key(b))).map(canon);
}

// ---- host paths: nothing wider than the kubelet's credential-provider paths --------------------

/**
 * The kubelet's --image-credential-provider-bin-dir and --image-credential-provider-config on
 * each kind of node (docs/install.md), and how the pod mounts the config: its directory when the
 * directory is there for credential providers only, else the file alone.
 */
const KUBELET: Record<Target, { bin: string; config: string; configMount: "dir" | "file" }> = {
  base: {
    bin: "/usr/local/bin/credential-providers",
    config: "/etc/kubernetes/credential-providers/config.yaml",
    configMount: "dir",
  },
  ecr: {
    bin: "/etc/eks/image-credential-provider",
    config: "/etc/eks/image-credential-provider/config.json",
    configMount: "dir",
  },
  acr: {
    bin: "/var/lib/kubelet/credential-provider",
    config: "/var/lib/kubelet/credential-provider-config.yaml",
    configMount: "file",
  },
  gcp: {
    bin: "/home/kubernetes/bin",
    config: "/etc/srv/kubernetes/cri_auth_config.yaml",
    configMount: "file",
  },
};

/** Host paths a hostPath must never be, nor be a parent of: the node's and the kubelet's own state. */
const SENSITIVE = [
  "/",
  "/dev",
  "/proc",
  "/sys",
  "/run",
  "/var/run",
  "/root",
  "/etc",
  "/etc/kubernetes",
  "/etc/kubernetes/pki",
  "/etc/kubernetes/manifests",
  "/etc/kubernetes/azure.json",
  "/etc/srv/kubernetes",
  "/etc/srv/kubernetes/pki",
  "/etc/eks",
  "/usr",
  "/usr/local",
  "/usr/local/bin",
  "/var",
  "/var/lib",
  "/var/lib/kubelet",
  "/var/lib/kubelet/pki",
  "/var/lib/kubelet/pods",
  "/home",
  "/home/kubernetes",
];

const DIR_TYPES = ["Directory", "DirectoryOrCreate"];

/** Why each hostPath is not allowed ([] when all are). */
function hostPathProblems(hostPaths: { at: string; path: unknown; type: unknown }[]): string[] {
  const allowedDirs = new Set(
    TARGETS.flatMap((t) => [
      KUBELET[t].bin,
      ...(KUBELET[t].configMount === "dir" ? [posix.dirname(KUBELET[t].config)] : []),
    ]),
  );
  const allowedFiles = new Set(
    TARGETS.filter((t) => KUBELET[t].configMount === "file").map((t) => KUBELET[t].config),
  );
  const problems: string[] = [];
  for (const { at, path, type } of hostPaths) {
    if (
      typeof path !== "string" ||
      posix.normalize(path) !== path ||
      !path.startsWith("/") ||
      (path !== "/" && path.endsWith("/"))
    ) {
      problems.push(`${at}: ${JSON.stringify(path)} is not a normalized absolute path`);
      continue;
    }
    const wider = SENSITIVE.find((s) => s === path || s.startsWith(path === "/" ? "/" : `${path}/`));
    if (wider) problems.push(`${at}: ${path} exposes ${wider}`);
    if (allowedDirs.has(path)) {
      if (!DIR_TYPES.includes(type as string))
        problems.push(`${at}: ${path} is a directory, but its type is ${type}`);
    } else if (allowedFiles.has(path)) {
      if (type !== "File") problems.push(`${at}: ${path} is a file, but its type is ${type}`);
    } else {
      problems.push(`${at}: ${path} is not a kubelet credential-provider bin dir or config`);
    }
  }
  return problems;
}

function hostPathsIn(doc: unknown, where: string) {
  return collect(doc, "hostPath").map(({ at, value }) => ({
    at: `${where}${at}`,
    path: (value as { path?: unknown })?.path,
    type: (value as { type?: unknown })?.type,
  }));
}

describe("host paths", () => {
  it("no hostPath in deploy/ (base, overlays, the component, plain) is wider than a kubelet credential-provider bin dir or config", () => {
    const found = allFiles.flatMap((f) =>
      readYamlDocuments(f).flatMap((doc, i) => hostPathsIn(doc, `${relative(DEPLOY, f)}#${i}`)),
    );
    // The files hold hostPaths at all (the walk finds them), and every one is allowed.
    expect(found.length).toBeGreaterThanOrEqual(10);
    expect(hostPathProblems(found)).toEqual([]);
  });

  it.each(TARGETS)(
    "%s mounts exactly the kubelet's bin dir and its config (directory or file), nothing else",
    (t) => {
      const k = KUBELET[t];
      for (const objects of [plain[t], kustomized[t], withControlPlane(t)]) {
        const volumes = podSpec(daemonSetOf(objects)).volumes ?? [];
        const host = volumes
          .filter((v) => v.hostPath)
          .map((v) => [v.name, v.hostPath?.path, v.hostPath?.type]);
        expect(host.sort()).toEqual(
          [
            ["kubelet-bin-dir", k.bin, expect.stringMatching(/^Directory(OrCreate)?$/)],
            k.configMount === "dir"
              ? ["kubelet-config", posix.dirname(k.config), expect.stringMatching(/^Directory(OrCreate)?$/)]
              : ["kubelet-config", k.config, "File"],
          ].sort(),
        );
        // The rest are the script (read-only) and scratch space.
        for (const v of volumes.filter((x) => !x.hostPath)) expect(v.configMap ?? v.emptyDir).toBeDefined();
      }
    },
  );

  it.each([
    ["/etc/kubernetes", /exposes \/etc\/kubernetes\b/],
    ["/var/lib/kubelet", /exposes \/var\/lib\/kubelet\b/],
    ["/etc/srv/kubernetes", /exposes \/etc\/srv\/kubernetes\b/],
    ["/", /exposes \//],
    ["/var/lib/kubelet/", /not a normalized absolute path/],
    ["/var/lib/kubelet/credential-provider/..", /not a normalized absolute path/],
    ["/etc/kubernetes/azure.json", /exposes \/etc\/kubernetes\/azure.json/],
    ["/opt/bin", /not a kubelet credential-provider bin dir or config/],
  ])("rejects a hostPath %s", (path, problem) => {
    const problems = hostPathProblems([{ at: "x", path, type: "Directory" }]);
    expect(problems.join("\n")).toMatch(problem);
  });

  it("rejects a config file mounted without type File, and a bin dir mounted as a file", () => {
    expect(hostPathProblems([{ at: "x", path: KUBELET.acr.config, type: "FileOrCreate" }])).toEqual([
      `x: ${KUBELET.acr.config} is a file, but its type is FileOrCreate`,
    ]);
    expect(hostPathProblems([{ at: "x", path: KUBELET.gcp.bin, type: "" }])).toEqual([
      `x: ${KUBELET.gcp.bin} is a directory, but its type is `,
    ]);
  });
});

// ---- images: pinned by digest ------------------------------------------------------------------

describe("images", () => {
  it("every image in deploy/ is pinned by digest", () => {
    const images = allFiles.flatMap((f) =>
      readYamlDocuments(f).flatMap((doc) =>
        collect(doc, "image").map(({ at, value }) => ({ at: `${relative(DEPLOY, f)}${at}`, image: value })),
      ),
    );
    expect(images.length).toBeGreaterThanOrEqual(8);
    expect(images.filter(({ image }) => typeof image !== "string" || !pinnedByDigest(image))).toEqual([]);
  });

  it.each([
    ["docker.io/library/alpine:3.21.3", false],
    ["alpine:3.21.3@sha256:a8560b36e8b8210634f77d9f7f9efd7ffa463e380b75e2e74aff4511df3ef88c", false],
    [
      "docker.io/library/alpine:3.21.3@sha256:a8560b36e8b8210634f77d9f7f9efd7ffa463e380b75e2e74aff4511df3ef88",
      false,
    ],
    [
      "docker.io/library/alpine:3.21.3@sha256:A8560B36E8B8210634F77D9F7F9EFD7FFA463E380B75E2E74AFF4511DF3EF88C",
      false,
    ],
    [
      "docker.io/library/alpine@sha512:a8560b36e8b8210634f77d9f7f9efd7ffa463e380b75e2e74aff4511df3ef88c",
      false,
    ],
    [
      "docker.io/library/alpine:3.21.3@sha256:a8560b36e8b8210634f77d9f7f9efd7ffa463e380b75e2e74aff4511df3ef88c",
      true,
    ],
    ["registry.k8s.io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a", true],
  ])("%s is pinned by digest: %s", (image, pinned) => {
    expect(pinnedByDigest(image)).toBe(pinned);
  });
});

// ---- the installer's image can run the binaries it runs ---------------------------------------

/**
 * The C library of each image deploy/ may use, by repository. install.sh runs kubelet-credential-sim
 * (the config merge) inside the install container, so that image's libc must be the one the
 * released binaries are linked against. An image not listed here fails the test until its libc is
 * looked up and added.
 */
const IMAGE_LIBC: Record<string, "glibc" | "musl" | "none"> = {
  "docker.io/library/buildpack-deps": "glibc", // Debian
  "docker.io/library/alpine": "musl",
  "registry.k8s.io/pause": "none", // one static binary, runs nothing of ours
};

/** The ELF program interpreter (PT_INTERP) of a 64-bit little-endian executable, or undefined. */
function elfInterpreter(file: string): string | undefined {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1)
    throw new Error(`${file}: not a 64-bit LE ELF`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const at = phoff + i * phentsize;
    if (elf.readUInt32LE(at) !== 3) continue;
    const offset = Number(elf.readBigUInt64LE(at + 8));
    const size = Number(elf.readBigUInt64LE(at + 32));
    return elf
      .subarray(offset, offset + size)
      .toString("latin1")
      .replace(/\0+$/, "");
  }
  return undefined;
}

const libcOfInterpreter = (interp: string | undefined) =>
  interp === undefined
    ? "none"
    : /\/ld-musl-/.test(interp)
      ? "musl"
      : /\/ld-linux-/.test(interp)
        ? "glibc"
        : interp;

describe("the install container's libc", () => {
  const released = join(ROOT, "dist", "release");
  const sims = [
    join(ROOT, "dist", "bin", "kubelet-credential-sim"),
    ...(existsSync(released)
      ? readdirSync(released)
          .filter((f) => f.startsWith("kubelet-credential-sim-linux-"))
          .map((f) => join(released, f))
      : []),
  ];

  it("every released kubelet-credential-sim is linked against glibc", () => {
    expect(sims.length).toBeGreaterThanOrEqual(1);
    expect(sims.map((f) => [relative(ROOT, f), libcOfInterpreter(elfInterpreter(f))])).toEqual(
      sims.map((f) => [relative(ROOT, f), "glibc"]),
    );
  });

  it.each(TARGETS)("%s: the install container's image has the libc kubelet-credential-sim needs", (t) => {
    for (const objects of [plain[t], kustomized[t]]) {
      const init = podSpec(daemonSetOf(objects)).initContainers?.find((c) => c.name === "install");
      const repository = String(init?.image).replace(/[:@].*$/, "");
      expect(IMAGE_LIBC[repository], `the libc of ${repository}`).toBe("glibc");
    }
  });

  it("reads the interpreter of an ELF executable, and tells glibc from musl", () => {
    expect(libcOfInterpreter(elfInterpreter(process.execPath))).toBe("glibc");
    expect(libcOfInterpreter("/lib/ld-musl-aarch64.so.1")).toBe("musl");
    expect(libcOfInterpreter("/lib64/ld-linux-x86-64.so.2")).toBe("glibc");
    expect(() => elfInterpreter(SCRIPT)).toThrow(/not a 64-bit LE ELF/);
  });
});

// ---- control-plane nodes only when opted in ----------------------------------------------------

type Toleration = { key?: string; operator?: string; value?: string; effect?: string };
type Taint = { key: string; value?: string; effect: string };
type NodeShape = { labels: Record<string, string>; taints: Taint[] };
type Requirement = { key: string; operator: string; values?: string[] };

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === "Exists";
  if (t.key !== taint.key) return false;
  return (t.operator ?? "Equal") === "Exists" || (t.value ?? "") === (taint.value ?? "");
}

/** Whether the scheduler would place the DaemonSet's pod on the node: taints, nodeSelector, required node affinity. */
function schedulable(ds: K8sObject, node: NodeShape): boolean {
  const spec = podSpec(ds) as PodSpec & {
    tolerations?: Toleration[];
    nodeSelector?: Record<string, string>;
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: {
          nodeSelectorTerms: { matchExpressions?: Requirement[] }[];
        };
      };
    };
  };
  const blocking = node.taints.filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
  if (!blocking.every((taint) => (spec.tolerations ?? []).some((t) => tolerates(t, taint)))) return false;
  if (!Object.entries(spec.nodeSelector ?? {}).every(([k, v]) => node.labels[k] === v)) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  const matches = (r: Requirement) => {
    const has = r.key in node.labels;
    const value = node.labels[r.key] as string;
    switch (r.operator) {
      case "In":
        return has && (r.values ?? []).includes(value);
      case "NotIn":
        return !has || !(r.values ?? []).includes(value);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        throw new Error(`operator ${r.operator} is not modelled`);
    }
  };
  return required.nodeSelectorTerms.some((term) => (term.matchExpressions ?? []).every(matches));
}

const linux = (arch: string) => ({ "kubernetes.io/os": "linux", "kubernetes.io/arch": arch });
const NODES: Record<string, NodeShape & { controlPlane: boolean }> = {
  "a worker (amd64)": { labels: linux("amd64"), taints: [], controlPlane: false },
  "a worker (arm64)": { labels: linux("arm64"), taints: [], controlPlane: false },
  "a kubeadm control plane (labelled and tainted)": {
    labels: { ...linux("amd64"), "node-role.kubernetes.io/control-plane": "" },
    taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
    controlPlane: true,
  },
  "a legacy master (labelled and tainted master)": {
    labels: { ...linux("amd64"), "node-role.kubernetes.io/master": "" },
    taints: [{ key: "node-role.kubernetes.io/master", effect: "NoSchedule" }],
    controlPlane: true,
  },
  "an untainted control plane (k3s, single-node clusters)": {
    labels: { ...linux("arm64"), "node-role.kubernetes.io/control-plane": "true" },
    taints: [],
    controlPlane: true,
  },
};
const CONTROL_PLANE_TAINTS: Taint[] = [
  { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
  { key: "node-role.kubernetes.io/master", effect: "NoSchedule" },
];

describe("control-plane nodes only when opted in", () => {
  describe.each(TARGETS)("%s", (t) => {
    it.each(Object.entries(NODES))("without the component: on %s only if it is a worker", (_, node) => {
      expect(schedulable(daemonSetOf(plain[t]), node)).toBe(!node.controlPlane);
      expect(schedulable(daemonSetOf(kustomized[t]), node)).toBe(!node.controlPlane);
    });
    it.each(Object.entries(NODES))("with overlays/control-plane: on %s", (_, node) => {
      expect(schedulable(daemonSetOf(withControlPlane(t)), node)).toBe(true);
    });
  });

  it("no toleration in deploy/ tolerates a control-plane taint, except in the opt-in component", () => {
    const found = allFiles.flatMap((f) =>
      readYamlDocuments(f).flatMap((doc) =>
        collect(doc, "tolerations").flatMap(({ value }) =>
          (value as Toleration[])
            .filter((tol) => CONTROL_PLANE_TAINTS.some((taint) => tolerates(tol, taint)))
            .map(() => relative(DEPLOY, f)),
        ),
      ),
    );
    expect([...new Set(found)]).toEqual(["overlays/control-plane/daemonset.yaml"]);
  });

  it("the checks catch a blanket toleration, and a control plane that is only labelled", () => {
    // The file scan above finds a blanket toleration: it tolerates the control-plane taints.
    for (const taint of CONTROL_PLANE_TAINTS) expect(tolerates({ operator: "Exists" }, taint)).toBe(true);
    const ds = structuredClone(daemonSetOf(plain.ecr));
    const spec = podSpec(ds) as PodSpec & { tolerations?: Toleration[]; affinity?: unknown };
    spec.tolerations = [{ operator: "Exists" }];
    // The base's affinity still keeps labelled control planes out...
    expect(schedulable(ds, NODES["a kubeadm control plane (labelled and tainted)"] as NodeShape)).toBe(false);
    // ...and without it, the blanket toleration lets the pod onto a control plane.
    delete spec.affinity;
    expect(schedulable(ds, NODES["a kubeadm control plane (labelled and tainted)"] as NodeShape)).toBe(true);
    // Without the exclusion, an untainted control plane gets the pod even with no toleration.
    spec.tolerations = [];
    expect(
      schedulable(ds, NODES["an untainted control plane (k3s, single-node clusters)"] as NodeShape),
    ).toBe(true);
  });
});

// ---- a change of the settings rolls the pods ---------------------------------------------------

const podAnnotations = (objects: K8sObject[]) =>
  (
    daemonSetOf(objects) as unknown as {
      spec: { template: { metadata: { annotations?: Record<string, string> } } };
    }
  ).spec.template.metadata.annotations ?? {};

/** `target` rendered with one literal of its kustomization.yaml's installer-settings generator edited. */
function withSetting(t: Target, literal: string, plainForm: boolean): K8sObject[] {
  const file = join(targetDir(t), "kustomization.yaml");
  const text = readFileSync(file, "utf8");
  const k = literal.slice(0, literal.indexOf("="));
  const edited = new RegExp(`^(\\s+- )${k}=.*$`, "m").test(text)
    ? text.replace(new RegExp(`^(\\s+- )${k}=.*$`, "m"), `$1${literal}`)
    : text.replace(/^(\s+)literals:\n/m, `$1literals:\n$1  - ${literal}\n`);
  expect(edited).not.toBe(text);
  const overrides = new Map([[file, edited]]);
  return plainForm ? plainObjects(targetDir(t), overrides) : kustomize(targetDir(t), overrides);
}

describe("a change of the settings rolls the pods", () => {
  describe.each(TARGETS)("%s", (t) => {
    it("plain: the pod template carries the settings' SHA-256, which changes with any setting, and only with them", () => {
      const sum = podAnnotations(plain[t])[SETTINGS_ANNOTATION] as string;
      expect(sum).toMatch(/^[0-9a-f]{64}$/);
      // Same settings, same checksum: a rendering is reproducible.
      expect(podAnnotations(plainObjects(targetDir(t)))[SETTINGS_ANNOTATION]).toBe(sum);
      const seen = new Set([sum]);
      for (const literal of [
        "VERSION=0.1.1",
        `SHA256=ecr=${"a".repeat(64)}`,
        "SOURCE=https://mirror.example/{tag}",
      ]) {
        const changed = podAnnotations(withSetting(t, literal, true))[SETTINGS_ANNOTATION] as string;
        expect(changed).toMatch(/^[0-9a-f]{64}$/);
        expect(seen.has(changed), literal).toBe(false);
        seen.add(changed);
      }
      // The plain ConfigMap keeps its name, so that `kubectl apply -f` leaves none behind.
      expect(find(plain[t], "ConfigMap", SETTINGS)).toBeDefined();
      // Anything else changed in the DaemonSet leaves the checksum alone: it is the settings'.
      expect(
        podAnnotations(
          plainObjects(
            targetDir(t),
            new Map([
              [
                join(DEPLOY, "base/daemonset.yaml"),
                readFileSync(join(DEPLOY, "base/daemonset.yaml"), "utf8").replace(
                  "terminationGracePeriodSeconds: 5",
                  "terminationGracePeriodSeconds: 6",
                ),
              ],
            ]),
          ),
        )[SETTINGS_ANNOTATION],
      ).toBe(sum);
    });

    it("kustomize: the settings ConfigMap is named after a hash of its content, and the DaemonSet reads that name", () => {
      const names = [kustomized[t], withSetting(t, "VERSION=0.1.1", false)].map((objects) => {
        const cm = find(objects, "ConfigMap", new RegExp(`^${SETTINGS}-[a-z0-9]{10}$`)) as K8sObject & {
          data: Record<string, string>;
        };
        expect(cm.metadata.name).toBe(`${SETTINGS}-${kustomizeHashSuffix(cm)}`);
        const refs = collect(podSpec(daemonSetOf(objects)), "configMapKeyRef").map(
          ({ value }) => (value as { name: string }).name,
        );
        expect(refs.length).toBeGreaterThanOrEqual(6);
        expect(new Set(refs)).toEqual(new Set([cm.metadata.name]));
        return cm.metadata.name;
      });
      expect(names[1]).not.toBe(names[0]);
    });
  });
});

// ---- the installer's command: settings to arguments, mounts, a real run ------------------------

const scratch = mkdtempSync(join(tmpdir(), "deploy-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The shells the wrapper runs under: the image's is dash (Debian); bash and busybox sh are there
 * for images an overlay may choose. busybox runs as sh through a link named sh, so that the
 * wrapper's "$shell" runs install.sh under it too.
 */
const SHELLS: { label: string; path?: string }[] = [
  { label: "dash", path: which("dash") },
  { label: "bash", path: which("bash") },
  {
    label: "busybox sh",
    path: (() => {
      const busybox = which("busybox");
      if (!busybox) return undefined;
      mkdirSync(join(scratch, "busybox"));
      symlinkSync(busybox, join(scratch, "busybox/sh"));
      return join(scratch, "busybox/sh");
    })(),
  },
];
const anyShell = SHELLS.find((s) => s.path)?.path;
const shellCases = SHELLS.map((s) => [s.path ? s.label : `${s.label} (skipped: not installed)`, s] as const);

type InitContainer = Container;
function installerOf(objects: K8sObject[]) {
  const ds = daemonSetOf(objects);
  const settings = settingsOf(objects);
  const spec = podSpec(ds);
  const init = spec.initContainers?.find((c) => c.name === "install") as InitContainer | undefined;
  if (!init) throw new Error("no init container named install");
  const env: Record<string, string> = {};
  for (const e of init.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) {
      expect(ref.name).toMatch(new RegExp(`^${SETTINGS}(-[a-z0-9]{10})?$`));
      expect(Object.keys(settings)).toContain(ref.key);
      env[e.name] = settings[ref.key] as string;
    } else {
      env[e.name] = e.value ?? "";
    }
  }
  const [sh, dashC, wrapper, name, ...rest] = init.command ?? [];
  expect([sh, dashC, name, rest, init.args]).toEqual(["/bin/sh", "-c", "installer", [], undefined]);
  const vars = Object.fromEntries(
    ["shell", "script", "bin_dir", "config"].map((v) => {
      const m = [...(wrapper as string).matchAll(new RegExp(`^${v}=(.*)$`, "gm"))];
      expect(m, `the wrapper sets ${v} once`).toHaveLength(1);
      return [v, (m[0] as RegExpMatchArray)[1] as string];
    }),
  ) as Record<"shell" | "script" | "bin_dir" | "config", string>;
  const mountOf = (path: string) => {
    const m = (init.volumeMounts ?? [])
      .filter((v) => path === v.mountPath || path.startsWith(`${v.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!m) throw new Error(`${path} is on no volume`);
    const volume = spec.volumes?.find((v) => v.name === m.name);
    if (!volume) throw new Error(`volume ${m.name} is not declared`);
    return { mount: m, volume };
  };
  return { spec, init, env, wrapper: wrapper as string, vars, mountOf, settings };
}

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** The wrapper with its container paths pointed elsewhere. */
function relocate(
  wrapper: string,
  to: Partial<Record<"shell" | "script" | "bin_dir" | "config", string>>,
): string {
  let out = wrapper;
  for (const [v, path] of Object.entries(to))
    out = out.replace(new RegExp(`^${v}=.*$`, "m"), `${v}=${shQuote(path)}`);
  return out;
}

function run(
  shell: string,
  wrapper: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) =>
    execFile(
      shell,
      ["-c", wrapper, "installer"],
      // HOME: bash run with a socket as stdin (node's pipes) reads ~/.bashrc, as if run by rshd.
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...env } },
      (error, stdout, stderr) => ok({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

describe.each(TARGETS)("%s: the installer's mounts", (t) => {
  const { init, env, vars, mountOf } = installerOf(plain[t]);

  it("runs install.sh from the script ConfigMap, read-only, with a writable TMPDIR", () => {
    expect(vars.shell).toBe("/bin/sh");
    const { mount, volume } = mountOf(vars.script);
    expect(volume.configMap?.name).toBe("installer-script");
    expect(posix.relative(mount.mountPath, vars.script)).toBe("install.sh");
    expect(mount.readOnly).toBe(true);
    expect(mountOf(env.TMPDIR as string).volume.emptyDir).toBeDefined();
    expect(init.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("installs into the kubelet's bin dir and writes the config the kubelet reads, on hostPath volumes", () => {
    const bin = mountOf(vars.bin_dir);
    expect(bin.mount.mountPath).toBe(vars.bin_dir);
    expect(bin.volume.hostPath?.path).toBe(KUBELET[t].bin);
    expect(bin.mount.readOnly).not.toBe(true);

    const config = mountOf(vars.config);
    expect(config.mount.mountPath).toBe(vars.config);
    expect(config.volume.name).toBe("kubelet-config");
    expect(config.mount.readOnly).not.toBe(true);
    // The file the kubelet reads is CONFIG_NAME in the mounted directory, or the mounted file.
    expect(env.CONFIG_NAME).toBe(posix.basename(KUBELET[t].config));
    expect(config.volume.hostPath?.path).toBe(
      KUBELET[t].configMount === "dir" ? posix.dirname(KUBELET[t].config) : KUBELET[t].config,
    );
  });

  it("chooses the target's provider and a release version from a source with {tag}", () => {
    expect(env.PROVIDERS).toBe(t === "base" ? "ecr" : t);
    expect(env.VERSION).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(env.SOURCE).toMatch(/^https:\/\/.*\{tag\}/);
    expect(env.SHA256).toBe("");
  });
});

describe("the installer's command", () => {
  const { wrapper, env } = installerOf(plain.ecr);
  const shellcheck = which("shellcheck");

  it.skipIf(!shellcheck && process.env.CI !== "true")(
    `is shellcheck clean${shellcheck ? "" : " (skipped: shellcheck is not installed; apt-get install shellcheck)"}`,
    () => {
      if (!shellcheck) throw new Error("shellcheck is required when CI=true");
      const file = join(scratch, "wrapper.sh");
      writeFileSync(file, wrapper);
      const r = (() => {
        try {
          return {
            code: 0,
            out: execFileSync(shellcheck, ["-s", "sh", "-S", "style", file], { encoding: "utf8" }),
          };
        } catch (e) {
          return { code: 1, out: String((e as { stdout?: string }).stdout) };
        }
      })();
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    },
  );

  /** A stand-in for install.sh that records its arguments, NUL-separated. */
  const recorder = join(scratch, "record-args.sh");
  writeFileSync(recorder, `printf '%s\\0' "$@" >"$ARGV_OUT"\n`);

  async function argvOf(shell: string, settings: Record<string, string>) {
    const dir = mkdtempSync(join(scratch, "argv-"));
    mkdirSync(join(dir, "config"));
    const out = join(dir, "argv");
    const r = await run(
      shell,
      relocate(wrapper, { shell, script: recorder, bin_dir: join(dir, "bin"), config: join(dir, "config") }),
      {
        ...env,
        TMPDIR: dir,
        ...settings,
        ARGV_OUT: out,
      },
    );
    const argv = existsSync(out) ? readFileSync(out, "utf8").split("\0").slice(0, -1) : undefined;
    return { ...r, argv, dir };
  }

  describe.each(shellCases)("under %s", (_, { path: shell }) => {
    it.skipIf(!shell)("passes each setting as one argument to install.sh, and nothing else", async () => {
      const { code, argv, dir } = await argvOf(shell as string, {});
      expect(code).toBe(0);
      expect(argv).toEqual([
        "--provider",
        "ecr",
        "--version",
        env.VERSION,
        "--source",
        env.SOURCE,
        "--azure-config",
        env.AZURE_CONFIG,
        "--bin-dir",
        join(dir, "bin"),
        "--print-config",
        "--config",
        join(dir, "config", env.CONFIG_NAME as string),
      ]);
    });

    it.skipIf(!shell)("hostile settings stay data: never split, globbed or run", async () => {
      const pwned = join(scratch, `PWNED-${Math.random().toString(36).slice(2)}`);
      const hostile = {
        PROVIDERS: `ecr $(touch ${pwned}) * --allow-http`,
        VERSION: `1.0.0;touch ${pwned}`,
        SOURCE: `https://x/\`touch ${pwned}\`/{tag} ${scratch}/*`,
        AZURE_CONFIG: `/etc/kubernetes/azure.json\n--allow-http`,
        CONFIG_NAME: "config name with spaces*.yaml",
      };
      const { code, argv, dir } = await argvOf(shell as string, hostile);
      expect(code).toBe(0);
      expect(existsSync(pwned)).toBe(false);
      expect(argv).toEqual([
        "--provider",
        hostile.PROVIDERS,
        "--version",
        hostile.VERSION,
        "--source",
        hostile.SOURCE,
        "--azure-config",
        hostile.AZURE_CONFIG,
        "--bin-dir",
        join(dir, "bin"),
        "--print-config",
        "--config",
        join(dir, "config", hostile.CONFIG_NAME),
      ]);
    });

    it.skipIf(!shell)(
      "turns SHA256 pins into one --sha256 each (spaces, commas, newlines between them)",
      async () => {
        const [a, b, c] = ["ab", "cd", "EF"].map((x) => x.repeat(32));
        const { code, argv } = await argvOf(shell as string, {
          SHA256: ` ecr=${a},acr=${b}\n\tauth-provider-gcp=${c} , `,
        });
        expect(code).toBe(0);
        const pins = (argv ?? []).flatMap((x, i, all) => (x === "--sha256" ? [all[i + 1]] : []));
        expect(pins).toEqual([`ecr=${a}`, `acr=${b}`, `auth-provider-gcp=${c}`]);
        const bare = await argvOf(shell as string, { SHA256: a as string });
        expect(bare.argv?.slice(-4, -2)).toEqual(["--sha256", a]);
      },
    );

    it
      .skipIf(!shell)
      .each([
        ["--allow-http"],
        ["ecr=abc"],
        [`ecr=${"a".repeat(63)}`],
        [`ecr=${"a".repeat(65)}`],
        [`ecr=${"g".repeat(64)}`],
        [`=${"a".repeat(64)}`],
        [`ECR=${"a".repeat(64)}`],
        [`ecr=${"a".repeat(64)};touch`],
        [`$(touch x)=${"a".repeat(64)}`],
      ])("refuses the SHA256 pin %j with one line, before install.sh runs", async (pin) => {
      const { code, stderr, argv } = await argvOf(shell as string, {
        SHA256: `ecr=${"b".repeat(64)} ${pin}`,
      });
      expect(code).toBe(1);
      expect(argv).toBeUndefined();
      expect(stderr.trim().split("\n"), stderr).toHaveLength(1);
      expect(stderr).toContain("installer: error: installer-settings SHA256:");
    });

    it
      .skipIf(!shell)
      .each([[""], ["."], [".."], ["../bin/ecr-credential-provider"], ["sub/config.yaml"], ["/etc/passwd"]])(
      "refuses CONFIG_NAME %j (it must not lead out of the config's directory)",
      async (name) => {
        const { code, stderr, argv } = await argvOf(shell as string, { CONFIG_NAME: name });
        expect(code).toBe(1);
        expect(argv).toBeUndefined();
        expect(stderr.trim().split("\n"), stderr).toHaveLength(1);
        expect(stderr).toContain("installer: error: installer-settings CONFIG_NAME must be a file name");
      },
    );
  });

  it("never offers --allow-http: no target's command or arguments hold it", () => {
    for (const t of TARGETS) {
      const { wrapper: w, init } = installerOf(plain[t]);
      expect(w).not.toContain("allow-http");
      expect(init.args).toBeUndefined();
    }
  });
});

// ---- a real run: the wrapper and install.sh against a node laid out in a temp dir ---------------

/**
 * The real simulator, which every release carries and install.sh runs to merge the config: from
 * dist/bin (`npx -y pnpm@12.21.0 build` at the repo root).
 */
const SIM = join(here, "../../../dist/bin/kubelet-credential-sim");

/**
 * Release assets for every provider at <root>/assets/<tag>, as a mirror would serve them: a stand-in
 * for the provider, the real kubelet-credential-sim, and SHA256SUMS.
 */
function layOutAssets(root: string, version: string): Record<string, string> {
  if (!existsSync(SIM))
    throw new Error(`${SIM} is missing: run \`npx -y pnpm@12.21.0 build\` at the repo root first`);
  const contents: Record<string, string> = {};
  const simAsset = `kubelet-credential-sim-linux-${HOST_ARCH}`;
  const simSum = sha256Of(readFileSync(SIM));
  for (const [p, binary] of Object.entries(BINARIES)) {
    const dir = join(root, "assets", `%40kubelet-credential-provider%2F${p}%40${version}`);
    mkdirSync(dir, { recursive: true });
    const content = `#!/bin/sh\n# ${binary} ${version}, a stand-in\n`;
    writeFileSync(join(dir, `${binary}-linux-${HOST_ARCH}`), content);
    place(SIM, join(dir, simAsset));
    writeFileSync(
      join(dir, "SHA256SUMS"),
      `${sha256Of(content)}  ${binary}-linux-${HOST_ARCH}\n${simSum}  ${simAsset}\n`,
    );
    contents[p] = content;
  }
  return contents;
}

/** The node: the bin dir, and the config's directory or (file mounts) an existing config file. */
function layOutNode(t: Target, root: string) {
  const node = { bin: join(root, "host/bin"), config: join(root, "host/config"), tmp: join(root, "tmp") };
  mkdirSync(node.bin, { recursive: true });
  mkdirSync(node.tmp);
  const previous =
    "# the cloud's own config\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n";
  if (KUBELET[t].configMount === "dir") mkdirSync(node.config);
  else writeFileSync(node.config, previous);
  // A mounted file can only be written in place: the node's file keeps its inode.
  return { ...node, previous, inode: statSync(node.config).ino };
}

describe.each(TARGETS)("%s: a real run of the container's command", (t) => {
  const { wrapper, env } = installerOf(plain[t]);
  const provider = env.PROVIDERS as string;
  const binary = BINARIES[provider as keyof typeof BINARIES];

  async function install(shell: string, root: string, settings: Record<string, string> = {}) {
    const node = layOutNode(t, root);
    const contents = layOutAssets(root, env.VERSION as string);
    const r = await run(
      shell,
      relocate(wrapper, { shell, script: SCRIPT, bin_dir: node.bin, config: node.config }),
      {
        ...env,
        SOURCE: (env.SOURCE as string).replace(/^https:\/\/.*?\{tag\}/, `${root}/assets/{tag}`),
        TMPDIR: node.tmp,
        ...settings,
      },
    );
    return { ...r, node, contents };
  }

  describe.each(shellCases)("under %s", (_, { path: shell }) => {
    it.skipIf(!shell)(
      "installs the provider into the bin dir and writes the kubelet's config; a second run changes nothing",
      async () => {
        const root = mkdtempSync(join(scratch, `${t}-`));
        const { code, stderr, stdout, node, contents } = await install(shell as string, root);
        expect(stderr).not.toMatch(/error/);
        expect(code).toBe(0);
        expect(readFileSync(join(node.bin, binary), "utf8")).toBe(contents[provider]);
        // --print-config: YAML, or JSON for a .json config (EKS's config.json).
        expect(stdout).toMatch(new RegExp(`"?name"?: "?${binary}"?`));
        const configFile =
          KUBELET[t].configMount === "dir" ? join(node.config, env.CONFIG_NAME as string) : node.config;
        const config = readFileSync(configFile, "utf8");
        expect(config).toContain("CredentialProviderConfig");
        expect(config).toContain(binary);
        // Nothing is left in the scratch space.
        expect(readdirSync(node.tmp)).toEqual([]);
        const backups = () => readdirSync(node.bin).filter((f) => f.includes(".bak-"));
        if (KUBELET[t].configMount === "file") {
          // Written in place (a rename cannot replace a mounted file), after a backup into the bin dir.
          expect(statSync(node.config).ino).toBe(node.inode);
          expect(backups()).toHaveLength(1);
          expect(backups()[0]).toMatch(new RegExp(`^${env.CONFIG_NAME}\\.bak-\\d{8}T\\d{6}Z$`));
          expect(readFileSync(join(node.bin, backups()[0] as string), "utf8")).toBe(node.previous);
          expect(stderr).toContain("installer: the previous config is kept in the bin dir");
        }
        const inode = statSync(configFile).ino;
        const again = await run(
          shell as string,
          relocate(wrapper, {
            shell: shell as string,
            script: SCRIPT,
            bin_dir: node.bin,
            config: node.config,
          }),
          {
            ...env,
            SOURCE: (env.SOURCE as string).replace(/^https:\/\/.*?\{tag\}/, `${root}/assets/{tag}`),
            TMPDIR: node.tmp,
          },
        );
        expect(again.stderr).not.toMatch(/error/);
        expect(again.code).toBe(0);
        expect(readFileSync(configFile, "utf8")).toBe(config);
        if (KUBELET[t].configMount === "file") {
          expect(statSync(configFile).ino).toBe(inode);
          expect(backups()).toHaveLength(1);
          expect(again.stderr).toContain("installer: the node's config file is unchanged");
        }
      },
    );

    it.skipIf(!shell)("a failed install leaves the mounted config as it was", async () => {
      const root = mkdtempSync(join(scratch, `${t}-fail-`));
      const { code, stderr, node } = await install(shell as string, root, { VERSION: "9.9.9" });
      expect(code).not.toBe(0);
      expect(stderr.trim().split("\n").at(-1)).toMatch(/error/);
      if (KUBELET[t].configMount === "file") expect(readFileSync(node.config, "utf8")).toBe(node.previous);
      else expect(readdirSync(node.config)).toEqual([]);
      expect(readdirSync(node.bin)).toEqual([]);
      expect(readdirSync(node.tmp)).toEqual([]);
    });
  });

  // Needs install.sh's --sha256 (issue 12): the DaemonSet only passes the pins on.
  it.skipIf(!anyShell)(
    "a SHA256 pin reaches install.sh: a matching pin installs, the same run with another pin is refused and changes nothing",
    async () => {
      const shell = anyShell as string;
      const good = mkdtempSync(join(scratch, `${t}-pin-`));
      const version = env.VERSION as string;
      const want = sha256Of(`#!/bin/sh\n# ${binary} ${version}, a stand-in\n`);
      const ok = await install(shell, good, { SHA256: `${provider}=${want}` });
      expect(ok.stderr).not.toMatch(/error/);
      expect(ok.code).toBe(0);
      expect(readFileSync(join(ok.node.bin, binary), "utf8")).toBe(ok.contents[provider]);

      const bad = mkdtempSync(join(scratch, `${t}-pin-bad-`));
      const refused = await install(shell, bad, { SHA256: `${provider}=${sha256Of("something else")}` });
      expect(refused.code).not.toBe(0);
      expect(readdirSync(refused.node.bin)).toEqual([]);
      if (KUBELET[t].configMount === "file")
        expect(readFileSync(refused.node.config, "utf8")).toBe(refused.node.previous);
      else expect(readdirSync(refused.node.config)).toEqual([]);
    },
  );
});

// ---- the validation can fail -------------------------------------------------------------------

describe("the validation rejects broken manifests", () => {
  const good = () => structuredClone(daemonSetOf(plain.ecr));

  it("accepts the real DaemonSet", () => {
    expect(() => validate(good())).not.toThrow();
  });

  it("rejects a container without an image", () => {
    const ds = good();
    delete podSpec(ds).initContainers?.[0]?.image;
    expect(() => validate(ds)).toThrow(/container install: no image/);
  });

  it("rejects a field of the wrong type (schema)", () => {
    const ds = good();
    (podSpec(ds).containers[0] as unknown as { image: number }).image = 5;
    expect(() => modelOf(ds).validate(ds)).toThrow(/image must be string/);
  });

  it("rejects a missing required field (schema)", () => {
    const ds = good();
    delete (podSpec(ds).containers[0] as Partial<Container>).name;
    expect(() => modelOf(ds).validate(ds)).toThrow(/containers\/0 must have required property '?name'?/);
  });

  it("rejects an unknown field, at any depth", () => {
    const ds = good();
    (podSpec(ds).initContainers?.[0] as unknown as Record<string, unknown>).imagePullPolicyy = "Always";
    const cm = structuredClone(find(plain.ecr, "ConfigMap", SETTINGS)) as K8sObject;
    (cm.metadata as Record<string, unknown>).lables = { a: "b" };
    const [dsErrors, cmErrors, fine] = unknownFieldErrors([ds, cm, good()]);
    expect(dsErrors).toMatch(/imagePullPolicyy/);
    expect(cmErrors).toMatch(/lables/);
    expect(fine).toBe("");
    expect(() => validate(ds)).toThrow(/imagePullPolicyy/);
  });

  it("rejects a kind it has no schema for", () => {
    expect(() => validate({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } })).toThrow(/no schema/);
  });

  it("rejects an image pinned by tag only and a writable root file system", () => {
    const ds = good();
    const c = podSpec(ds).containers[0] as Container;
    c.image = "registry.k8s.io/pause:3.10";
    (c.securityContext as Record<string, unknown>).readOnlyRootFilesystem = false;
    expect(() => validate(ds)).toThrow(/not pinned by digest.*root file system is writable/);
  });
});
