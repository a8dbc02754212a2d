/**
 * The EC2 instance metadata service, IMDSv2 only (tokens required, as EKS nodes are configured):
 * a session token for a PUT, then the instance role's name and its credentials, the region and
 * the identity document. The SDK reaches it through AWS_EC2_METADATA_SERVICE_ENDPOINT, over plain
 * http, so it is served on the plain listener under the names it is dialled by.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json, text } from "../request.ts";
import type { AwsCredential, AwsCredentials } from "./_aws-credentials.ts";

/** IMDS's link-local names, and the emulator's own address the SDK is pointed at. */
export const imdsHosts = ["127.0.0.1", "169.254.169.254", "fd00:ec2::254"] as const;

const _maxTtlSeconds = 21600;
// Real instance credentials are valid for about 6 hours and replaced well before they expire.
const _credentialValidityMs = 6 * 3600_000;
const _refreshBeforeMs = 15 * 60_000;
const _instanceId = "i-0123456789abcdef0";

interface _Deps {
  emulator: Pick<Emulator, "route">;
  credentials: AwsCredentials;
  node: { accountId: string; region: string; role: string };
}

export interface Imds {
  /** The instance role's credentials now, issuing fresh ones when they are near expiry. */
  current(): AwsCredential;
}

export function installImds(deps: _Deps): Imds {
  const { emulator, node } = deps;
  const tokens = new Map<string, number>();
  const principalArn = `arn:aws:sts::${node.accountId}:assumed-role/${node.role}/${_instanceId}`;
  const issue = (expiresAt: Date, issueSecret?: (prefix: string) => string) =>
    deps.credentials.issue("imds", { accountId: node.accountId, principalArn, expiresAt }, issueSecret);
  let current = issue(new Date(Date.now() + _credentialValidityMs));
  const imds: Imds = {
    current() {
      if ((current.expiresAt?.getTime() ?? 0) - Date.now() < _refreshBeforeMs) {
        current = issue(new Date(Date.now() + _credentialValidityMs));
      }
      return current;
    },
  };

  emulator.route(
    { id: "imds.token", host: imdsHosts, method: "PUT", path: "/latest/api/token", scheme: "http" },
    (req, ctx) => {
      // IMDS refuses a token PUT that went through a proxy, so a token never leaves the instance.
      if (req.headers["x-forwarded-for"] !== undefined) return text(403, "Forbidden");
      const ttl = req.headers["x-aws-ec2-metadata-token-ttl-seconds"];
      const seconds = Number(ttl);
      if (typeof ttl !== "string" || !/^\d+$/.test(ttl) || seconds < 1 || seconds > _maxTtlSeconds) {
        return text(400, "Bad Request");
      }
      const token = ctx.issueSecret("imds-token-");
      tokens.set(token, ctx.expired ? Date.now() - 1000 : Date.now() + seconds * 1000);
      return text(200, token, { "x-aws-ec2-metadata-token-ttl-seconds": ttl });
    },
  );

  const authorized = (req: EmulatorRequest) => {
    const token = req.headers["x-aws-ec2-metadata-token"];
    const expires = typeof token === "string" ? tokens.get(token) : undefined;
    return expires !== undefined && expires > Date.now();
  };
  // IMDSv2 required: a request without a valid token is 401, which the SDK treats as "get a token".
  const unauthorized = () => text(401, "Unauthorized");

  emulator.route(
    {
      id: "imds.credentials",
      host: imdsHosts,
      method: "GET",
      path: /^\/latest\/meta-data\/iam\/security-credentials\/(?<role>[^/]*)$/,
      scheme: "http",
    },
    (req, ctx) => {
      if (!authorized(req)) return unauthorized();
      const role = ctx.params.role;
      if (role === "") return text(200, node.role);
      if (role !== node.role) return text(404, "Not Found");
      const credential = ctx.expired ? issue(new Date(Date.now() - 60_000), ctx.issueSecret) : imds.current();
      return json(200, {
        Code: "Success",
        LastUpdated: _isoSeconds(new Date()),
        Type: "AWS-HMAC",
        AccessKeyId: credential.accessKeyId,
        SecretAccessKey: credential.secretAccessKey,
        Token: credential.sessionToken,
        Expiration: _isoSeconds(credential.expiresAt as Date),
      });
    },
  );

  const metadata: Record<string, () => Reply> = {
    "/latest/meta-data/placement/region": () => text(200, node.region),
    "/latest/meta-data/placement/availability-zone": () => text(200, `${node.region}a`),
    "/latest/meta-data/instance-id": () => text(200, _instanceId),
    "/latest/dynamic/instance-identity/document": () =>
      json(200, {
        accountId: node.accountId,
        architecture: "x86_64",
        availabilityZone: `${node.region}a`,
        imageId: "ami-0123456789abcdef0",
        instanceId: _instanceId,
        instanceType: "m5.large",
        pendingTime: "2024-01-01T00:00:00Z",
        privateIp: "10.0.0.10",
        region: node.region,
        version: "2017-09-30",
      }),
  };
  emulator.route(
    {
      id: "imds.metadata",
      host: imdsHosts,
      method: "GET",
      path: /^\/latest\/(?:meta-data\/(?:placement\/region|placement\/availability-zone|instance-id)|dynamic\/instance-identity\/document)$/,
      scheme: "http",
    },
    (req) => (authorized(req) ? (metadata[req.path] as () => Reply)() : unauthorized()),
  );
  return imds;
}

function _isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
