/**
 * Every endpoint id the default clouds register, with its cloud, the protocol it speaks and the
 * answer it throttles with: the matrix an adversarial suite iterates over, and what the `throttle`
 * fault and rate limits answer. An id not listed (a test's own route) throttles with a plain 429.
 */
import { randomUUID } from "node:crypto";
import { AwsError, awsJsonError, stsXmlError } from "./clouds/_aws-protocols.ts";
import type { Reply, Scheme } from "./request.ts";
import { json, text } from "./request.ts";

export type EndpointCloud = "aws" | "azure" | "google" | "example" | "registry";

/** The wire protocol of an endpoint's answers, errors included; it decides the throttle answer. */
export type EndpointProtocol =
  /** ECR, ECR Public: 400 `{"__type":"ThrottlingException"}` with `x-amzn-errortype`. */
  | "aws-json-1.1"
  /** STS: 400 `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>…`. */
  | "aws-query"
  /** EC2 IMDS: plain text; 429. */
  | "aws-imds"
  /** Entra ID: OAuth2 JSON errors; 429. */
  | "entra"
  /** Azure IMDS managed identity: JSON errors; 429. */
  | "azure-imds"
  /** OCI distribution (registries, ACR's exchange): `{"errors":[{"code":"TOOMANYREQUESTS"}]}`; 429. */
  | "oci-distribution"
  /** GCE metadata server: plain text, `Metadata-Flavor: Google` on every answer; 429. */
  | "gce-metadata"
  /** Google OAuth2 and STS: `{error, error_description}`; 429. */
  | "google-oauth2"
  /** Google APIs (IAM credentials): `{"error":{code, message, status: "RESOURCE_EXHAUSTED"}}`; 429. */
  | "google-api"
  /** Anything else: plain text; 429. */
  | "http";

export interface EmulatedEndpoint {
  /** For `calls()`, `requests()`, `fault()`, `rateLimit()` and `flaky()`. */
  id: string;
  cloud: EndpointCloud;
  schemes: readonly Scheme[];
  protocol: EndpointProtocol;
  /** The status of the endpoint's own throttling answer, and its error code when it has one. */
  throttle: { status: 400 | 429; code?: string };
  /** What the endpoint is, for a test's name. */
  title: string;
  /**
   * A request that reaches the endpoint through `emulator.request()` (an http URL goes to the plain
   * listener whatever its port): enough for a fault to apply, not a call the endpoint would grant.
   */
  sample: { method: string; url: string };
}

type _Sample = `${"GET" | "PUT" | "POST"} ${string}`;

const _sample = (sample: _Sample) => {
  const [method, url] = sample.split(" ") as [string, string];
  return { method, url };
};

const _aws = (
  id: string,
  protocol: "aws-json-1.1" | "aws-query" | "aws-imds",
  title: string,
  sample: _Sample,
): EmulatedEndpoint => ({
  id,
  cloud: "aws",
  schemes: protocol === "aws-imds" ? ["http"] : ["https"],
  protocol,
  throttle:
    protocol === "aws-json-1.1"
      ? { status: 400, code: "ThrottlingException" }
      : protocol === "aws-query"
        ? { status: 400, code: "Throttling" }
        : { status: 429 },
  title,
  sample: _sample(sample),
});

const _other = (
  id: string,
  cloud: EndpointCloud,
  schemes: readonly Scheme[],
  protocol: EndpointProtocol,
  title: string,
  sample: _Sample,
): EmulatedEndpoint => ({
  id,
  cloud,
  schemes,
  protocol,
  throttle: { status: 429, ...(_throttleCodes[protocol] ? { code: _throttleCodes[protocol] } : {}) },
  title,
  sample: _sample(sample),
});

const _throttleCodes: Partial<Record<EndpointProtocol, string>> = {
  entra: "temporarily_unavailable",
  "azure-imds": "too_many_requests",
  "oci-distribution": "TOOMANYREQUESTS",
  "google-oauth2": "rate_limit_exceeded",
  "google-api": "RESOURCE_EXHAUSTED",
};

export const emulatedEndpoints: readonly EmulatedEndpoint[] = [
  _aws("imds.token", "aws-imds", "EC2 IMDSv2 session token", "PUT http://169.254.169.254/latest/api/token"),
  _aws(
    "imds.credentials",
    "aws-imds",
    "EC2 IMDS instance role and its credentials",
    "GET http://169.254.169.254/latest/meta-data/iam/security-credentials/",
  ),
  _aws(
    "imds.metadata",
    "aws-imds",
    "EC2 IMDS region, zone, instance id, identity document",
    "GET http://169.254.169.254/latest/meta-data/placement/region",
  ),
  _aws(
    "ecr.GetAuthorizationToken",
    "aws-json-1.1",
    "ECR GetAuthorizationToken",
    "POST https://api.ecr.us-west-2.amazonaws.com/",
  ),
  _aws(
    "ecr-public.GetAuthorizationToken",
    "aws-json-1.1",
    "ECR Public GetAuthorizationToken",
    "POST https://api.ecr-public.us-east-1.amazonaws.com/",
  ),
  _aws(
    "sts.AssumeRoleWithWebIdentity",
    "aws-query",
    "STS AssumeRoleWithWebIdentity",
    "POST https://sts.us-west-2.amazonaws.com/",
  ),
  _other(
    "entra.token",
    "azure",
    ["https"],
    "entra",
    "Entra ID v2.0 token endpoint",
    "POST https://login.microsoftonline.com/common/oauth2/v2.0/token",
  ),
  _other(
    "entra.discovery",
    "azure",
    ["https"],
    "entra",
    "Entra ID instance discovery",
    "GET https://login.microsoftonline.com/common/discovery/instance",
  ),
  _other(
    "entra.openid",
    "azure",
    ["https"],
    "entra",
    "Entra ID OpenID configuration",
    "GET https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
  ),
  _other(
    "imds.identity",
    "azure",
    ["http"],
    "azure-imds",
    "Azure IMDS managed identity token",
    "GET http://169.254.169.254/metadata/identity/oauth2/token",
  ),
  _other(
    "aks.identityBindings",
    "azure",
    ["https"],
    "http",
    "AKS identity bindings token (POST / of the API server's name, at --ib-apiserver-ip)",
    "POST https://mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io/",
  ),
  _other(
    "acr.challenge",
    "azure",
    ["https"],
    "oci-distribution",
    "ACR login server /v2/ (the registry's challenge; also counted as registry.v2)",
    "GET https://myregistry.azurecr.io/v2/",
  ),
  _other(
    "acr.token",
    "azure",
    ["https"],
    "oci-distribution",
    "ACR login server /oauth2/token (also counted as registry.token)",
    "GET https://myregistry.azurecr.io/oauth2/token",
  ),
  _other(
    "acr.exchange",
    "azure",
    ["https"],
    "oci-distribution",
    "ACR /oauth2/exchange",
    "POST https://myregistry.azurecr.io/oauth2/exchange",
  ),
  _other(
    "gce.token",
    "google",
    ["http"],
    "gce-metadata",
    "GCE metadata service account token",
    "GET http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
  ),
  _other(
    "gce.attributes",
    "google",
    ["http"],
    "gce-metadata",
    "GCE metadata instance attributes",
    "GET http://metadata.google.internal/computeMetadata/v1/instance/attributes/",
  ),
  _other(
    "gce.metadata",
    "google",
    ["http"],
    "gce-metadata",
    "GCE metadata: ping, project, service accounts",
    "GET http://metadata.google.internal/computeMetadata/v1/project/project-id",
  ),
  _other(
    "google.oauth2",
    "google",
    ["https"],
    "google-oauth2",
    "Google OAuth2 token (JWT bearer grant)",
    "POST https://oauth2.googleapis.com/token",
  ),
  _other(
    "google.sts",
    "google",
    ["https"],
    "google-oauth2",
    "Google STS token exchange",
    "POST https://sts.googleapis.com/v1/token",
  ),
  _other(
    "google.iamcredentials",
    "google",
    ["https"],
    "google-api",
    "IAM credentials generateAccessToken",
    "POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@my-project.iam.gserviceaccount.com:generateAccessToken",
  ),
  _other(
    "google.dockercfg",
    "google",
    ["http", "https"],
    "http",
    "a dockercfg published for google-dockercfg-url",
    "GET http://127.0.0.1/cloud-emulator/google-dockercfg/0",
  ),
  _other(
    "example.token",
    "example",
    ["https"],
    "http",
    "Example registry token service",
    "POST https://auth.registry.example.com/token",
  ),
  _other(
    "registry.v2",
    "registry",
    ["https"],
    "oci-distribution",
    "every registry's /v2/ (Example, ECR, ECR Public, ACR, GCR, Artifact Registry)",
    "GET https://registry.example.com/v2/",
  ),
  _other(
    "registry.token",
    "registry",
    ["https"],
    "oci-distribution",
    "every bearer registry's token endpoint",
    "GET https://registry.example.com/oauth2/token",
  ),
];

const _byId = new Map(emulatedEndpoints.map((endpoint) => [endpoint.id, endpoint]));

/** The endpoint's entry: of the first of `ids` (alias, then id) listed. */
export function endpointInfo(...ids: string[]): EmulatedEndpoint | undefined {
  for (const id of ids) {
    const endpoint = _byId.get(id);
    if (endpoint) return endpoint;
  }
  return undefined;
}

const _gceFlavor = { "metadata-flavor": "Google", server: "Metadata Server for VM" };
const _message = "Rate exceeded";

/**
 * Headers every answer of the endpoint carries, injected faults included: the metadata server's
 * `Metadata-Flavor: Google` (a client refuses an answer without it, so a fault without it would
 * test that refusal instead of the fault).
 */
export function endpointHeaders(ids: readonly string[]): Record<string, string> {
  return endpointInfo(...ids)?.protocol === "gce-metadata" ? { ..._gceFlavor } : {};
}

/** The endpoint's own throttling answer, with Retry-After when given. */
export function throttleReply(ids: readonly string[], retryAfter?: number): Reply {
  const endpoint = endpointInfo(...ids);
  const reply = _throttle(endpoint?.protocol ?? "http", endpoint?.id ?? ids[0] ?? "");
  if (retryAfter === undefined) return reply;
  return { ...reply, headers: { ...reply.headers, "retry-after": String(retryAfter) } };
}

function _throttle(protocol: EndpointProtocol, id: string): Reply {
  switch (protocol) {
    case "aws-json-1.1":
      return awsJsonError(new AwsError(400, "ThrottlingException", _message));
    case "aws-query":
      return stsXmlError(new AwsError(400, "Throttling", _message));
    case "entra":
      return json(429, {
        error: "temporarily_unavailable",
        error_description: `AADSTS90055: TenantThrottlingError - There are too many incoming requests. Trace ID: ${randomUUID()}`,
        error_codes: [90055],
      });
    case "azure-imds":
      return json(429, { error: "too_many_requests", error_description: "Too many requests" });
    case "oci-distribution":
      return json(
        429,
        { errors: [{ code: "TOOMANYREQUESTS", message: "too many requests", detail: null }] },
        { "docker-distribution-api-version": "registry/2.0" },
      );
    case "gce-metadata":
      return text(429, "Too Many Requests\n", _gceFlavor);
    case "google-oauth2":
      return json(429, { error: "rate_limit_exceeded", error_description: _message });
    case "google-api":
      return json(429, {
        error: { code: 429, message: `Quota exceeded for ${id}.`, status: "RESOURCE_EXHAUSTED" },
      });
    case "aws-imds":
    case "http":
      return text(429, "Too Many Requests\n");
  }
}
