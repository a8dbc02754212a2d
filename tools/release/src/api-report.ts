/**
 * The API reports: for every entry point (`exports` subpath) of every public package, API
 * Extractor's report of what it exports, with every type, in api/<package>[-<subpath>].api.md.
 * They are checked in, so that a change to a published API shows in review as a change to its
 * report; the test command fails when a package's exports differ from its report
 * (api-report.test.ts), and `UPDATE_API_REPORT=1` rewrites the reports instead.
 *
 * Run on the built declarations (dist/*.d.ts), which the root `pnpm test` builds first.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
} from "@microsoft/api-extractor";
import { repoRoot, type WorkspacePackage } from "./pack.ts";

export const API_REPORT_DIR = join(repoRoot, "api");

export interface EntryPoint {
  /** `@kubelet-credential-provider/core` or `@kubelet-credential-provider/core/go`. */
  importPath: string;
  /** The report's file name, without `.api.md`: `core`, `core-go`. */
  reportName: string;
  /** The entry point's declarations. */
  declarations: string;
}

export interface ApiReportResult extends EntryPoint {
  /** The entry point's API differs from the checked-in report (or there is none). */
  changed: boolean;
  /** Where the report is, or would be. */
  reportFile: string;
  /** API Extractor's errors and warnings (an export it cannot name, say). */
  problems: string[];
}

/** Every `exports` subpath of `pkg` that has type declarations (not `./package.json`). */
export function entryPointsOf(pkg: WorkspacePackage): EntryPoint[] {
  const exports = (pkg.manifest.exports ?? {}) as Record<string, string | { types?: string }>;
  const unscoped = pkg.name.replace(/^@[^/]+\//, "");
  return Object.entries(exports).flatMap(([subpath, target]) => {
    const types = typeof target === "object" ? target.types : undefined;
    if (!types) return [];
    const suffix = subpath === "." ? "" : subpath.slice(2);
    return [
      {
        importPath: suffix ? `${pkg.name}/${suffix}` : pkg.name,
        reportName: suffix ? `${unscoped}-${suffix.replaceAll("/", "-")}` : unscoped,
        declarations: join(pkg.dir, types),
      },
    ];
  });
}

/**
 * Compares one entry point's API with its report, or with `update` writes the report. Fails when
 * the declarations are not built.
 */
export function apiReport(pkg: WorkspacePackage, entry: EntryPoint, update: boolean): ApiReportResult {
  if (!existsSync(entry.declarations)) {
    throw new Error(`${entry.declarations} is missing: build ${pkg.name} first (pnpm build)`);
  }
  const temp = mkdtempSync(join(tmpdir(), "kcp-api-report-"));
  try {
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: pkg.dir,
        mainEntryPointFilePath: entry.declarations,
        bundledPackages: [],
        newlineKind: "lf",
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              module: "nodenext",
              moduleResolution: "nodenext",
              target: "es2023",
              strict: true,
              // The declarations name Node's global types (NodeJS.ProcessEnv).
              types: ["node"],
            },
            files: [entry.declarations],
          },
        },
        apiReport: {
          enabled: true,
          reportFolder: API_REPORT_DIR,
          reportTempFolder: temp,
          reportFileName: entry.reportName,
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          // Release tags (@public, @beta) are not how this project marks its API: index.ts is.
          extractorMessageReporting: { "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None } },
          tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        },
      },
      configObjectFullPath: join(pkg.dir, "api-extractor.json"),
      packageJsonFullPath: join(pkg.dir, "package.json"),
    });
    const problems: string[] = [];
    const result = Extractor.invoke(config, {
      localBuild: update,
      messageCallback: (message: ExtractorMessage) => {
        // Not its console notices (report created, changed): `changed` says that.
        const notice = message.messageId.startsWith("console-");
        if (!notice && (message.logLevel === "error" || message.logLevel === "warning")) {
          problems.push(`${message.messageId}: ${message.text}`);
        }
        message.handled = true;
      },
    });
    return {
      ...entry,
      changed: result.apiReportChanged,
      reportFile: join(API_REPORT_DIR, `${entry.reportName}.api.md`),
      problems,
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
