/**
 * `pnpm build`: the packages (turbo's build graph), then every executable of the workspace as a
 * standalone Linux binary in dist/bin/ at the repo root. Runs on the Node it embeds (the repo's
 * own Node 24), and calls turbo directly rather than through a nested pnpm.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { findExecutables } from "./executables.ts";
import { buildExecutable } from "./sea.ts";

const root = resolve(import.meta.dirname, "../../..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `standalone executables need Node 24 or later to build (running ${process.version}); run through pnpm`,
  );
  process.exit(1);
}

const turbo = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
});
if (turbo.status !== 0) {
  console.error(turbo.error ? `cannot run turbo: ${turbo.error.message}` : "build failed: turbo run build");
  process.exit(1);
}

const executables = findExecutables(root);
if (executables.length === 0) {
  console.error("no executables found: no workspace package declares a bin");
  process.exit(1);
}
const outDir = join(root, "dist", "bin");
try {
  for (const executable of executables) {
    const started = Date.now();
    const result = await buildExecutable(executable, {
      outDir,
      workDir: join(root, "dist", ".sea"),
      nodeBinary: process.execPath,
      log: (line) => console.error(line),
    });
    console.error(
      `${result === "built" ? "built" : "up to date"}: dist/bin/${executable.name} (${Date.now() - started} ms)`,
    );
  }
} catch (error) {
  console.error(`build failed: ${(error as Error).message}`);
  process.exit(1);
}
