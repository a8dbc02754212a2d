/**
 * Finding the kubelet on a node, for `doctor`: its command line from its running process
 * (`/proc/<pid>/cmdline`), else from its systemd unit (`kubelet.service` and its drop-ins, with the
 * `Environment=` and `EnvironmentFile=` variables its `ExecStart=` expands), else from flags given
 * by hand. Every path is read under `root`, the node's filesystem root.
 *
 * The unit reading covers what node images put there (EKS's nodeadm, AKS's AgentBaker, GKE's COS
 * images, kubeadm): the last non-empty `ExecStart=` wins, `$VAR` and `${VAR}` are replaced by
 * their words; it is not all of systemd's syntax (no specifiers, no `\` continuations of quoted
 * words).
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

/** Where the kubelet's command line came from. */
export type KubeletSource =
  | { kind: "process"; pid: number }
  | { kind: "systemd"; unit: string; files: string[] }
  | { kind: "given" };

export interface KubeletCommandLine {
  /** The kubelet binary, as its command line names it. */
  path: string;
  /** Its arguments. */
  args: string[];
  source: KubeletSource;
  /**
   * Its environment, which its plugins inherit: its process's (`/proc/<pid>/environ`), or its
   * unit's `Environment=` and `EnvironmentFile=` variables over systemd's default PATH. None for
   * flags given by hand.
   */
  env?: Record<string, string>;
}

/** The PATH systemd gives a service that sets none. */
const _SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The flags a credential provider check needs, from a kubelet command line. */
export interface KubeletFlags {
  config?: string;
  binDir?: string;
  /** The kubeconfig the kubelet talks to the API server with (a node path). */
  kubeconfig?: string;
  /** `--feature-gates`, as `name → enabled`. */
  featureGates: Record<string, boolean>;
}

const _UNIT_DIRS = [
  "etc/systemd/system",
  "run/systemd/system",
  "usr/lib/systemd/system",
  "lib/systemd/system",
];

/** The kubelet's command line: from `given` (words), its process, or its systemd unit; else undefined. */
export function findKubelet(root: string, given?: readonly string[]): KubeletCommandLine | undefined {
  if (given !== undefined) return { path: "kubelet", args: [...given], source: { kind: "given" } };
  return _fromProcess(root) ?? _fromSystemd(root);
}

/** `--name=value` and `--name value` (the last one wins, as in pflag). */
export function kubeletFlags(args: readonly string[]): KubeletFlags {
  const flags: KubeletFlags = { featureGates: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const name = match[1] as string;
    if (
      ![
        "image-credential-provider-config",
        "image-credential-provider-bin-dir",
        "feature-gates",
        "kubeconfig",
      ].includes(name)
    )
      continue;
    let value = match[2];
    if (value === undefined) {
      value = args[i + 1];
      i++;
    }
    if (value === undefined) continue;
    if (name === "image-credential-provider-config") flags.config = value;
    else if (name === "image-credential-provider-bin-dir") flags.binDir = value;
    else if (name === "kubeconfig") flags.kubeconfig = value;
    else {
      for (const gate of value.split(",")) {
        const [gateName, enabled] = gate.split("=");
        if (gateName) flags.featureGates[gateName.trim()] = /^true$/i.test((enabled ?? "").trim());
      }
    }
  }
  return flags;
}

/** Splits a command line into words as a shell would, without expanding anything. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function _fromProcess(root: string): KubeletCommandLine | undefined {
  let pids: string[];
  try {
    pids = readdirSync(join(root, "proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids.sort((a, b) => Number(a) - Number(b))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(join(root, "proc", pid, "cmdline"), "utf8");
    } catch {
      continue;
    }
    const [path, ...args] = cmdline
      .split("\0")
      .filter((word, index, all) => index < all.length - 1 || word !== "");
    if (path !== undefined && basename(path) === "kubelet") {
      const env = _environ(root, pid);
      return { path, args, source: { kind: "process", pid: Number(pid) }, ...(env && { env }) };
    }
  }
  return undefined;
}

function _fromSystemd(root: string): KubeletCommandLine | undefined {
  const files: string[] = [];
  for (const dir of _UNIT_DIRS) {
    const unit = join(dir, "kubelet.service");
    if (_read(root, unit) !== undefined) {
      files.push(unit);
      break; // the first directory's unit file shadows the others
    }
  }
  const dropIns = new Map<string, string>();
  for (const dir of [..._UNIT_DIRS].reverse()) {
    let names: string[] = [];
    try {
      names = readdirSync(join(root, dir, "kubelet.service.d")).filter((name) => name.endsWith(".conf"));
    } catch {
      // none here
    }
    for (const name of names) dropIns.set(name, join(dir, "kubelet.service.d", name));
  }
  files.push(...[...dropIns.keys()].sort().map((name) => dropIns.get(name) as string));
  if (files.length === 0) return undefined;

  const env = new Map<string, string>();
  let execStart: string | undefined;
  for (const file of files) {
    for (const line of _unitLines(_read(root, file) ?? "")) {
      const eq = line.indexOf("=");
      if (eq === -1) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === "ExecStart") execStart = value === "" ? undefined : value;
      else if (key === "Environment") {
        for (const assignment of splitWords(value)) _assign(env, assignment);
      } else if (key === "EnvironmentFile") {
        const path = value.replace(/^-/, "");
        for (const envLine of (_read(root, path) ?? "").split("\n")) {
          if (!/^\s*(#|;|$)/.test(envLine)) _assign(env, splitWords(envLine.trim()).join(" "));
        }
      }
    }
  }
  if (execStart === undefined) return undefined;
  const words = splitWords(execStart.replace(/^[-@+!:]+/, "")).flatMap((word) => _expand(word, env));
  const [path, ...args] = words;
  if (path === undefined) return undefined;
  return {
    path,
    args,
    source: { kind: "systemd", unit: "kubelet.service", files },
    env: { PATH: _SYSTEMD_PATH, ...Object.fromEntries(env) },
  };
}

/** A process's environment, `NAME=value` pairs split at NUL; undefined when unreadable. */
function _environ(root: string, pid: string): Record<string, string> | undefined {
  const text = _read(root, join("proc", pid, "environ"));
  if (text === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const pair of text.split("\0")) {
    const eq = pair.indexOf("=");
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** `$VAR` and `${VAR}` replaced: a word that is only the variable becomes the variable's words. */
function _expand(word: string, env: ReadonlyMap<string, string>): string[] {
  const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(word);
  if (whole) return splitWords(env.get((whole[1] ?? whole[2]) as string) ?? "");
  return [
    word.replace(
      /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (_, a, b) => env.get(a ?? b) ?? "",
    ),
  ];
}

function _assign(env: Map<string, string>, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq > 0) env.set(assignment.slice(0, eq), assignment.slice(eq + 1));
}

/** A unit file's lines, comments dropped and `\` continuations joined. */
function _unitLines(text: string): string[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => !/^\s*(#|;)/.test(line));
}

function _read(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), "utf8");
  } catch {
    return undefined;
  }
}
