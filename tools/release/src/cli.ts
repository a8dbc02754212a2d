// node tools/release/src/cli.ts                 pack every public package and report (exit 1 on problems)
// node tools/release/src/cli.ts publish [--dry-run] [--no-provenance]
//     publish what is not on npm yet, tag it <name>@<version>, push the tags (the release workflow);
//     the registry is npm's (NPM_CONFIG_REGISTRY), and --no-provenance publishes without the CI's
//     OIDC identity (the release rehearsal's local registry)
// node tools/release/src/cli.ts github-release --tags '<json array>' [--dist dist/release] [--dry-run]
//     one GitHub release per tag with the package's binaries and their SHA256SUMS (the release workflow)

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkAllPackages, formatReport, repoRoot } from "./pack.ts";
import { prepareReleases, publishGithubReleases, publishUnpublished, setOutput } from "./release.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    "dry-run": { type: "boolean", default: false },
    "no-provenance": { type: "boolean", default: false },
    tags: { type: "string" },
    dist: { type: "string", default: join(repoRoot, "dist/release") },
    json: { type: "boolean", default: false },
  },
});

const command = positionals[0] ?? "check";

try {
  if (command === "check") {
    const reports = await checkAllPackages();
    console.log(values.json ? JSON.stringify(reports, null, 2) : formatReport(reports));
    const problems = reports.reduce((count, report) => count + report.findings.length, 0);
    if (problems > 0) {
      console.error(`${problems} problem(s): fix them before releasing`);
      process.exitCode = 1;
    }
  } else if (command === "publish") {
    const tags = await publishUnpublished({
      dryRun: values["dry-run"],
      provenance: !values["no-provenance"],
    });
    console.log(tags.length ? `published: ${tags.join(", ")}` : "nothing to publish");
    await setOutput("published", String(tags.length > 0 && !values["dry-run"]));
    await setOutput("tags", JSON.stringify(tags));
  } else if (command === "github-release") {
    if (!values.tags) throw new Error("--tags '<json array of tags>' is required");
    const tags = JSON.parse(values.tags) as unknown;
    if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
      throw new Error("--tags must be a JSON array of strings");
    }
    const outDir = await mkdtemp(join(tmpdir(), "release-assets-"));
    const plans = await prepareReleases({ tags, distDir: resolve(values.dist), outDir });
    await publishGithubReleases(plans, { dryRun: values["dry-run"] });
  } else {
    throw new Error(`unknown command ${command}: check, publish or github-release`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
