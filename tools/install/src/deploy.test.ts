/**
 * The manifests under deploy/: every object validates against the Kubernetes API schemas
 * (kubernetes-models' validators, generated from the official OpenAPI, plus a strict unknown-field
 * check through the same generated types), follows the project's rules (pinned images, resources,
 * minimal securityContext, no token), carries install.sh byte for byte, and runs the installer
 * with arguments that line up with its mounts.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import ts from "typescript";
import { describe, expect, it, vi } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  CLOUDS,
  type Cloud,
  DEPLOY,
  generatedFiles,
  type K8sObject,
  kustomize,
  readYamlDocuments,
  SCRIPT,
  sameObjects,
} from "./render-deploy.ts";

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
    else if (!/^[\w./-]+:[\w.-]+$/.test(c.image) || c.image.endsWith(":latest")) {
      problems.push(`${at}: image ${c.image} is not pinned to a tag`);
    }
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

const rendered: Record<Cloud, K8sObject[]> = Object.fromEntries(
  CLOUDS.map((c) => [c, kustomize(join(DEPLOY, "overlays", c))]),
) as Record<Cloud, K8sObject[]>;

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
}

describe("deploy/ manifests", () => {
  it("has the layout: base, one overlay and one plain file per cloud", () => {
    const rel = allFiles.map((f) => relative(DEPLOY, f));
    expect(rel).toContain("base/kustomization.yaml");
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

  it.each(CLOUDS)("overlay %s renders to valid objects, as deploy/plain has them", (cloud) => {
    const objects = rendered[cloud];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "ConfigMap/installer-script",
      "ConfigMap/installer-settings",
      "DaemonSet/credential-provider-installer",
      "Namespace/kubelet-credential-providers",
    ]);
    for (const o of objects) validate(o);
    expect(normalize(readYamlDocuments(join(DEPLOY, "plain", `${cloud}.yaml`)))).toEqual(normalize(objects));
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
  it.skipIf(!kubectl).each(CLOUDS)(
    `kubectl kustomize deploy/overlays/%s renders the same objects${kubectl ? "" : " (skipped: no kubectl)"}`,
    (cloud) => {
      const out = execFileSync("kubectl", ["kustomize", join(DEPLOY, "overlays", cloud)], {
        encoding: "utf8",
      });
      const docs = readYamlDocumentsFromText(out) as K8sObject[];
      expect(normalize(docs)).toEqual(normalize(rendered[cloud]));
    },
  );

  it.each(CLOUDS.map((c) => [c]))("%s: the ConfigMap carries install.sh byte for byte", (cloud) => {
    const cm = find(rendered[cloud], "ConfigMap", "installer-script") as K8sObject & {
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

// ---- the installer's arguments line up with the mounts ---------------------------------------

const HOST_PATHS: Record<Cloud, { bin: string; configDir: string; configName: string }> = {
  ecr: {
    bin: "/etc/eks/image-credential-provider",
    configDir: "/etc/eks/image-credential-provider",
    configName: "config.json",
  },
  acr: {
    bin: "/var/lib/kubelet/credential-provider",
    configDir: "/var/lib/kubelet",
    configName: "credential-provider-config.yaml",
  },
  gcp: { bin: "/home/kubernetes/bin", configDir: "/etc/srv/kubernetes", configName: "cri_auth_config.yaml" },
};

function installerOf(objects: K8sObject[]) {
  const ds = find(objects, "DaemonSet", "credential-provider-installer");
  const settings = (
    find(objects, "ConfigMap", "installer-settings") as unknown as { data: Record<string, string> }
  ).data;
  const spec = podSpec(ds);
  const init = spec.initContainers?.find((c) => c.name === "install");
  if (!init) throw new Error("no init container named install");
  const env = new Map<string, string>();
  for (const e of init.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) {
      expect(ref.name).toBe("installer-settings");
      expect(Object.keys(settings)).toContain(ref.key);
      env.set(e.name, settings[ref.key] as string);
    } else {
      env.set(e.name, e.value ?? "");
    }
  }
  // The kubelet's $(VAR) expansion, which must find every variable.
  const expand = (s: string) =>
    s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
      if (!env.has(name)) throw new Error(`$(${name}) is not in the container's env`);
      return env.get(name) as string;
    });
  const argv = [...(init.command ?? []), ...(init.args ?? [])].map(expand);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const mountOf = (path: string) => {
    const m = (init.volumeMounts ?? [])
      .filter((v) => path === v.mountPath || path.startsWith(`${v.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!m) throw new Error(`${path} is on no volume`);
    const volume = spec.volumes?.find((v) => v.name === m.name);
    if (!volume) throw new Error(`volume ${m.name} is not declared`);
    return { mount: m, volume };
  };
  return { spec, init, env, argv, flag, mountOf, settings };
}

describe.each(CLOUDS)("overlay %s: the installer's arguments", (cloud) => {
  const { init, env, argv, flag, mountOf, settings } = installerOf(rendered[cloud]);

  it("runs install.sh from the script ConfigMap", () => {
    expect(argv[0]).toBe("/bin/sh");
    const path = argv[1] as string;
    const { mount, volume } = mountOf(path);
    expect(volume.configMap?.name).toBe("installer-script");
    expect(posix.relative(mount.mountPath, path)).toBe("install.sh");
    expect(mount.readOnly).toBe(true);
  });

  it("installs into the kubelet's bin dir and writes the config into its config dir, on hostPath volumes", () => {
    const bin = flag("--bin-dir") as string;
    const binVolume = mountOf(bin);
    expect(binVolume.mount.mountPath).toBe(bin);
    expect(binVolume.volume.name).toBe("kubelet-bin-dir");
    expect(binVolume.volume.hostPath?.path).toBe(HOST_PATHS[cloud].bin);
    expect(binVolume.mount.readOnly).not.toBe(true);

    const config = flag("--config") as string;
    const configVolume = mountOf(config);
    // The config's directory itself is the mount, so that the installer's rename stays on it.
    expect(posix.dirname(config)).toBe(configVolume.mount.mountPath);
    expect(configVolume.volume.name).toBe("kubelet-config-dir");
    expect(configVolume.volume.hostPath?.path).toBe(HOST_PATHS[cloud].configDir);
    expect(posix.basename(config)).toBe(HOST_PATHS[cloud].configName);
    expect(configVolume.mount.readOnly).not.toBe(true);
  });

  it("chooses the overlay's provider and a release version, with a writable TMPDIR", () => {
    expect(flag("--provider")).toBe(cloud);
    expect(flag("--version")).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(settings.SOURCE).toContain("{tag}");
    const tmp = env.get("TMPDIR") as string;
    expect(mountOf(tmp).volume.emptyDir).toBeDefined();
    expect(init.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("is a command line install.sh accepts (run with --dry-run, host paths mapped to a temp dir)", async () => {
    const root = mkdtempSync(join(tmpdir(), "deploy-dry-run-"));
    try {
      const args = argv.slice(2).map((a) => a.replace(/^\/host\//, `${root}/host/`));
      const r = await new Promise<{ code: number; stderr: string }>((ok) =>
        execFile("/bin/sh", [SCRIPT, ...args, "--dry-run"], (error, _stdout, stderr) =>
          ok({ code: error ? Number(error.code) : 0, stderr }),
        ),
      );
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        `releases/download/%40kubelet-credential-provider%2F${cloud}%40${env.get("VERSION")}/`,
      );
      expect(r.stderr).toContain(`would write the CredentialProviderConfig to ${root}/host/config/`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// ---- the validation can fail -------------------------------------------------------------------

describe("the validation rejects broken manifests", () => {
  const good = () => structuredClone(find(rendered.ecr, "DaemonSet", "credential-provider-installer"));

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
    const cm = structuredClone(find(rendered.ecr, "ConfigMap", "installer-settings")) as K8sObject;
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

  it("rejects an unpinned image and a writable root file system", () => {
    const ds = good();
    const c = podSpec(ds).containers[0] as Container;
    c.image = "registry.k8s.io/pause";
    (c.securityContext as Record<string, unknown>).readOnlyRootFilesystem = false;
    expect(() => validate(ds)).toThrow(/not pinned to a tag.*root file system is writable/);
  });
});
