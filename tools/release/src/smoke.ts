/**
 * The release executables of one platform, as a release job checks them on a machine of that
 * platform (release.yml runs it on a Windows runner for the windows-amd64 ones): each provider
 * prints `<bin> <version> (<commit>, <os>/<arch>)` for --version, and refuses a request for a
 * host that is not its cloud's, and a request that is not JSON, with exit 1, nothing on stdout and
 * one line on stderr. Only Node's built-ins: it runs before anything is installed.
 *
 *   node tools/release/src/smoke.ts DIR OS-ARCH
 *
 * Exit 0 when every check holds; 1, with a line per failed check, otherwise.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Each provider's bin, and the package that holds its version. */
const PROVIDERS: Record<string, string> = {
  "ecr-credential-provider": "packages/ecr",
  "acr-credential-provider": "packages/acr",
  "auth-provider-gcp": "packages/gcp",
};
const REFUSED_IMAGE = "registry.not-a-cloud.example/app";

export interface SmokeResult {
  checks: number;
  failures: string[];
}

/** Runs the checks on `dir`'s executables for `platform` (`windows-amd64`, `linux-arm64`, ...). */
export function smokeTest(
  dir: string,
  platform: string,
  root = resolve(import.meta.dirname, "../../.."),
): SmokeResult {
  const [os = "", arch = ""] = platform.split("-");
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, what: string) => {
    checks++;
    if (!ok) failures.push(what);
  };
  for (const [bin, pkg] of Object.entries(PROVIDERS)) {
    const file = join(dir, `${bin}-${platform}${os === "windows" ? ".exe" : ""}`);
    const version = (JSON.parse(readFileSync(join(root, pkg, "package.json"), "utf8")) as { version: string })
      .version;
    const run = (args: string[], input: string) =>
      spawnSync(file, args, {
        input,
        encoding: "utf8",
        timeout: 60_000,
        env: _env(),
      });

    const shown = run(["--version"], "");
    const expected = new RegExp(
      `^${bin} ${version.replaceAll(".", "\\.")} \\([0-9a-f]{12}(-dirty)?, ${os}/${arch}\\)\\r?\\n$`,
    );
    check(
      shown.status === 0 && expected.test(shown.stdout ?? "") && shown.stderr === "",
      `${bin} --version: exit ${shown.status ?? shown.error?.message}, stdout ${JSON.stringify(shown.stdout)}, stderr ${JSON.stringify(shown.stderr)}`,
    );
    const requests = {
      "a refused host": `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: REFUSED_IMAGE })}\r\n`,
      "a request that is not JSON": "not json\r\n",
    };
    for (const [what, input] of Object.entries(requests)) {
      const refused = run(bin === "auth-provider-gcp" ? ["get-credentials"] : [], input);
      const lines = (refused.stderr ?? "").split(/\r?\n/).filter(Boolean);
      check(
        refused.status === 1 &&
          refused.stdout === "" &&
          lines.length === 1 &&
          lines[0]?.startsWith(`${bin}: `) === true,
        `${bin} with ${what}: exit ${refused.status ?? refused.error?.message}, stdout ${JSON.stringify(refused.stdout)}, stderr ${JSON.stringify(refused.stderr)}`,
      );
    }
  }
  return { checks, failures };
}

/** Little of ours: PATH, and on Windows the system root every Windows process expects. */
function _env(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "" };
  if (process.env.SystemRoot) env.SystemRoot = process.env.SystemRoot;
  return env;
}

if (import.meta.main) {
  const [dir, platform] = process.argv.slice(2);
  if (!dir || !platform || !/^(linux|windows)-(amd64|arm64)$/.test(platform)) {
    console.error("usage: node tools/release/src/smoke.ts DIR OS-ARCH (such as dist/release windows-amd64)");
    process.exit(2);
  }
  const result = smokeTest(resolve(dir), platform);
  for (const failure of result.failures) console.error(`smoke: ${failure}`);
  console.log(
    `smoke: ${platform}: ${result.checks - result.failures.length} of ${result.checks} checks passed`,
  );
  process.exit(result.failures.length === 0 ? 0 : 1);
}
