/**
 * `doctor`: a node's credential provider set-up checked end to end, as the kubelet will use it.
 * Finds the kubelet (doctor-node.ts) and its two flags, validates the config for that kubelet's
 * minor, checks each provider binary (there, executable, built for this machine and its libc,
 * answers `--version`), warns of the silent failures (patterns.ts), asks the API server whether
 * the node may request each service account audience the config names (kube-api.ts, with the
 * kubelet's kubeconfig), and looks up an image per pattern (or the images given) through the
 * plugins, as the kubelet would. Every path is read under `root`, the node's filesystem root (`/`
 * on a node; a fixture layout in the tests).
 *
 * Each finding is one line: ok, a warning, or broken with the fix named. Nothing secret is in a
 * finding: credentials are named by provider and key only.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CredentialProviderConfig } from "@kubelet-credential-provider/config";
import type { HttpClient, SecretRegistry } from "@kubelet-credential-provider/core";
import { createHttpClient } from "@kubelet-credential-provider/core";
import { inspectBinary, nodeArch } from "./doctor-binary.ts";
import { findKubelet, type KubeletCommandLine, kubeletFlags } from "./doctor-node.ts";
import { AUDIENCE_VERB, type AudienceSubject, createKubeApi } from "./kube-api.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import {
  DEFAULT_KUBELET_VERSION,
  type KubeletVersion,
  parseKubeletVersion,
  SERVICE_ACCOUNT_TOKEN_GATE,
} from "./kubelet-versions.ts";
import { createKubeletSimulator } from "./lookup.ts";
import { exampleImage, formatPatternWarning } from "./patterns.ts";
import { messageOf } from "./text.ts";
import { validateConfigPath, warningFile } from "./validate.ts";
import { verifyEntry } from "./verify.ts";
import { NAME, VERSION } from "./version.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "info";

/** One finding. */
export interface DoctorCheck {
  status: CheckStatus;
  /** What was checked: `kubelet`, `flags`, `config`, `provider NAME`, `lookup IMAGE`. */
  check: string;
  message: string;
  /** For a warning or a broken check: what to do. */
  fix?: string;
}

export interface DoctorReport {
  root: string;
  kubelet: {
    path?: string;
    /** `process 1234`, `systemd kubelet.service`, or `given`. */
    source?: string;
    version: string;
    /** How the version was found. */
    versionFrom: "--kubelet-version" | "kubelet --version" | "unknown";
    config?: string;
    binDir?: string;
    /** The names of the environment the kubelet's plugins inherit, when it was found on the node. */
    environment?: string[];
  };
  checks: DoctorCheck[];
  broken: number;
  warnings: number;
}

export interface DoctorOptions {
  /** The node's filesystem root. */
  root: string;
  /** The kubelet's flags, given by hand instead of found. */
  kubeletFlags?: readonly string[];
  kubeletVersion?: KubeletVersion;
  /** Override the kubelet's `--image-credential-provider-config` and `-bin-dir` (node paths). */
  config?: string;
  binDir?: string;
  /** Images to look up; by default one per pattern where one can be formed. */
  images: readonly string[];
  /** Try each credential at its registry. */
  http?: HttpClient;
  /**
   * The kubeconfig to ask the API server with (a path on this machine); default the kubelet's
   * `--kubeconfig`, under `root`.
   */
  kubeconfig?: string;
  /** The service accounts to check each audience for; default every one, in every namespace. */
  serviceAccounts?: readonly { namespace: string; name: string }[];
  /** For the API server's calls; default core's client over the kubelet's environment. */
  apiHttp?: HttpClient;
  /**
   * This process's environment: the plugins' and the API server calls' when the kubelet's own is
   * not known (its flags given by hand, or its process's environ unreadable).
   */
  env: Readonly<Record<string, string | undefined>>;
  secrets: SecretRegistry;
  timeoutMs: number;
}

/** Environment variable names whose values are treated as secrets. */
const _SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY$|^KEY$/i;

/** Records one finding. */
type _Add = (status: CheckStatus, check: string, message: string, fix?: string) => void;

const _MARKS: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗", info: "-" };

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { root } = options;
  const checks: DoctorCheck[] = [];
  const add: _Add = (status, check, message, fix) => {
    checks.push({ status, check, message, ...(fix === undefined ? {} : { fix }) });
  };
  const report: DoctorReport = {
    root,
    kubelet: { version: DEFAULT_KUBELET_VERSION.minor, versionFrom: "unknown" },
    checks,
    broken: 0,
    warnings: 0,
  };
  const done = () => {
    report.broken = checks.filter((c) => c.status === "fail").length;
    report.warnings = checks.filter((c) => c.status === "warn").length;
    return report;
  };

  // The kubelet and its flags.
  const given = options.kubeletFlags;
  const found = findKubelet(root, given);
  if (found !== undefined) {
    report.kubelet.path = found.path;
    report.kubelet.source = _sourceText(found);
    add("ok", "kubelet", `${found.path}, its flags from ${_sourceText(found)}`);
  } else if (options.config === undefined || options.binDir === undefined) {
    add(
      "fail",
      "kubelet",
      "no kubelet found: no running kubelet process, no kubelet.service",
      "give its flags with --kubelet-flags, or --config and --bin-dir",
    );
    return done();
  }
  const kubelet = _version(options, found, add, report);
  // What the kubelet's plugins and its API calls run with: its proxy and cloud settings, not ours.
  const env = found?.env ?? options.env;
  if (found?.env !== undefined) {
    report.kubelet.environment = Object.keys(found.env).sort();
    // A plugin may echo its environment in an error, which doctor quotes.
    for (const [name, value] of Object.entries(found.env)) {
      if (_SECRET_NAME.test(name) && value.length >= 4) options.secrets.add(value);
    }
  }

  const flags = kubeletFlags(found?.args ?? []);
  const config = options.config ?? flags.config;
  const binDir = options.binDir ?? flags.binDir;
  if (config === undefined || binDir === undefined) {
    const missing =
      config === undefined ? "--image-credential-provider-config" : "--image-credential-provider-bin-dir";
    add(
      "fail",
      "flags",
      `the kubelet has no ${missing}: it runs no credential provider, and pulls private images without credentials`,
      "add --image-credential-provider-config=FILE and --image-credential-provider-bin-dir=DIR to the kubelet's flags, and restart it",
    );
    return done();
  }
  report.kubelet.config = config;
  report.kubelet.binDir = binDir;
  add(
    "ok",
    "flags",
    `--image-credential-provider-config=${config} --image-credential-provider-bin-dir=${binDir}`,
  );

  // The config, for this kubelet.
  const unroot = (text: string) => (root === "/" ? text : text.split(root.replace(/\/+$/, "")).join(""));
  const validation = await validateConfigPath(join(root, config), kubelet);
  if (!validation.valid || validation.config === undefined) {
    const error = unroot(validation.kubeletError ?? validation.issues.join("; "));
    add(
      "fail",
      "config",
      `the kubelet ${kubelet.minor} would not start: ${error}`,
      _configFix(error, kubelet),
    );
    return done();
  }
  const parsed = validation.config;
  const providers = parsed.providers.length;
  add(
    "ok",
    "config",
    `${config}: valid for kubelet ${kubelet.minor}, ${providers} ${providers === 1 ? "provider" : "providers"}`,
  );
  if (
    !kubelet.serviceAccountTokenGate.enabledByDefault &&
    parsed.providers.some((provider) => provider.tokenAttributes !== undefined) &&
    flags.featureGates[SERVICE_ACCOUNT_TOKEN_GATE] !== true
  ) {
    add(
      "fail",
      "config",
      `tokenAttributes needs the ${SERVICE_ACCOUNT_TOKEN_GATE} feature gate on kubelet ${kubelet.minor} (off by default): the kubelet would not start`,
      `add --feature-gates=${SERVICE_ACCOUNT_TOKEN_GATE}=true to the kubelet's flags`,
    );
  }
  for (const warning of validation.warnings) {
    add("warn", "config", unroot(formatPatternWarning(warning, warningFile(validation))), warning.fix);
  }

  // Each provider's binary.
  for (const provider of parsed.providers) {
    _checkBinary(root, binDir, provider.name, add);
  }

  // Service account audiences, as the API server's NodeRestriction will judge the kubelet's requests.
  const audiences = [
    ...new Set(parsed.providers.flatMap((p) => p.tokenAttributes?.serviceAccountTokenAudience ?? [])),
  ];
  if (audiences.length > 0) {
    const kubeconfig =
      options.kubeconfig ?? (flags.kubeconfig === undefined ? undefined : join(root, flags.kubeconfig));
    await _checkAudiences(audiences, kubeconfig, { ...options, env }, (status, check, message, fix) =>
      add(status, check, unroot(message), fix),
    );
  }

  // A lookup as the kubelet would do it.
  const images = options.images.length > 0 ? [...options.images] : _exampleImages(parsed, add);
  if (images.length === 0) return done();
  const simulator = createKubeletSimulator({
    config: parsed,
    binDir: join(root, binDir),
    timeoutMs: options.timeoutMs,
    kubeletVersion: kubelet,
    env,
    secrets: options.secrets,
  });
  for (const image of images) {
    const entry = await simulator.lookup(image);
    const check = `lookup ${image}`;
    if (entry.normalizedImage === null) {
      add("fail", check, `not an image the kubelet can pull: ${entry.error ?? ""}`);
      continue;
    }
    if (entry.providers.length === 0) {
      const first = entry.unmatched?.[0];
      add(
        "warn",
        check,
        `no provider matches it${first ? `: ${first.provider} ${JSON.stringify(first.pattern)}: ${first.reason}` : ""}`,
        "add a matchImages pattern for its registry to the provider that serves it",
      );
      continue;
    }
    for (const provider of entry.providers) {
      // Service account mode without a pod: the kubelet would not run it either, for such a pod.
      if (provider.error?.startsWith("not run: ")) {
        add("info", check, `${provider.name} ${provider.error}`);
      } else if (provider.error !== undefined) {
        add(
          "fail",
          check,
          `${provider.name} failed: ${provider.error.split("\n")[0]}`,
          `see what the plugin said: kubelet-credential-sim lookup --config ${config} --bin-dir ${binDir} --plugin-stderr-dir DIR ${image}`,
        );
      }
    }
    const [credential] = entry.credentials;
    if (credential === undefined) {
      if (entry.providers.some((provider) => provider.error === undefined)) {
        add(
          "warn",
          check,
          "the providers answered, but no credential matches the image",
          "check the answer's auth keys",
        );
      }
      continue;
    }
    const cache = entry.providers.find((provider) => provider.name === credential.provider)?.cache;
    const kept = cache
      ? cache.expiresAt === null
        ? ", not cached"
        : `, cached by ${cache.keyType} for ${cache.duration}`
      : "";
    let verified = "";
    if (options.http !== undefined) {
      const result = await verifyEntry(entry, options.http, options.secrets);
      if (!result.verified) {
        add(
          "fail",
          check,
          `the registry refused every credential: ${result.verifyMessage}`,
          "check the node's cloud identity and its access to the registry",
        );
        continue;
      }
      verified = `; ${result.verifyMessage}`;
    }
    add("ok", check, `a credential for ${credential.key} from ${credential.provider}${kept}${verified}`);
  }
  return done();
}

/**
 * For each audience: may the kubeconfig's identity (the kubelet's, by default) request service
 * account tokens for it? Allowed for every service account is ok; not allowed for every one is a
 * warning (a narrower grant, or a pod volume naming the audience, may still let a pod's request
 * through); not allowed for a service account named with --service-account is broken.
 */
async function _checkAudiences(
  audiences: readonly string[],
  kubeconfig: string | undefined,
  options: DoctorOptions,
  add: _Add,
): Promise<void> {
  const check = "service accounts";
  if (kubeconfig === undefined) {
    add(
      "warn",
      check,
      "audiences not checked: the kubelet has no --kubeconfig (a standalone kubelet gets no service account tokens)",
      "give the kubelet's kubeconfig with --kubeconfig",
    );
    return;
  }
  let api: ReturnType<typeof createKubeApi>;
  let identity: string;
  try {
    const access = await loadKubeconfig(kubeconfig, {
      root: options.kubeconfig === undefined ? options.root : "/",
      env: options.env,
      secrets: options.secrets,
      timeoutMs: options.timeoutMs,
    });
    // The kubelet's proxy settings, as its own API calls use them.
    const http =
      options.apiHttp ??
      createHttpClient({ userAgent: `${NAME}/${VERSION}`, secrets: options.secrets, env: options.env });
    api = createKubeApi(access, http, Math.min(options.timeoutMs, 10_000));
    const who = await api.whoAmI();
    identity = who.username || access.user;
    if (!who.username.startsWith("system:node:") || !who.groups.includes("system:nodes")) {
      add(
        "warn",
        check,
        `the kubeconfig authenticates as ${JSON.stringify(identity)}, not as a node (system:node:NAME in system:nodes): the answers below are for it, not the kubelet`,
        "give the kubelet's own kubeconfig with --kubeconfig",
      );
    }
  } catch (error) {
    add(
      "warn",
      check,
      `audiences not checked: ${options.secrets.redact(messageOf(error))}`,
      "give a kubeconfig doctor can use with --kubeconfig",
    );
    return;
  }
  const accounts = options.serviceAccounts ?? [];
  const subjects: AudienceSubject[] = audiences.flatMap((audience) =>
    accounts.length === 0
      ? [{ audience }]
      : accounts.map((account) => ({ audience, namespace: account.namespace, serviceAccount: account.name })),
  );
  for (const subject of subjects) {
    const every = subject.serviceAccount === undefined;
    const whom = every ? "every service account" : `${subject.namespace}/${subject.serviceAccount}`;
    const name = `audience ${JSON.stringify(subject.audience)}`;
    try {
      const decision = await api.canRequestAudience(subject);
      if (decision.allowed) {
        add("ok", check, `${identity} may request tokens for ${name} for ${whom}`);
        continue;
      }
      const why = [decision.reason, decision.evaluationError].filter(Boolean).join("; ");
      const rule = `{apiGroups: [""], resources: [${JSON.stringify(subject.audience)}], verbs: [${AUDIENCE_VERB}]${
        every ? "" : `, resourceNames: [${JSON.stringify(subject.serviceAccount)}]`
      }}`;
      const fix = `grant it: a ${every ? "ClusterRole" : `Role in ${subject.namespace}`} with the rule ${rule}, bound to the group system:nodes`;
      if (every) {
        add(
          "warn",
          check,
          `${identity} may not request tokens for ${name} for every service account${why ? ` (${why})` : ""}: a pod gets one only if one of its volumes names the audience or a narrower rule grants its service account`,
          `${fix}; or check a pod's service account with --service-account NAMESPACE/NAME`,
        );
      } else {
        add(
          "fail",
          check,
          `${identity} may not request tokens for ${name} for ${whom}${why ? ` (${why})` : ""}: the API server refuses the kubelet's token request, and the pull fails`,
          fix,
        );
      }
    } catch (error) {
      add("warn", check, `${name} not checked: ${options.secrets.redact(messageOf(error))}`);
    }
  }
}

/** The checklist, one line a finding, and a last line with the verdict. */
export function doctorText(report: DoctorReport): string[] {
  const lines = [
    `node root ${report.root}; kubelet ${report.kubelet.version} (${report.kubelet.versionFrom})`,
    ...report.checks.map(
      (check) =>
        `${_MARKS[check.status]} ${check.check}: ${check.message}${check.fix ? ` (fix: ${check.fix})` : ""}`,
    ),
  ];
  const verdict =
    report.broken === 0 && report.warnings === 0
      ? "healthy"
      : [
          report.broken > 0 ? `${report.broken} broken` : "",
          report.warnings > 0 ? `${report.warnings} ${report.warnings === 1 ? "warning" : "warnings"}` : "",
        ]
          .filter(Boolean)
          .join(", ");
  lines.push(`doctor: ${verdict}`);
  return lines;
}

function _sourceText(found: KubeletCommandLine): string {
  if (found.source.kind === "process") return `its running process (pid ${found.source.pid})`;
  if (found.source.kind === "systemd") return `its systemd unit (${found.source.files.join(", ")})`;
  return "--kubelet-flags";
}

function _version(
  options: DoctorOptions,
  found: KubeletCommandLine | undefined,
  add: _Add,
  report: DoctorReport,
): KubeletVersion {
  if (options.kubeletVersion !== undefined) {
    report.kubelet.version = options.kubeletVersion.minor;
    report.kubelet.versionFrom = "--kubelet-version";
    return options.kubeletVersion;
  }
  // Only on the node itself: a binary of another root may not run here.
  if (options.root === "/" && found !== undefined && found.source.kind !== "given") {
    const run = spawnSync(found.path, ["--version"], { encoding: "utf8", timeout: 10_000 });
    const match = /v(\d+)\.(\d+)\./.exec(run.stdout ?? "");
    if (match) {
      try {
        const version = parseKubeletVersion(`${match[1]}.${match[2]}`);
        report.kubelet.version = version.minor;
        report.kubelet.versionFrom = "kubelet --version";
        return version;
      } catch {
        add(
          "warn",
          "kubelet",
          `kubelet ${match[1]}.${match[2]} is not one the simulator models (1.33 to 1.37): checked as ${DEFAULT_KUBELET_VERSION.minor}`,
        );
        return DEFAULT_KUBELET_VERSION;
      }
    }
  }
  add(
    "warn",
    "kubelet",
    `its version is unknown: checked as the newest, ${DEFAULT_KUBELET_VERSION.minor}`,
    "give --kubelet-version MINOR",
  );
  return DEFAULT_KUBELET_VERSION;
}

/** The fix for the configs the kubelet of one minor refuses and another accepts. */
function _configFix(error: string, kubelet: KubeletVersion): string | undefined {
  if (/unknown field "providers\[\d+\]\.cacheKeyType"/.test(error)) {
    return "cacheKeyType belongs in a plugin's answer, not in the config; the config's cache setting is tokenAttributes.cacheType (ServiceAccount or Token, kubelet 1.34+)";
  }
  if (/unknown field "providers\[\d+\]\.tokenAttributes\.cacheType"/.test(error)) {
    return `kubelet ${kubelet.minor} has no tokenAttributes.cacheType (it came in 1.34): remove it, or upgrade the kubelet`;
  }
  if (/cacheType is required/.test(error)) {
    return "from kubelet 1.34, tokenAttributes needs cacheType: add cacheType: ServiceAccount (or Token)";
  }
  if (/is a directory/.test(error) && !kubelet.configDirectory) {
    return `kubelet ${kubelet.minor} reads one file: point --image-credential-provider-config at a file, or upgrade the kubelet to 1.34+`;
  }
  if (/no such file or directory/.test(error)) return "write the config there, or fix the kubelet's flag";
  return undefined;
}

function _checkBinary(root: string, binDir: string, name: string, add: _Add): void {
  const check = `provider ${name}`;
  const nodePath = join(binDir, name);
  const path = join(root, nodePath);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    add(
      "fail",
      check,
      `${nodePath} does not exist: the kubelet will not start`,
      `install ${name} into ${binDir}`,
    );
    return;
  }
  if (!isFile) {
    add(
      "fail",
      check,
      `${nodePath} is not a file: the kubelet will not start`,
      `install ${name} into ${binDir}`,
    );
    return;
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    add("fail", check, `${nodePath} is not executable: the kubelet will not start`, `chmod 755 ${nodePath}`);
    return;
  }
  const binary = inspectBinary(path);
  const arch = nodeArch();
  let built = "";
  if (binary.kind === "elf") {
    if (binary.arch !== arch) {
      add(
        "fail",
        check,
        `${nodePath} is built for linux/${binary.arch}; this node is linux/${arch}`,
        `install the linux-${arch} build of ${name}`,
      );
      return;
    }
    if (binary.interpreter !== undefined && !existsSync(join(root, binary.interpreter))) {
      const libc = binary.libc === "musl" ? "musl" : binary.libc === "glibc" ? "glibc" : "its C library";
      add(
        "fail",
        check,
        `${nodePath} is built for ${libc} (${binary.interpreter}), which this node does not have`,
        `install the build of ${name} for this node's C library`,
      );
      return;
    }
    built = `linux/${binary.arch}, ${binary.libc}`;
  } else if (binary.kind === "script") {
    const interpreter = binary.interpreter.split(/\s+/)[0] ?? "";
    if (interpreter !== "" && !existsSync(join(root, interpreter))) {
      add(
        "fail",
        check,
        `${nodePath} is a script for ${interpreter}, which this node does not have`,
        `install ${interpreter}, or a standalone build of ${name}`,
      );
      return;
    }
    built = `a script (#!${binary.interpreter})`;
  } else if (binary.kind === "windows") {
    add("fail", check, `${nodePath} is a Windows executable`, `install the linux-${arch} build of ${name}`);
    return;
  } else {
    add(
      "fail",
      check,
      `${nodePath} is not an executable this node can run`,
      `install the linux-${arch} build of ${name}`,
    );
    return;
  }
  const version = spawnSync(path, ["--version"], {
    encoding: "utf8",
    timeout: 10_000,
    input: "",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
  });
  const line = (version.stdout ?? "").split("\n")[0] ?? "";
  if (version.error || version.status !== 0 || line === "") {
    const why = version.error ? messageOf(version.error) : `exit ${version.status ?? version.signal}`;
    add(
      "fail",
      check,
      `${nodePath} does not answer --version (${why})`,
      `run ${nodePath} --version by hand, and reinstall ${name}`,
    );
    return;
  }
  add("ok", check, `${nodePath}: ${built}; --version: ${line}`);
}

/** An image for each pattern that has one (patterns.ts's exampleImage); a note for each other. */
function _exampleImages(config: CredentialProviderConfig, add: _Add): string[] {
  const images: string[] = [];
  for (const provider of config.providers) {
    for (const pattern of provider.matchImages) {
      const image = exampleImage(pattern);
      if (image === undefined) {
        add(
          "info",
          "lookup",
          `no example image for ${JSON.stringify(pattern)} (${provider.name}): give one with --image`,
        );
      } else if (!images.includes(image)) images.push(image);
    }
  }
  return images;
}
