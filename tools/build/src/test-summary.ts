/**
 * The last line of `pnpm test`: every package's vitest results added up, as
 * `vitest: N passed, N failed, N skipped`, read from the JSON report each package run writes.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const root = resolve(import.meta.dirname, "../../..");
const dirs = ["packages", "examples", "tools"]
  .flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((n) => join(root, group, n)) : [],
  )
  .concat(
    join(root, "test-e2e"),
    join(root, "test-e2e/adversarial"),
    join(root, "test-release"),
    join(root, "conformance"),
  );

const total = { passed: 0, failed: 0, skipped: 0 };
for (const dir of dirs.sort()) {
  const file = join(dir, ".vitest-results.json");
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8")) as VitestJson;
  total.passed += report.numPassedTests;
  total.failed += report.numFailedTests;
  total.skipped += report.numPendingTests + report.numTodoTests;
  console.log(`${relative(root, dir)}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}
console.log(`vitest: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
if (total.passed === 0 || total.failed > 0) process.exit(1);
