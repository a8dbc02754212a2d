/**
 * AWS error codes, read from an answer the way the SDK's protocols read them, and which of them
 * mean "try again": AWS says "throttled" with a 400 and a code, which core retries only when
 * `classifyAwsAnswer` says so. No AWS SDK module is loaded here.
 */
import type { HttpResponse as CoreResponse } from "@kubelet-credential-provider/core";

/** AWS error codes that mean "slow down": the SDK's throttling list. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);

/** AWS error codes, answered with a 4xx, of a failure that the next attempt may not meet. */
const _TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "IDPCommunicationError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/**
 * Marks AWS's throttling answers retryable: a 4xx whose error code (the `x-amzn-errortype` header,
 * a JSON body's `__type` or `code`, a query/XML body's `<Code>`) is a throttling code, or one of
 * the few transient ones. Only a code from those lists is ever reported, never other body text.
 */
export function classifyAwsAnswer(
  response: CoreResponse,
): { fault: "throttled" | "server-error"; cause?: string } | undefined {
  if (response.status < 400 || response.status >= 500) return undefined;
  const code = awsErrorCode(response);
  if (code === undefined) return undefined;
  if (THROTTLING_CODES.has(code)) return { fault: "throttled", cause: code };
  if (_TRANSIENT_CODES.has(code)) return { fault: "server-error", cause: code };
  return undefined;
}

/** The AWS error code of an error answer, as the SDK's protocols read it; undefined if none. */
export function awsErrorCode(response: Pick<CoreResponse, "headers" | "body">): string | undefined {
  const header = response.headers["x-amzn-errortype"];
  const fromHeader = typeof header === "string" ? header : header?.[0];
  if (fromHeader) return _sanitizeCode(fromHeader);
  const text = Buffer.from(response.body).toString("utf8");
  if (text.trimStart().startsWith("{")) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      const type = json.__type ?? json.code ?? json.Code;
      return typeof type === "string" ? _sanitizeCode(type) : undefined;
    } catch {
      return undefined;
    }
  }
  const xml = /<Code>([^<]{1,128})<\/Code>/.exec(text);
  return xml?.[1] ? _sanitizeCode(xml[1]) : undefined;
}

/** `ThrottlingException:http://internal.amazon.com/…` and `com.amazonaws.ecr#ThrottlingException` → `ThrottlingException`. */
function _sanitizeCode(raw: string): string | undefined {
  const code = raw.split(":", 1)[0]?.split("#").pop()?.trim();
  return code && /^[A-Za-z][\w.]{0,127}$/.test(code) ? code : undefined;
}
