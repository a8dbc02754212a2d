/**
 * Validation findings and their texts, worded as Kubernetes' `field.Error` and the kubelet's error
 * aggregate print them.
 */

import {
  CredentialProviderError,
  formatDurationNanos,
  parseDurationNanos,
} from "@kubelet-credential-provider/core";
import { goQuote as _goQuote } from "@kubelet-credential-provider/core/go";
import { _durationError } from "./_error-text.ts";

/** One validation finding, shaped like a Kubernetes `field.Error`. */
export interface ConfigIssue {
  /** Where, with list indices: `providers[0].matchImages[1]`. */
  path: string;
  type: "Required" | "Invalid" | "NotSupported" | "Duplicate" | "Forbidden";
  /** The offending value (Invalid, NotSupported, Duplicate). */
  value?: unknown;
  /** The detail after the value; empty where the kubelet gives none. */
  message: string;
  /** The file the issue is in, when it came from `loadConfig`. */
  file?: string;
}

/** Options for formatting issues. */
export interface FormatConfigIssueOptions {
  /** Print exactly what the kubelet prints: paths without list indices, and no file names. */
  kubelet?: boolean;
}

const _typeLabels: Record<ConfigIssue["type"], string> = {
  Required: "Required value",
  Invalid: "Invalid value",
  NotSupported: "Unsupported value",
  Duplicate: "Duplicate value",
  Forbidden: "Forbidden",
};

/**
 * Formats an issue as Kubernetes' `field.Error.Error()` does, e.g.
 * `providers[0].name: Invalid value: "a/b": provider name cannot contain '/'` or
 * `providers[1].name: Duplicate value: "p"`. The file is not included. With `kubelet: true` the
 * path loses its list indices (`providers.name`), which is the kubelet's own text.
 */
export function formatConfigIssue(issue: ConfigIssue, options: FormatConfigIssueOptions = {}): string {
  const path = options.kubelet ? issue.path.replace(/\[\d+\]/g, "") : issue.path;
  let body = _typeLabels[issue.type];
  // Go's ErrorBody prints no value for Required and Forbidden.
  if (issue.type !== "Required" && issue.type !== "Forbidden") {
    body += `: ${_goValue(issue.path, issue.value)}`;
  }
  if (issue.message !== "") body += `: ${issue.message}`;
  return `${path}: ${body}`;
}

/**
 * Formats several issues as the kubelet's error aggregate: one issue alone, more as
 * `[first, second]`, identical texts once. Without `kubelet: true`, an issue with a file is
 * prefixed with `file: `.
 */
export function formatConfigIssues(
  issues: readonly ConfigIssue[],
  options: FormatConfigIssueOptions = {},
): string {
  const texts = [
    ...new Set(
      issues.map((issue) => {
        const text = formatConfigIssue(issue, options);
        return issue.file !== undefined && !options.kubelet ? `${issue.file}: ${text}` : text;
      }),
    ),
  ];
  if (texts.length <= 1) return texts[0] ?? "";
  return `[${texts.join(", ")}]`;
}

/**
 * Throws when there are issues, as the kubelet refuses to start its plugins.
 *
 * @throws CredentialProviderError `CONFIG_INVALID`:
 *   `failed to validate credential provider config: <issues>` (see {@link formatConfigIssues}).
 */
export function assertNoConfigIssues(issues: readonly ConfigIssue[]): void {
  if (issues.length === 0) return;
  throw new CredentialProviderError(
    "CONFIG_INVALID",
    `failed to validate credential provider config: ${formatConfigIssues(issues)}`,
  );
}

// Go's %v for the value kinds that occur here.
function _goValue(path: string, value: unknown): string {
  if (typeof value === "string") {
    // *metav1.Duration is a fmt.Stringer, so Go prints Duration.String() unquoted: -1m0s.
    if (path.endsWith(".defaultCacheDuration") && _durationError(value) === undefined) {
      return formatDurationNanos(parseDurationNanos(value));
    }
    return _goQuote(value);
  }
  if (Array.isArray(value)) return `[]string{${value.map((v) => _goQuote(String(v))).join(", ")}}`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === undefined || value === null) return "null";
  return JSON.stringify(value);
}
