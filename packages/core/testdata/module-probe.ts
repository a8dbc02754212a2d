/**
 * Start-up cost checks for tests: runs `code` in a fresh Node and reports every module URL that was
 * resolved while it ran, and whether Node's https module was loaded. Providers use it to show that
 * importing them loads no cloud SDK until a request needs one.
 */
import { execFileSync } from "node:child_process";

export interface LoadReport {
  urls: string[];
  https: boolean;
}

export function probeLoads(code: string, cwd: string): LoadReport {
  const probe = `
    const urls = [];
    require("node:module").registerHooks({
      resolve(specifier, context, next) { const result = next(specifier, context); urls.push(result.url); return result; },
    });
    (async () => { ${code} })().then(() => {
      const report = { urls: [...new Set(urls)], https: process.moduleLoadList.includes("NativeModule https") };
      // Exit only once the whole report is out: a pipe write can still be pending here.
      process.stdout.write(JSON.stringify(report), () => process.exit(0));
    });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", probe], { encoding: "utf8", cwd }));
}

/** The package names under `node_modules/<scope>` among `urls`, sorted, each once. */
export function scopedPackages(urls: readonly string[], scope: string): string[] {
  const names = urls.flatMap((url) => {
    const match = new RegExp(`/node_modules/${scope.replace("/", "\\/")}([^/]+)/`).exec(url);
    return match ? [match[1] as string] : [];
  });
  return [...new Set(names)].sort();
}
