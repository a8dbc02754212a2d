/**
 * The Go side of the tier: the kubelet harness of each minor (kubelet/, one main.go with a go.mod
 * per minor), the audience checker (kubelet/audience) and the upstream plugins (upstream/<plugin>/go.mod, whose `tool` line names the
 * plugin's command), built from the Go module proxy into .bin/. Go's module and build caches make
 * every build after the first a link. Where `go` is missing the tier is skipped with a notice;
 * with CI=true it is required.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const conformanceDir = resolve(import.meta.dirname, "..");
export const repoRoot = resolve(conformanceDir, "..");
/** Our executables, as `pnpm build` leaves them. */
export const ourBinDir = join(repoRoot, "dist/bin");
const binDir = join(conformanceDir, ".bin");

/** The kubelet minors the harness links, oldest first; the newest is go.mod's. */
export const KUBELET_MINORS = ["1.33", "1.34", "1.35", "1.36", "1.37"] as const;
export type KubeletMinor = (typeof KUBELET_MINORS)[number];
const NEWEST: KubeletMinor = "1.37";

/** The upstream plugins, by our executable's name: their module dir and command package. */
export const UPSTREAM_PLUGINS = {
  "ecr-credential-provider": {
    dir: "ecr",
    module: "k8s.io/cloud-provider-aws",
    command: "cmd/ecr-credential-provider",
  },
  "acr-credential-provider": {
    dir: "acr",
    module: "sigs.k8s.io/cloud-provider-azure",
    command: "cmd/acr-credential-provider",
  },
  "auth-provider-gcp": { dir: "gcp", module: "k8s.io/cloud-provider-gcp", command: "cmd/auth-provider-gcp" },
} as const;
export type UpstreamPlugin = keyof typeof UPSTREAM_PLUGINS;

/** Whether this machine can build the tier; CI=true without Go is an error, not a skip. */
export function goAvailable(): boolean {
  const found = ["/usr/local/go/bin/go", "/usr/bin/go"].some(existsSync) || _onPath("go");
  if (!found && process.env.CI === "true")
    throw new Error("CI=true: the conformance tier needs Go (`go` on PATH)");
  if (!found) console.warn("skipping the conformance tier: no Go toolchain (`go`) on this machine");
  return found;
}

// Builds run one at a time: each takes both cores on a cold cache.
let _queue: Promise<unknown> = Promise.resolve();
const _built = new Map<string, Promise<string>>();

/** The kubelet harness of a minor, built (or relinked from Go's cache) once per run. */
export function kubeletHarness(minor: KubeletMinor): Promise<string> {
  const modfile = minor === NEWEST ? [] : [`-modfile=v${minor}.mod`];
  return _build(`kubelet-${minor}`, join(conformanceDir, "kubelet"), [...modfile, "."]);
}

/**
 * The audience checker (kubelet/audience): doctor's service account audience question against the
 * real NodeRestriction plugin and RBAC authorizer, at go.mod's minor.
 */
export function audienceChecker(): Promise<string> {
  return _build("audience", join(conformanceDir, "kubelet"), ["./audience"]);
}

/** An upstream plugin, built from the module version its go.mod pins. */
export function upstreamPlugin(name: UpstreamPlugin): Promise<string> {
  const plugin = UPSTREAM_PLUGINS[name];
  return _build(`upstream-${name}`, join(conformanceDir, "upstream", plugin.dir), [
    `${plugin.module}/${plugin.command}`,
  ]);
}

/** The version of `module` a Go module dir pins (its go.mod's require line). */
export async function pinnedVersion(dir: string, module: string, modfile?: string): Promise<string> {
  const { stdout } = await _go(dir, [
    "list",
    "-m",
    ...(modfile ? [`-modfile=${modfile}`] : []),
    "-f",
    "{{.Version}}",
    module,
  ]);
  return stdout.trim();
}

function _build(name: string, dir: string, args: string[]): Promise<string> {
  let built = _built.get(name);
  if (!built) {
    const out = join(binDir, name);
    built = _queue.then(async () => {
      mkdirSync(binDir, { recursive: true });
      const started = Date.now();
      await _go(dir, ["build", "-trimpath", "-o", out, ...args]);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (seconds > 30) console.warn(`conformance: built ${name} in ${seconds} s (a cold Go cache)`);
      return out;
    });
    _queue = built.catch(() => undefined);
    _built.set(name, built);
  }
  return built;
}

async function _go(dir: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await run("go", args, {
      cwd: dir,
      // Only what go.mod and go.sum pin: no edits, no other toolchain.
      env: { ...process.env, GOFLAGS: "-mod=readonly", GOTOOLCHAIN: "local", PATH: _path() },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`go ${args.join(" ")} in ${dir} failed:\n${stderr.trim()}`);
  }
}

function _path(): string {
  return [process.env.PATH ?? "", "/usr/local/go/bin"].filter(Boolean).join(":");
}

function _onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, command)));
}
