/**
 * The AWS SDK's request handler, on core's one outbound path: every request an SDK client makes
 * (ECR, ECR Public, STS, and the STS/SSO clients the SDK's profile resolver builds) is sent by
 * the run's `HttpClient`, so core's timeouts, retry policy, proxy rules and size cap apply to it.
 * The SDK is given `maxAttempts: 1`: core's retries are the only ones.
 *
 * A retryable failure that core gives up on is thrown as core's `CloudCallError`; any other answer
 * (a 4xx the SDK turns into its service exception, a 200 it parses) is handed back to the SDK.
 * AWS says "throttled" with a 400 and an error code, which `classifyAwsAnswer` recognises so that
 * core retries it as it retries a 429.
 */
import { formatUrl } from "@aws-sdk/core/util";
import type { HttpResponse as CoreResponse, HttpClient, Logger } from "@kubelet-credential-provider/core";
import { CredentialProviderError, proxyForUrl } from "@kubelet-credential-provider/core";
import type { HttpHandler, HttpHandlerOptions } from "@smithy/core/protocols";
import type { HttpRequest } from "@smithy/core/transport";
import { HttpResponse } from "@smithy/core/transport";
import { classifyAwsAnswer } from "./aws-codes.ts";

/** Names a request for logs and errors: `ECR GetAuthorizationToken (us-west-2)`. */
export type EndpointNamer = (request: HttpRequest) => string;

export interface CoreHttpHandlerOptions {
  http: HttpClient;
  log: Logger;
  env: Readonly<Record<string, string | undefined>>;
  /** The endpoint's name; by default one made of the request (see `describeAwsRequest`). */
  endpoint?: EndpointNamer;
}

/** The SDK's request handler on `http`. One per client: it remembers the last endpoint it called. */
export class CoreHttpHandler implements HttpHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  /** The endpoint of the last request sent, to name the call an SDK error came from. */
  lastEndpoint: string | undefined;
  readonly #options: CoreHttpHandlerOptions;

  constructor(options: CoreHttpHandlerOptions) {
    this.#options = options;
  }

  async handle(request: HttpRequest, _options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
    const { http, log, env } = this.#options;
    const url = new URL(formatUrl(request));
    const endpoint = (this.#options.endpoint ?? describeAwsRequest)(request);
    this.lastEndpoint = endpoint;
    if (log.enabled(4))
      log.v(4, `${endpoint}: ${request.method} ${url.origin}${url.pathname} (${_route(url, env)})`);
    const answer = await http.request(url, {
      method: request.method,
      headers: _headers(request.headers),
      body: _body(request.body, endpoint),
      endpoint,
      classify: classifyAwsAnswer,
    });
    log.v(5, `${endpoint}: HTTP ${answer.status}`);
    return {
      response: new HttpResponse({
        statusCode: answer.status,
        headers: _flatHeaders(answer.headers),
        // A copy: the SDK re-types the body it is given, and core's buffer is core's.
        body: new Uint8Array(answer.body),
      }),
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/**
 * The endpoint of a request in words, from the request alone: the service from the host, the
 * operation from `x-amz-target` (JSON protocols) or the `Action` form field (query protocol), the
 * region from the host. For the clients the SDK builds itself (a profile's STS role).
 */
export function describeAwsRequest(request: HttpRequest): string {
  const host = request.hostname.toLowerCase();
  const labels = host.split(".");
  const first = (labels[0] === "api" ? labels[1] : labels[0]) ?? host;
  const name = first.replace(/-fips$/, "");
  const service = _SERVICE_NAMES[name] ?? name.toUpperCase();
  const region = labels.find((label) => /^[a-z]{2,}(?:-[a-z]+)+-\d+$/.test(label));
  return `${service} ${operationOf(request)} (${region ?? host})`;
}

// The first label of the hosts the SDK's clients call, as the services are named.
const _SERVICE_NAMES: Readonly<Record<string, string>> = {
  sts: "STS",
  portal: "SSO",
  oidc: "SSO OIDC",
  signin: "Sign-In",
  ecr: "ECR",
  "ecr-public": "ECR Public",
};

/** The operation a request calls: `GetAuthorizationToken`, `AssumeRoleWithWebIdentity`. */
export function operationOf(request: Pick<HttpRequest, "headers" | "body" | "method" | "path">): string {
  const target = Object.entries(request.headers).find(([name]) => name.toLowerCase() === "x-amz-target")?.[1];
  if (target) return target.slice(target.lastIndexOf(".") + 1);
  if (typeof request.body === "string") {
    const action = new URLSearchParams(request.body).get("Action");
    if (action && /^\w{1,64}$/.test(action)) return action;
  }
  return `${request.method} ${request.path}`;
}

function _headers(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Core computes the length of the body it sends.
    if (name.toLowerCase() !== "content-length") out[name.toLowerCase()] = value;
  }
  return out;
}

function _body(body: unknown, endpoint: string): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // The operations this provider calls send small JSON or form bodies, never a stream.
  throw new CredentialProviderError("INTERNAL", `${endpoint}: the AWS SDK gave a streaming request body`);
}

function _flatHeaders(headers: CoreResponse["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function _route(url: URL, env: Readonly<Record<string, string | undefined>>): string {
  try {
    const proxy = proxyForUrl(url, env);
    return proxy ? `through proxy ${proxy.host}` : "direct";
  } catch {
    return "through an invalid proxy setting";
  }
}
