/**
 * What `--version` reports. A provider's version has one source, its package.json, which is what
 * a release bumps (`changeset version`). On Node the provider reads it when it loads; a standalone
 * executable has no package.json beside it, so the build defines the version and the commit in the
 * bundle (tools/build's bun.ts: `--define __KCP_BUILD_VERSION__=...`), and the file is never read.
 */

declare const __KCP_BUILD_VERSION__: string | undefined;
declare const __KCP_BUILD_COMMIT__: string | undefined;

/**
 * The version in the package.json at `packageJson` (pass `new URL("../package.json",
 * import.meta.url)` from a module in the package's `src/`), or the one the standalone build
 * defined. `unknown` when neither is there: a missing version must not stop a provider.
 */
export function packageVersion(packageJson: URL): string {
  if (typeof __KCP_BUILD_VERSION__ === "string") return __KCP_BUILD_VERSION__;
  try {
    const { readFileSync } = process.getBuiltinModule("node:fs");
    const version = (JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown }).version;
    return typeof version === "string" && version !== "" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The line `--version` prints: `<name> <version> (<commit>, linux/amd64)` for a standalone
 * executable, `(node v22.3.0, linux/amd64)` on Node, where there is no build to name. The
 * platform and architecture are spelled as Go and Kubernetes spell them.
 */
export function versionLine(name: string, version: string): string {
  const built = typeof __KCP_BUILD_COMMIT__ === "string" ? __KCP_BUILD_COMMIT__ : `node ${process.version}`;
  return `${name} ${version} (${built}, ${_goName(process.platform)}/${_goName(process.arch)})`;
}

const _GO_NAMES: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", win32: "windows" };

function _goName(nodeName: string): string {
  return _GO_NAMES[nodeName] ?? nodeName;
}
