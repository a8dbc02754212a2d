/**
 * `validate`: a CredentialProviderConfig file or directory, read and checked with every rule of the
 * kubelet (core's loadConfig: strict decoding, then validateConfig), each issue with its file and
 * field path.
 */

import type { CredentialProviderConfig } from "@kubelet-credential-provider/core";
import { formatConfigIssue, isCredentialProviderError, loadConfig } from "@kubelet-credential-provider/core";
import { messageOf } from "./text.ts";

/** What {@link validateConfigPath} found. */
export interface ValidationReport {
  valid: boolean;
  /** The config, when it decoded (it may still have issues). */
  config?: CredentialProviderConfig;
  /** The files read, in order. */
  files: string[];
  /** The issues, one line each: `FILE: PATH: TYPE: VALUE: DETAIL`, or why nothing could be read. */
  issues: string[];
}

/** Reads and validates a config file or directory as the kubelet does at start-up. Never rejects. */
export async function validateConfigPath(path: string): Promise<ValidationReport> {
  try {
    const loaded = await loadConfig(path);
    const issues = loaded.issues.map((issue) =>
      issue.file === undefined ? formatConfigIssue(issue) : `${issue.file}: ${formatConfigIssue(issue)}`,
    );
    return { valid: issues.length === 0, config: loaded.config, files: loaded.files, issues };
  } catch (error) {
    const message = isCredentialProviderError(error) ? error.message : messageOf(error);
    return { valid: false, files: [], issues: [message] };
  }
}

/** `valid: 2 providers from 1 file`. */
export function validSummary(report: ValidationReport): string {
  const providers = report.config?.providers.length ?? 0;
  const files = report.files.length;
  return `valid: ${providers} ${providers === 1 ? "provider" : "providers"} from ${files} ${files === 1 ? "file" : "files"}`;
}
