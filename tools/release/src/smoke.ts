/**
 * The release executables of one platform, as a release job checks them on a machine of that
 * platform (release.yml runs it on a Windows runner for the windows-amd64 ones): each provider
 * prints `<bin> <version> (<commit>, <os>/<arch>)` for --version, and refuses a request for a
 * host that is not its cloud's, and a request that is not JSON, with exit 1, nothing on stdout and
 * one line on stderr. Only Node's built-ins and the build's target list: it runs before anything
 * is installed.
 *
 *   node tools/release/src/smoke.ts DIR OS-ARCH
 *
 * Exit 0 when every check holds; 1, with a line per failed check, otherwise.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { assetName, platformOf, RELEASE_TARGETS, type Target } from "../../../packages/build/src/targets.ts";

/** Each provider's bin, and the package that holds its version. */
const PROVIDERS: Record<string, string> = {
  "ecr-credential-provider": "packages/ecr",
  "acr-credential-provider": "packages/acr",
  "auth-provider-gcp": "packages/gcp",
};
const REFUSED_IMAGE = "registry.not-a-cloud.example/app";

/** The release target `<os>-<arch>` names, if any. */
export function releaseTarget(platform: string): Target | undefined {
  return RELEASE_TARGETS.find((target) => `${target.os}-${target.arch}` === platform);
}

export interface SmokeResult {
  checks: number;
  failures: string[];
}

/** Runs the checks on `dir`'s executables for `target`. */
export function smokeTest(
  dir: string,
  target: Target,
  root = resolve(import.meta.dirname, "../../.."),
): SmokeResult {
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, what: string) => {
    checks++;
    if (!ok) failures.push(what);
  };
  for (const [bin, pkg] of Object.entries(PROVIDERS)) {
    const file = join(dir, assetName(bin, target));
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
      `^${bin} ${version.replaceAll(".", "\\.")} \\([0-9a-f]{12}(-dirty)?, ${platformOf(target)}\\)\\r?\\n$`,
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
  const [dir, platform = ""] = process.argv.slice(2);
  const target = releaseTarget(platform);
  if (!dir || !target) {
    console.error("usage: node tools/release/src/smoke.ts DIR OS-ARCH (such as dist/release windows-amd64)");
    process.exit(2);
  }
  const result = smokeTest(resolve(dir), target);
  for (const failure of result.failures) console.error(`smoke: ${failure}`);
  console.log(
    `smoke: ${platform}: ${result.checks - result.failures.length} of ${result.checks} checks passed`,
  );
  process.exit(result.failures.length === 0 ? 0 : 1);
}
