/**
 * The wire shapes of AWS answers: JSON 1.1 (ECR, ECR Public) and the query protocol's XML (STS),
 * errors included, as the AWS SDK parses them: the error code from `x-amzn-ErrorType` or
 * `__type`, the request id from `x-amzn-RequestId`.
 */
import { randomUUID } from "node:crypto";
import type { Reply } from "../request.ts";

export const awsJsonContentType = "application/x-amz-json-1.1";

/** An AWS error, thrown by a check and turned into the protocol's error answer by the endpoint. */
export class AwsError extends Error {
  readonly status: number;
  readonly code: string;
  /** STS's `<Type>`: the caller's fault or AWS's. */
  readonly type: "Sender" | "Receiver";

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "AwsError";
    this.status = status;
    this.code = code;
    this.type = status >= 500 ? "Receiver" : "Sender";
  }
}

// Errors of the signature layer come from AWS's front end, which names them with this namespace;
// the SDK strips it, so a provider that reads the code must too.
const _authErrors = new Set([
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
  "InvalidSignatureException",
  "UnrecognizedClientException",
  "ExpiredTokenException",
]);
const _coralNamespace = ":http://internal.amazon.com/coral/com.amazon.coral.service/";

export function awsJson(value: unknown): Reply {
  return {
    status: 200,
    headers: { "content-type": awsJsonContentType, "x-amzn-requestid": randomUUID() },
    body: JSON.stringify(value),
  };
}

export function awsJsonError(error: AwsError): Reply {
  const errorType = _authErrors.has(error.code) ? `${error.code}${_coralNamespace}` : error.code;
  return {
    status: error.status,
    headers: {
      "content-type": awsJsonContentType,
      "x-amzn-requestid": randomUUID(),
      "x-amzn-errortype": errorType,
    },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

const _stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

/** `<ActionResponse><ActionResult>result</ActionResult><ResponseMetadata/></ActionResponse>`. */
export function stsXml(action: string, result: string): Reply {
  const requestId = randomUUID();
  return {
    status: 200,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body:
      `<${action}Response xmlns="${_stsNamespace}">\n` +
      `  <${action}Result>\n${result}  </${action}Result>\n` +
      `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
      `</${action}Response>\n`,
  };
}

export function stsXmlError(error: AwsError): Reply {
  const requestId = randomUUID();
  return {
    status: error.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body:
      `<ErrorResponse xmlns="${_stsNamespace}">\n` +
      `  <Error>\n    <Type>${error.type}</Type>\n    <Code>${xmlEscape(error.code)}</Code>\n` +
      `    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n` +
      `  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
  };
}

export function xmlEscape(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}
