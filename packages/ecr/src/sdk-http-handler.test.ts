/**
 * The SDK's request handler on core's HttpClient, with an injected client that records what it
 * is asked and answers what the test says: what the SDK's request becomes, what core's answer
 * becomes for the SDK, and which AWS answers core is told to retry.
 */
import type {
  HttpResponse as CoreResponse,
  HttpClient,
  HttpRequestOptions,
} from "@kubelet-credential-provider/core";
import { CloudCallError, createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { HttpRequest } from "@smithy/core/transport";
import { describe, expect, it } from "vitest";
import { awsErrorCode, classifyAwsAnswer } from "./aws-codes.ts";
import { CoreHttpHandler, describeAwsRequest } from "./sdk-http-handler.ts";

function answer(status: number, body: string, headers: Record<string, string | string[]> = {}): CoreResponse {
  const bytes = Buffer.from(body);
  return {
    status,
    headers,
    body: bytes,
    endpoint: "test",
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function recorder(reply: (url: URL, options: HttpRequestOptions) => Promise<CoreResponse>) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(input, options = {}) {
      const url = typeof input === "string" ? new URL(input) : input;
      calls.push({ url: url.href, options });
      return reply(url, options);
    },
  };
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const log = createLogger({
    name: "t",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  return { http, calls, log, lines };
}

const ecrRequest = () =>
  new HttpRequest({
    protocol: "https:",
    hostname: "api.ecr.us-west-2.amazonaws.com",
    port: undefined,
    method: "POST",
    path: "/",
    query: {},
    headers: {
      host: "api.ecr.us-west-2.amazonaws.com",
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
      "content-length": "2",
      authorization: "AWS4-HMAC-SHA256 Credential=AKIA/20250601/us-west-2/ecr/aws4_request",
    },
    body: "{}",
  });

describe("CoreHttpHandler", () => {
  it("sends the SDK's request through the HttpClient, named, with AWS's throttling classifier", async () => {
    const { http, calls, log, lines } = recorder(async () =>
      answer(200, '{"ok":true}', { "x-amzn-requestid": "r-1", "set-cookie": ["a=1", "b=2"] }),
    );
    const handler = new CoreHttpHandler({
      http,
      log,
      env: {},
      endpoint: () => "ECR GetAuthorizationToken (us-west-2)",
    });
    const { response } = await handler.handle(ecrRequest());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("https://api.ecr.us-west-2.amazonaws.com/");
    expect(calls[0]?.options).toMatchObject({
      method: "POST",
      endpoint: "ECR GetAuthorizationToken (us-west-2)",
      body: "{}",
      classify: classifyAwsAnswer,
      headers: {
        host: "api.ecr.us-west-2.amazonaws.com",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
        authorization: "AWS4-HMAC-SHA256 Credential=AKIA/20250601/us-west-2/ecr/aws4_request",
      },
    });
    // Core computes the length of what it sends; no per-attempt cap or attempt count is set here.
    expect(calls[0]?.options.headers).not.toHaveProperty("content-length");
    expect(calls[0]?.options).not.toHaveProperty("maxAttempts");
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ "x-amzn-requestid": "r-1", "set-cookie": "a=1, b=2" });
    expect(Buffer.from(response.body as Uint8Array).toString()).toBe('{"ok":true}');
    expect(handler.lastEndpoint).toBe("ECR GetAuthorizationToken (us-west-2)");
    expect(lines.join("")).toContain(
      "ECR GetAuthorizationToken (us-west-2): POST https://api.ecr.us-west-2.amazonaws.com/ (direct)",
    );
    expect(lines.join("")).not.toContain("AWS4-HMAC-SHA256");
  });

  it("hands a 4xx back to the SDK, and core's CloudCallError up, untouched", async () => {
    const refused = recorder(async () => answer(400, '{"__type":"AccessDeniedException"}'));
    const handler = new CoreHttpHandler({ http: refused.http, log: refused.log, env: {} });
    expect((await handler.handle(ecrRequest())).response.statusCode).toBe(400);

    const failure = new CloudCallError({
      endpoint: "x",
      fault: "server-error",
      detail: "answered HTTP 503",
      attempts: 9,
    });
    const failing = recorder(async () => {
      throw failure;
    });
    await expect(
      new CoreHttpHandler({ http: failing.http, log: failing.log, env: {} }).handle(ecrRequest()),
    ).rejects.toBe(failure);
  });

  it("builds the URL with the port and the query", async () => {
    const { http, calls, log } = recorder(async () => answer(200, ""));
    await new CoreHttpHandler({ http, log, env: {} }).handle(
      new HttpRequest({
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 8080,
        method: "GET",
        path: "/x",
        query: { a: "1", b: ["2", "3"] },
        headers: {},
      }),
    );
    expect(calls[0]?.url).toBe("http://127.0.0.1:8080/x?a=1&b=2&b=3");
  });

  it("refuses a streaming body rather than reading it outside core", async () => {
    const { http, log } = recorder(async () => answer(200, ""));
    const request = ecrRequest();
    request.body = { pipe() {} };
    await expect(new CoreHttpHandler({ http, log, env: {} }).handle(request)).rejects.toMatchObject({
      code: "INTERNAL",
    });
  });
});

describe("describeAwsRequest: the name of a request the SDK's own clients make", () => {
  it.each([
    [
      "sts.us-west-2.amazonaws.com",
      { "x-amz-target": "" },
      "Action=AssumeRole&Version=2011-06-15",
      "STS AssumeRole (us-west-2)",
    ],
    [
      "sts-fips.us-gov-west-1.amazonaws.com",
      {},
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
      "STS AssumeRoleWithWebIdentity (us-gov-west-1)",
    ],
    ["sts.amazonaws.com", {}, "Action=AssumeRole", "STS AssumeRole (sts.amazonaws.com)"],
    ["portal.sso.eu-west-1.amazonaws.com", {}, undefined, "SSO GET /federation/credentials (eu-west-1)"],
    [
      "api.ecr.us-west-2.amazonaws.com",
      { "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" },
      "{}",
      "ECR GetAuthorizationToken (us-west-2)",
    ],
  ])("%s → %s", (hostname, headers, body, expected) => {
    const request = new HttpRequest({
      protocol: "https:",
      hostname,
      method: body === undefined ? "GET" : "POST",
      path: body === undefined ? "/federation/credentials" : "/",
      headers: headers as Record<string, string>,
      ...(body === undefined ? {} : { body }),
    });
    expect(describeAwsRequest(request)).toBe(expected);
  });
});

describe("classifyAwsAnswer: which AWS answers core retries", () => {
  it.each([
    [
      "JSON __type",
      answer(400, '{"__type":"ThrottlingException","message":"Rate exceeded"}'),
      { fault: "throttled", cause: "ThrottlingException" },
    ],
    [
      "a namespaced __type",
      answer(400, '{"__type":"com.amazon.coral.availability#ThrottlingException"}'),
      { fault: "throttled", cause: "ThrottlingException" },
    ],
    [
      "x-amzn-errortype",
      answer(400, "{}", { "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/" }),
      { fault: "throttled", cause: "ThrottlingException" },
    ],
    [
      "STS query XML",
      answer(
        400,
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
      ),
      { fault: "throttled", cause: "Throttling" },
    ],
    [
      "TooManyRequestsException",
      answer(400, '{"__type":"TooManyRequestsException"}'),
      { fault: "throttled", cause: "TooManyRequestsException" },
    ],
    [
      "STS IDPCommunicationError",
      answer(400, "<ErrorResponse><Error><Code>IDPCommunicationError</Code></Error></ErrorResponse>"),
      { fault: "server-error", cause: "IDPCommunicationError" },
    ],
    ["access denied", answer(400, '{"__type":"AccessDeniedException"}'), undefined],
    ["a 403 without a code", answer(403, "Forbidden"), undefined],
    ["a 200 that mentions throttling", answer(200, '{"__type":"ThrottlingException"}'), undefined],
    ["a body that is not JSON", answer(400, "{not json"), undefined],
    ["a code that is not a code", answer(400, '{"__type":"Throttling Exception <script>"}'), undefined],
  ])("%s", (_, response, expected) => {
    expect(classifyAwsAnswer(response)).toEqual(expected);
  });

  it("reads the code the SDK would: header first, then the body", () => {
    expect(awsErrorCode(answer(400, '{"__type":"B"}', { "x-amzn-errortype": "A:http://x" }))).toBe("A");
    expect(awsErrorCode(answer(400, '{"code":"C"}'))).toBe("C");
    expect(awsErrorCode(answer(400, ""))).toBeUndefined();
  });
});
