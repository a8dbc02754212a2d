/**
 * ECR's and ECR Public's GetAuthorizationToken (JSON 1.1, SigV4), and the registries that accept
 * the passwords they hand out: ECR's for every registry name of that account in that region, ECR
 * Public's at public.ecr.aws and its dual-stack name.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { HttpError } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { AwsCredentials, CredentialSource } from "./_aws-credentials.ts";
import type { AwsEndpoint } from "./_aws-hosts.ts";
import {
  ecrPublicRegion,
  ecrPublicRegistryHosts,
  ecrRegistryHostPattern,
  ecrRegistryHosts,
  endpointHost,
  endpointHostPattern,
  parseEndpoint,
} from "./_aws-hosts.ts";
import { AwsError, awsJson, awsJsonContentType, awsJsonError } from "./_aws-protocols.ts";
import { parseAuthorization } from "./_sigv4.ts";

export const ecrTarget = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
export const ecrPublicTarget = "SpencerFrontendService.GetAuthorizationToken";

/** One GetAuthorizationToken call that reached a served endpoint, whatever its outcome. */
export interface AuthorizationTokenCall {
  service: "ecr" | "ecr-public";
  /** The endpoint's name as the client addressed it: shows FIPS and dual-stack were chosen. */
  host: string;
  region: string;
  partition: string;
  fips: boolean;
  dualStack: boolean;
  /** From the signature, when it could be read. */
  accessKeyId?: string;
  /** Once the signature checked out: whose issued credentials signed (node, instance role, STS). */
  source?: CredentialSource;
  principalArn?: string;
  /** `"ok"`, or the AWS error code answered. */
  outcome: string;
  message?: string;
  /** When only the signature was wrong: the canonical request the emulator signed, to compare. */
  canonicalRequest?: string;
  /** The registry names the issued password is good for. */
  registries: string[];
  expiresAt?: Date;
}

interface _Deps {
  emulator: Pick<Emulator, "route" | "registry">;
  credentials: AwsCredentials;
  calls: AuthorizationTokenCall[];
  /** Of each token from now on. */
  validitySeconds: () => number;
  /** True when the next token must be malformed (see AwsCloud.malformTokens); consumes one. */
  takeMalformed: () => boolean;
}

export function installEcr(deps: _Deps): void {
  const { emulator } = deps;
  emulator.route(
    { id: "ecr.GetAuthorizationToken", host: endpointHostPattern("ecr"), method: "POST", path: "/" },
    (req, ctx) => _operation(deps, "ecr", req, ctx),
  );
  // ECR Public's API lives in us-east-1 only, and has no FIPS names however the SDK spells them.
  emulator.route(
    {
      id: "ecr-public.GetAuthorizationToken",
      host: [
        endpointHost("ecr-public", ecrPublicRegion),
        endpointHost("ecr-public", ecrPublicRegion, { dualStack: true }),
      ],
      method: "POST",
      path: "/",
    },
    (req, ctx) => _operation(deps, "ecr-public", req, ctx),
  );
  emulator.registry.serve(ecrRegistryHostPattern, { scheme: "basic" });
  // public.ecr.aws challenges with Bearer; its token endpoint takes the token's AWS:password as
  // Basic, which is the registry module's bearer flow with the real realm path.
  for (const host of ecrPublicRegistryHosts)
    emulator.registry.serve(host, { scheme: "bearer", tokenPath: "/token/" });
}

function _operation(
  deps: _Deps,
  service: "ecr" | "ecr-public",
  req: EmulatorRequest,
  ctx: RouteContext,
): Reply {
  const endpoint = parseEndpoint(service, req.host);
  if ("error" in endpoint) throw new HttpError(404, `cloud emulator: ${endpoint.error}`);
  const call: AuthorizationTokenCall = {
    service,
    host: endpoint.host,
    region: endpoint.region,
    partition: endpoint.partition,
    fips: endpoint.fips,
    dualStack: endpoint.dualStack,
    outcome: "pending",
    registries: [],
  };
  deps.calls.push(call);
  try {
    const input = _jsonInput(req, service === "ecr" ? ecrTarget : ecrPublicTarget);
    // Kept even when the check fails: which key a refused call was signed with is what a test asks.
    const signedWith = parseAuthorization(String(req.headers.authorization ?? ""));
    if (!("error" in signedWith)) call.accessKeyId = signedWith.accessKeyId;
    const { credential } = deps.credentials.authenticate(
      req,
      { region: endpoint.region, service },
      ({ canonicalRequest }) => {
        call.canonicalRequest = canonicalRequest;
      },
    );
    Object.assign(call, { source: credential.source, principalArn: credential.principalArn });
    const expiresAt = ctx.expired
      ? new Date(Date.now() - 60_000)
      : new Date(Date.now() + deps.validitySeconds() * 1000);
    call.expiresAt = expiresAt;
    const reply =
      service === "ecr"
        ? _ecrToken(deps, endpoint, input, credential.accountId, expiresAt, ctx, call)
        : _ecrPublicToken(deps, expiresAt, ctx, call);
    call.outcome = "ok";
    return reply;
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return awsJsonError(error);
  }
}

function _ecrToken(
  deps: _Deps,
  endpoint: AwsEndpoint,
  input: Record<string, unknown>,
  callerAccount: string,
  expiresAt: Date,
  ctx: RouteContext,
  call: AuthorizationTokenCall,
): Reply {
  const { registryIds } = input;
  if (
    registryIds !== undefined &&
    !(
      Array.isArray(registryIds) &&
      registryIds.length > 0 &&
      registryIds.every((id) => typeof id === "string" && /^\d{12}$/.test(id))
    )
  ) {
    throw new AwsError(
      400,
      "InvalidParameterException",
      "registryIds must be a non-empty list of 12-digit account ids",
    );
  }
  const accounts = (registryIds as string[] | undefined) ?? [callerAccount];
  const authorizationData = accounts.map((account) => {
    const password = ctx.issueSecret("ecr-pw-");
    const hosts = ecrRegistryHosts(account, endpoint.region);
    for (const host of hosts) deps.emulator.registry.accept(host, "AWS", password, { expiresAt });
    call.registries.push(...hosts);
    return {
      authorizationToken: _encodeToken(password, deps),
      expiresAt: expiresAt.getTime() / 1000,
      proxyEndpoint: `https://${_proxyHost(hosts, endpoint)}`,
    };
  });
  return awsJson({ authorizationData });
}

// base64("AWS:<password>"), or, when a test asked for it, base64 of text without the colon: a
// well-formed answer whose token a provider must refuse to turn into credentials.
function _encodeToken(password: string, deps: _Deps): string {
  const text = deps.takeMalformed() ? `AWS-${password}` : `AWS:${password}`;
  return Buffer.from(text).toString("base64");
}

// The registry name of the endpoint's kind (hosts is ecrRegistryHosts' order): a FIPS endpoint
// points at the FIPS registry, a dual-stack one at the dual-stack registry where there is one.
function _proxyHost(hosts: string[], endpoint: AwsEndpoint): string {
  const index = (endpoint.fips ? 1 : 0) + (endpoint.dualStack && hosts.length > 2 ? 2 : 0);
  return hosts[index] ?? (hosts[0] as string);
}

function _ecrPublicToken(
  deps: _Deps,
  expiresAt: Date,
  ctx: RouteContext,
  call: AuthorizationTokenCall,
): Reply {
  const password = ctx.issueSecret("ecr-public-pw-");
  for (const host of ecrPublicRegistryHosts)
    deps.emulator.registry.accept(host, "AWS", password, { expiresAt });
  call.registries.push(...ecrPublicRegistryHosts);
  return awsJson({
    authorizationData: {
      authorizationToken: _encodeToken(password, deps),
      expiresAt: expiresAt.getTime() / 1000,
    },
  });
}

/** The JSON 1.1 envelope: the operation named by X-Amz-Target, a JSON object body. */
function _jsonInput(req: EmulatorRequest, target: string): Record<string, unknown> {
  const sent = req.headers["x-amz-target"];
  if (sent !== target) {
    throw new AwsError(
      400,
      "UnknownOperationException",
      sent === undefined
        ? "Missing X-Amz-Target"
        : `cloud emulator: only ${target} is emulated here, not ${sent}`,
    );
  }
  const contentType = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (contentType !== awsJsonContentType) {
    throw new AwsError(400, "SerializationException", `Content-Type must be ${awsJsonContentType}`);
  }
  if (req.body.trim() === "") return {};
  let input: unknown;
  try {
    input = JSON.parse(req.body);
  } catch {
    throw new AwsError(400, "SerializationException", "the request body is not JSON");
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new AwsError(400, "SerializationException", "the request body is not a JSON object");
  }
  return input as Record<string, unknown>;
}
