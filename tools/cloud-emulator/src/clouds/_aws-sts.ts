/**
 * STS AssumeRoleWithWebIdentity (query protocol, XML answer, unsigned as the real API is): trades
 * a web identity token the test said to trust for temporary credentials of the role, which then
 * sign calls to ECR. Every call is kept with the token and role that arrived.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { HttpError } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { AwsCredentials } from "./_aws-credentials.ts";
import { endpointHostPattern, parseEndpoint } from "./_aws-hosts.ts";
import { AwsError, stsXml, stsXmlError, xmlEscape } from "./_aws-protocols.ts";

export interface WebIdentityCall {
  /** The STS endpoint as addressed: regional, global, FIPS or dual-stack. */
  host: string;
  region: string;
  roleArn?: string;
  roleSessionName?: string;
  token?: string;
  durationSeconds?: number;
  /** `"ok"`, or the STS error code answered. */
  outcome: string;
  message?: string;
  /** Of the credentials issued. */
  accessKeyId?: string;
  expiresAt?: Date;
}

export interface TrustOptions {
  /** Only this role may be assumed with the token; any role by default. */
  roleArn?: string;
  /** STS's SubjectFromWebIdentityToken; default `system:serviceaccount:default:default`. */
  subject?: string;
}

interface _Deps {
  emulator: Pick<Emulator, "route">;
  credentials: AwsCredentials;
  calls: WebIdentityCall[];
  trusted: Map<string, TrustOptions>;
}

const _version = "2011-06-15";
// STS's own role ARN rule: a partition, an account, role/ and an optional path before the name.
const _roleArn =
  /^arn:(?<partition>aws[a-z-]*):iam::(?<account>\d{12}):role\/(?:[\w+=,.@-]+\/)*(?<name>[\w+=,.@-]{1,64})$/;

export function installSts(deps: _Deps): void {
  deps.emulator.route(
    { id: "sts.AssumeRoleWithWebIdentity", host: endpointHostPattern("sts"), method: "POST", path: "/" },
    (req, ctx) => _assumeRoleWithWebIdentity(deps, req, ctx),
  );
}

function _assumeRoleWithWebIdentity(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const endpoint = parseEndpoint("sts", req.host);
  if ("error" in endpoint) throw new HttpError(404, `cloud emulator: ${endpoint.error}`);
  // The query protocol takes its parameters from the form body, or from the URL as AWS also does.
  const params = req.body.trim() === "" ? req.query : req.form();
  const get = (name: string) => params.get(name) ?? undefined;
  const call: WebIdentityCall = { host: endpoint.host, region: endpoint.region, outcome: "pending" };
  for (const [field, name] of [
    ["roleArn", "RoleArn"],
    ["roleSessionName", "RoleSessionName"],
    ["token", "WebIdentityToken"],
  ] as const) {
    const value = get(name);
    if (value !== undefined) call[field] = value;
  }
  deps.calls.push(call);
  try {
    const action = get("Action");
    if (action !== "AssumeRoleWithWebIdentity" || get("Version") !== _version) {
      throw new AwsError(
        400,
        "InvalidAction",
        `Could not find operation ${action ?? "(none)"} for version ${get("Version") ?? "(none)"}`,
      );
    }
    const roleArn = _required(call.roleArn, "roleArn");
    const sessionName = _required(call.roleSessionName, "roleSessionName");
    const token = _required(call.token, "webIdentityToken");
    const role = _roleArn.exec(roleArn)?.groups;
    if (!role) throw new AwsError(400, "ValidationError", `Request ARN is invalid: ${roleArn}`);
    if (role.partition !== endpoint.partition) {
      throw new AwsError(
        400,
        "ValidationError",
        `Partition "${role.partition}" is not valid for resource "${roleArn}" at ${endpoint.host}`,
      );
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new AwsError(
        400,
        "ValidationError",
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    if (token.length < 4) {
      throw new AwsError(
        400,
        "ValidationError",
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4",
      );
    }
    const duration = _duration(get("DurationSeconds"));
    if (duration !== undefined) call.durationSeconds = duration;

    const trust = deps.trusted.get(token);
    if (!trust) {
      throw new AwsError(
        400,
        "InvalidIdentityToken",
        "The web identity token is not one the cloud emulator trusts (see emulator.aws.trustWebIdentityToken)",
      );
    }
    if (trust.roleArn !== undefined && trust.roleArn !== roleArn) {
      throw new AwsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    }

    const expiresAt = ctx.expired
      ? new Date(Date.now() - 60_000)
      : new Date(Date.now() + (duration ?? 3600) * 1000);
    const assumedArn = `arn:${role.partition}:sts::${role.account}:assumed-role/${role.name}/${sessionName}`;
    const credential = deps.credentials.issue(
      "sts",
      { accountId: role.account as string, principalArn: assumedArn, expiresAt },
      ctx.issueSecret,
    );
    call.accessKeyId = credential.accessKeyId;
    call.expiresAt = expiresAt;
    call.outcome = "ok";
    // Role ids start AROA; this one is derived from the role so repeated calls agree.
    const roleId = `AROA${Buffer.from(roleArn).toString("hex").toUpperCase().slice(-16)}`;
    return stsXml(
      "AssumeRoleWithWebIdentity",
      `    <SubjectFromWebIdentityToken>${xmlEscape(trust.subject ?? "system:serviceaccount:default:default")}</SubjectFromWebIdentityToken>\n` +
        "    <Audience>sts.amazonaws.com</Audience>\n" +
        "    <AssumedRoleUser>\n" +
        `      <Arn>${xmlEscape(assumedArn)}</Arn>\n` +
        `      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>\n` +
        "    </AssumedRoleUser>\n" +
        "    <Credentials>\n" +
        `      <AccessKeyId>${credential.accessKeyId}</AccessKeyId>\n` +
        `      <SecretAccessKey>${credential.secretAccessKey}</SecretAccessKey>\n` +
        `      <SessionToken>${credential.sessionToken}</SessionToken>\n` +
        `      <Expiration>${expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z")}</Expiration>\n` +
        "    </Credentials>\n",
    );
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return stsXmlError(error);
  }
}

function _required(value: string | undefined, member: string): string {
  if (value === undefined || value === "") {
    throw new AwsError(
      400,
      "ValidationError",
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function _duration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 900 || seconds > 43200) {
    throw new AwsError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
    );
  }
  return seconds;
}
