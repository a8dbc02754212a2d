/**
 * Values the tests share. AWS keys are made at run time, so that no string in the repository
 * looks like a real access key or secret to a scanner (or to a reader).
 */
import { randomInt } from "node:crypto";
import { CloudCallError } from "@kubelet-credential-provider/core";

const _UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const _ALPHANUMERIC = `${_UPPER_DIGITS}abcdefghijklmnopqrstuvwxyz`;

function _random(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** An access key ID of the AWS shape: `AKIA` (long-term) or `ASIA` (temporary) and 16 more. */
export function fakeAccessKeyId(prefix: "AKIA" | "ASIA" = "AKIA"): string {
  return `${prefix}${_random(16, _UPPER_DIGITS)}`;
}

/** A secret access key of the AWS shape: 40 characters, with a `/` and a `+` in it. */
export function fakeSecretAccessKey(): string {
  return `${_random(12, _ALPHANUMERIC)}/${_random(12, _ALPHANUMERIC)}+${_random(14, _ALPHANUMERIC)}`;
}

/** Throttling that outlasted core's retries, as core's HTTP client reports it. */
export function exhaustedThrottling(endpoint: string): CloudCallError {
  return new CloudCallError({
    endpoint,
    fault: "throttled",
    detail: "throttled (ThrottlingException, HTTP 400)",
    status: 400,
    cause: "ThrottlingException",
    attempts: 12,
    elapsedMs: 48_000,
  });
}
