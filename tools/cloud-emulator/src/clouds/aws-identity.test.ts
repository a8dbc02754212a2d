/**
 * Where an AWS caller's credentials come from, emulated: STS AssumeRoleWithWebIdentity for a token
 * the test trusts, IMDSv2 for the instance role, and the node's static keys; each set signs ECR
 * calls, and each call is kept so a test can say which identity reached ECR.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ClientResponse, Emulator } from "../index.ts";
import { ecrTarget, startEmulator } from "../index.ts";
import type { AwsKeys } from "../testdata/aws-sigv4.ts";
import { callJson } from "../testdata/aws-sigv4.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ aws: { nodeRegion: "eu-west-1", imdsRole: "node-role" } });
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

const ecr = (keys: AwsKeys, region = "us-west-2") =>
  callJson(emulator, `api.ecr.${region}.amazonaws.com`, keys, { target: ecrTarget, region, service: "ecr" });

function assume(
  params: Record<string, string>,
  host = "sts.us-west-2.amazonaws.com",
): Promise<ClientResponse> {
  // As the SDK sends it: a form body, unsigned.
  const body = new URLSearchParams({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    ...params,
  }).toString();
  return emulator.request(`https://${host}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

const xmlValue = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];

function stsKeys(response: ClientResponse): AwsKeys & { expiration: string } {
  return {
    accessKeyId: xmlValue(response.body, "AccessKeyId") as string,
    secretAccessKey: xmlValue(response.body, "SecretAccessKey") as string,
    sessionToken: xmlValue(response.body, "SessionToken") as string,
    expiration: xmlValue(response.body, "Expiration") as string,
  };
}

function expectStsError(response: ClientResponse, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers["content-type"]).toBe("text/xml");
  expect(response.body).toMatch(
    new RegExp(
      `^<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\\s*<Error>\\s*<Type>Sender</Type>\\s*<Code>${code}</Code>\\s*<Message>[^<]+</Message>`,
    ),
  );
}

const role = "arn:aws:iam::210987654321:role/ecr-pull";

describe("STS AssumeRoleWithWebIdentity", () => {
  it("trades a trusted token for credentials of the role that sign ECR calls as that role", async () => {
    const token = emulator.aws.issueWebIdentityToken();
    expect(emulator.issued()).toContain(token);
    const response = await assume({
      RoleArn: role,
      RoleSessionName: "ecr-credential-provider",
      WebIdentityToken: token,
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/xml");
    expect(response.body).toMatch(
      /^<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/,
    );
    expect(xmlValue(response.body, "Arn")).toBe(
      "arn:aws:sts::210987654321:assumed-role/ecr-pull/ecr-credential-provider",
    );
    const keys = stsKeys(response);
    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(emulator.issued()).toEqual(expect.arrayContaining([keys.secretAccessKey, keys.sessionToken]));
    const validity = Date.parse(keys.expiration) - Date.now();
    expect(validity).toBeGreaterThan(3500_000);
    expect(validity).toBeLessThanOrEqual(3600_000);

    expect(emulator.aws.webIdentityCalls().at(-1)).toMatchObject({
      host: "sts.us-west-2.amazonaws.com",
      region: "us-west-2",
      roleArn: role,
      roleSessionName: "ecr-credential-provider",
      token,
      outcome: "ok",
      accessKeyId: keys.accessKeyId,
    });

    const token2 = await ecr(keys);
    expect(token2.status).toBe(200);
    const data = (token2.json() as { authorizationData: { proxyEndpoint: string }[] }).authorizationData[0];
    // The role's account, not the node's.
    expect(data?.proxyEndpoint).toBe("https://210987654321.dkr.ecr.us-west-2.amazonaws.com");
    expect(emulator.aws.authorizationTokenCalls().at(-1)).toMatchObject({
      source: "sts",
      accessKeyId: keys.accessKeyId,
      principalArn: "arn:aws:sts::210987654321:assumed-role/ecr-pull/ecr-credential-provider",
    });
  });

  it("requires the session token with STS credentials, and refuses them once expired", async () => {
    const token = emulator.aws.issueWebIdentityToken();
    const keys = stsKeys(await assume({ RoleArn: role, RoleSessionName: "s1", WebIdentityToken: token }));
    const { sessionToken: _, ...withoutToken } = keys;
    expect((await ecr(withoutToken)).status).toBe(403);
    expect((await ecr({ ...keys, sessionToken: `${keys.sessionToken}x` })).status).toBe(403);

    emulator.fault("sts.AssumeRoleWithWebIdentity", { kind: "expired", times: 1 });
    const expired = stsKeys(await assume({ RoleArn: role, RoleSessionName: "s1", WebIdentityToken: token }));
    expect(Date.parse(expired.expiration)).toBeLessThan(Date.now());
    const refused = await ecr(expired);
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual({
      __type: "ExpiredTokenException",
      message: "The security token included in the request is expired",
    });
  });

  it("refuses a token it was not told to trust, and a role the token is not for", async () => {
    const untrusted = await assume({
      RoleArn: role,
      RoleSessionName: "s1",
      WebIdentityToken: "eyJhbGciOi.untrusted",
    });
    expectStsError(untrusted, 400, "InvalidIdentityToken");
    expect(emulator.aws.webIdentityCalls().at(-1)).toMatchObject({
      token: "eyJhbGciOi.untrusted",
      outcome: "InvalidIdentityToken",
    });

    emulator.aws.trustWebIdentityToken("projected-sa-token", { roleArn: role });
    expect(
      (await assume({ RoleArn: role, RoleSessionName: "s1", WebIdentityToken: "projected-sa-token" })).status,
    ).toBe(200);
    const otherRole = await assume({
      RoleArn: "arn:aws:iam::210987654321:role/admin",
      RoleSessionName: "s1",
      WebIdentityToken: "projected-sa-token",
    });
    expectStsError(otherRole, 403, "AccessDenied");
  });

  it("validates its parameters as STS does", async () => {
    const token = emulator.aws.issueWebIdentityToken();
    expectStsError(
      await assume({ RoleArn: "ecr-pull", RoleSessionName: "s1", WebIdentityToken: token }),
      400,
      "ValidationError",
    );
    expectStsError(await assume({ RoleArn: role, WebIdentityToken: token }), 400, "ValidationError");
    expectStsError(
      await assume({ RoleArn: role, RoleSessionName: "has space", WebIdentityToken: token }),
      400,
      "ValidationError",
    );
    expectStsError(
      await assume({ RoleArn: role, RoleSessionName: "s1", WebIdentityToken: token, DurationSeconds: "60" }),
      400,
      "ValidationError",
    );
    // A China role at a commercial endpoint is another partition's resource.
    expectStsError(
      await assume({
        RoleArn: "arn:aws-cn:iam::210987654321:role/r",
        RoleSessionName: "s1",
        WebIdentityToken: token,
      }),
      400,
      "ValidationError",
    );
    expectStsError(
      await assume({ Action: "AssumeRole", RoleArn: role, RoleSessionName: "s1" }),
      400,
      "InvalidAction",
    );
  });

  it("serves the global, China, FIPS and dual-stack names, recording which was called", async () => {
    const token = emulator.aws.issueWebIdentityToken();
    for (const [host, region, arn] of [
      ["sts.amazonaws.com", "us-east-1", role],
      ["sts.cn-north-1.amazonaws.com.cn", "cn-north-1", "arn:aws-cn:iam::210987654321:role/ecr-pull"],
      ["sts-fips.us-east-2.amazonaws.com", "us-east-2", role],
      ["sts.eu-west-1.api.aws", "eu-west-1", role],
    ] as const) {
      const response = await assume({ RoleArn: arn, RoleSessionName: "s1", WebIdentityToken: token }, host);
      expect([host, response.status]).toEqual([host, 200]);
      expect(emulator.aws.webIdentityCalls().at(-1)).toMatchObject({ host, region });
    }
    expect(emulator.calls("sts.AssumeRoleWithWebIdentity")).toBeGreaterThanOrEqual(4);
  });
});

describe("IMDSv2", () => {
  const imds = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    emulator.request(`${emulator.aws.imdsEndpoint}${path}`, init);
  const sessionToken = async () => {
    const response = await imds("/latest/api/token", {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
    });
    expect(response.status).toBe(200);
    expect(response.headers["x-aws-ec2-metadata-token-ttl-seconds"]).toBe("21600");
    return response.body;
  };

  it("hands out the instance role's credentials for a session token, as the SDK asks", async () => {
    const token = await sessionToken();
    expect(emulator.issued()).toContain(token);
    const headers = { "x-aws-ec2-metadata-token": token };
    const roleName = await imds("/latest/meta-data/iam/security-credentials/", { headers });
    expect([roleName.status, roleName.body]).toEqual([200, "node-role"]);
    const credentials = await imds("/latest/meta-data/iam/security-credentials/node-role", { headers });
    expect(credentials.status).toBe(200);
    const body = credentials.json() as Record<string, string>;
    expect(body).toMatchObject({ Code: "Success", Type: "AWS-HMAC" });
    const current = emulator.aws.imdsCredentials();
    expect(body).toMatchObject({
      AccessKeyId: current.accessKeyId,
      SecretAccessKey: current.secretAccessKey,
      Token: current.sessionToken,
      Expiration: current.expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    expect(Date.parse(body.Expiration as string) - Date.now()).toBeGreaterThan(5 * 3600_000);

    const signed = await ecr(
      {
        accessKeyId: body.AccessKeyId as string,
        secretAccessKey: body.SecretAccessKey as string,
        sessionToken: body.Token as string,
      },
      "eu-west-1",
    );
    expect(signed.status).toBe(200);
    expect(emulator.aws.authorizationTokenCalls().at(-1)).toMatchObject({
      source: "imds",
      principalArn: "arn:aws:sts::123456789012:assumed-role/node-role/i-0123456789abcdef0",
    });
    expect(emulator.calls("imds.token")).toBeGreaterThanOrEqual(1);
    expect(emulator.calls("imds.credentials")).toBeGreaterThanOrEqual(2);
  });

  it("tells the region and identity document, and 404s another role", async () => {
    const headers = { "x-aws-ec2-metadata-token": await sessionToken() };
    expect((await imds("/latest/meta-data/placement/region", { headers })).body).toBe("eu-west-1");
    const document = (await imds("/latest/dynamic/instance-identity/document", { headers })).json();
    expect(document).toMatchObject({ accountId: "123456789012", region: "eu-west-1" });
    expect((await imds("/latest/meta-data/iam/security-credentials/admin", { headers })).status).toBe(404);
  });

  it("requires a token (IMDSv1 is off), a TTL to get one, and no proxy in between", async () => {
    expect((await imds("/latest/meta-data/iam/security-credentials/")).status).toBe(401);
    expect(
      (
        await imds("/latest/meta-data/iam/security-credentials/", {
          headers: { "x-aws-ec2-metadata-token": "forged" },
        })
      ).status,
    ).toBe(401);
    expect((await imds("/latest/meta-data/placement/region")).status).toBe(401);
    expect((await imds("/latest/api/token", { method: "PUT" })).status).toBe(400);
    expect(
      (
        await imds("/latest/api/token", {
          method: "PUT",
          headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21601" },
        })
      ).status,
    ).toBe(400);
    const proxied = await imds("/latest/api/token", {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60", "x-forwarded-for": "10.0.0.1" },
    });
    expect(proxied.status).toBe(403);
    expect((await imds("/latest/api/token")).status).toBe(405);
  });

  it("takes faults: an expired session token, and expired credentials ECR refuses", async () => {
    emulator.fault("imds.token", { kind: "expired", times: 1 });
    const stale = await sessionToken();
    expect(
      (
        await imds("/latest/meta-data/iam/security-credentials/", {
          headers: { "x-aws-ec2-metadata-token": stale },
        })
      ).status,
    ).toBe(401);

    emulator.fault("imds.credentials", { kind: "expired", times: 1 });
    const headers = { "x-aws-ec2-metadata-token": await sessionToken() };
    const body = (
      await imds("/latest/meta-data/iam/security-credentials/node-role", { headers })
    ).json() as Record<string, string>;
    expect(Date.parse(body.Expiration as string)).toBeLessThan(Date.now());
    const refused = await ecr({
      accessKeyId: body.AccessKeyId as string,
      secretAccessKey: body.SecretAccessKey as string,
      sessionToken: body.Token as string,
    });
    expect(refused.status).toBe(403);
    expect(String(refused.headers["x-amzn-errortype"])).toMatch(/^ExpiredTokenException:/);
    // The next call has fresh ones again.
    const fresh = (
      await imds("/latest/meta-data/iam/security-credentials/node-role", { headers })
    ).json() as Record<string, string>;
    expect(fresh.AccessKeyId).toBe(emulator.aws.imdsCredentials().accessKeyId);
  });
});

describe("the node's static keys", () => {
  it("are issued, the secret in the ledger, and offered as the SDK's environment", async () => {
    const keys = emulator.aws.nodeCredentials();
    expect(keys.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(emulator.issued()).toContain(keys.secretAccessKey);
    expect(emulator.issued()).not.toContain(keys.accessKeyId);
    expect(emulator.aws.credentialsEnv()).toEqual({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    expect(emulator.aws.imdsEnv()).toEqual({ AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.httpUrl });
    expect((await ecr(keys)).status).toBe(200);
    expect(emulator.aws.authorizationTokenCalls().at(-1)).toMatchObject({
      source: "static",
      principalArn: "arn:aws:iam::123456789012:user/node",
    });
  });
});
