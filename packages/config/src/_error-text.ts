/** Error texts the config modules share. */

import { parseDurationNanos } from "@kubelet-credential-provider/core";

/** What Go's time.ParseDuration would fail `text` with, or undefined when it parses. */
export function _durationError(text: string): string | undefined {
  try {
    parseDurationNanos(text);
    return undefined;
  } catch (error) {
    return _messageOf(error);
  }
}

export function _messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
