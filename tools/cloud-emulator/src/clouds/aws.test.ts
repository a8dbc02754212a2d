/**
 * ECR and ECR Public as the AWS SDK meets them: GetAuthorizationToken under the real endpoint
 * names, signatures checked against the keys the emulator issued, AWS's error shapes, and tokens
 * the emulated registries accept at exactly the names they were issued for.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ClientResponse, Emulator } from "../index.ts";
import { ecrPublicTarget, ecrTarget, startEmulator } from "../index.ts";
import type { AwsKeys } from "../testdata/aws-sigv4.ts";
import { callJson, signV4 } from "../testdata/aws-sigv4.ts";
import { basicAuth, testdata } from "../testdata/helpers.ts";
import { ecrRegistryHostPattern } from "./_aws-hosts.ts";

let emulator: Emulator;
let node: AwsKeys;
beforeAll(async () => {
  emulator = await startEmulator();
  node = emulator.aws.nodeCredentials();
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

const ecr = (
  host: string,
  region: string,
  keys: AwsKeys = node,
  options: Partial<Parameters<typeof callJson>[3]> = {},
) => callJson(emulator, host, keys, { target: ecrTarget, region, service: "ecr", ...options });

interface _EcrAnswer {
  authorizationData: { authorizationToken: string; expiresAt: number; proxyEndpoint: string }[];
}

function decodeToken(token: string): { username: string; password: string } {
  const [username, password] = Buffer.from(token, "base64").toString("utf8").split(":");
  return { username: username as string, password: password as string };
}

function expectAwsError(response: ClientResponse, status: number, type: string, message?: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
  expect(String(response.headers["x-amzn-errortype"]).split(":")[0]).toBe(type);
  expect(response.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
  const body = response.json() as { __type: string; message: string };
  expect(body.__type).toBe(type);
  if (message) expect(body.message).toMatch(message);
}

const registryStatus = async (host: string, username: string, password: string) =>
  (
    await emulator.request(`https://${host}/v2/`, {
      headers: { authorization: basicAuth(username, password) },
    })
  ).status;

describe("ECR GetAuthorizationToken", () => {
  it("answers a signed call with a 12-hour AWS:password token for the caller's registry", async () => {
    const before = Date.now();
    const response = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2");
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
    const [data, ...rest] = (response.json() as _EcrAnswer).authorizationData;
    expect(rest).toEqual([]);
    const { username, password } = decodeToken(data?.authorizationToken as string);
    expect(username).toBe("AWS");
    expect(password).toMatch(/^ecr-pw-[0-9a-f]{24}$/);
    expect(emulator.issued()).toContain(password);
    expect(data?.proxyEndpoint).toBe("https://123456789012.dkr.ecr.us-west-2.amazonaws.com");
    const validity = (data?.expiresAt as number) * 1000 - before;
    expect(validity).toBeGreaterThan(43_190_000);
    expect(validity).toBeLessThanOrEqual(43_200_000 + 1000);
    expect(emulator.aws.authorizationTokenCalls("ecr").at(-1)).toMatchObject({
      host: "api.ecr.us-west-2.amazonaws.com",
      region: "us-west-2",
      partition: "aws",
      fips: false,
      dualStack: false,
      accessKeyId: node.accessKeyId,
      source: "static",
      outcome: "ok",
      registries: emulator.aws.registryHosts("us-west-2"),
    });
  });

  it("malforms exactly as many tokens as asked", async () => {
    emulator.aws.malformTokens(1);
    const token = async () =>
      Buffer.from(
        ((await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2")).json() as _EcrAnswer)
          .authorizationData[0]?.authorizationToken as string,
        "base64",
      ).toString("utf8");
    expect(await token()).toMatch(/^AWS-ecr-pw-[0-9a-f]{24}$/);
    expect(await token()).toMatch(/^AWS:ecr-pw-[0-9a-f]{24}$/);
  });

  it("registers the password for every registry name of that account and region, and no other", async () => {
    const response = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2");
    const { username, password } = decodeToken(
      (response.json() as _EcrAnswer).authorizationData[0]?.authorizationToken as string,
    );
    expect(emulator.aws.registryHosts("us-west-2")).toEqual([
      "123456789012.dkr.ecr.us-west-2.amazonaws.com",
      "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com",
      "123456789012.dkr-ecr.us-west-2.on.aws",
      "123456789012.dkr-ecr-fips.us-west-2.on.aws",
    ]);
    for (const host of emulator.aws.registryHosts("us-west-2")) {
      expect(await registryStatus(host, username, password)).toBe(200);
    }
    // Another account's registry, another region's, and a wrong user are refused with the challenge.
    for (const host of [
      "210987654321.dkr.ecr.us-west-2.amazonaws.com",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]) {
      const refused = await emulator.request(`https://${host}/v2/`, {
        headers: { authorization: basicAuth(username, password) },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers["www-authenticate"]).toBe(`Basic realm="${host}"`);
    }
    expect(await registryStatus("123456789012.dkr.ecr.us-west-2.amazonaws.com", "admin", password)).toBe(401);
  });

  it.each([
    [
      "FIPS",
      "api.ecr-fips.us-west-2.amazonaws.com",
      "us-west-2",
      true,
      false,
      "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com",
    ],
    [
      "dual-stack",
      "ecr.us-west-2.api.aws",
      "us-west-2",
      false,
      true,
      "123456789012.dkr-ecr.us-west-2.on.aws",
    ],
    [
      "dual-stack FIPS",
      "ecr-fips.us-west-2.api.aws",
      "us-west-2",
      true,
      true,
      "123456789012.dkr-ecr-fips.us-west-2.on.aws",
    ],
    [
      "China",
      "api.ecr.cn-north-1.amazonaws.com.cn",
      "cn-north-1",
      false,
      false,
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    ],
    [
      "China dual-stack",
      "ecr.cn-north-1.api.amazonwebservices.com.cn",
      "cn-north-1",
      false,
      true,
      "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
    ],
    [
      "GovCloud FIPS",
      "api.ecr-fips.us-gov-west-1.amazonaws.com",
      "us-gov-west-1",
      true,
      false,
      "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
    ],
    [
      "ISO",
      "api.ecr.us-iso-east-1.c2s.ic.gov",
      "us-iso-east-1",
      false,
      false,
      "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
    ],
  ])(
    "serves the %s endpoint and records the name it was called by",
    async (_kind, host, region, fips, dualStack, proxyHost) => {
      const response = await ecr(host, region);
      expect(response.status).toBe(200);
      const data = (response.json() as _EcrAnswer).authorizationData[0];
      expect(data?.proxyEndpoint).toBe(`https://${proxyHost}`);
      expect(new URL(emulator.requests("ecr.GetAuthorizationToken").at(-1)?.url as string).host).toBe(host);
      expect(emulator.aws.authorizationTokenCalls("ecr").at(-1)).toMatchObject({
        host,
        region,
        fips,
        dualStack,
      });
      const { username, password } = decodeToken(data?.authorizationToken as string);
      expect(await registryStatus(proxyHost, username, password)).toBe(200);
    },
  );

  it("serves no name the SDK would not resolve", async () => {
    // A region in another partition's suffix, and ECR's legacy name, are not endpoints.
    const wrongPartition = await ecr("api.ecr.cn-north-1.amazonaws.com", "cn-north-1");
    expect(wrongPartition.status).toBe(404);
    expect(wrongPartition.body).toContain("partition aws-cn, whose names end .amazonaws.com.cn");
    expect((await ecr("ecr.us-west-2.amazonaws.com", "us-west-2")).status).toBe(404);
    expect((await ecr("api.ecr.us-west-2.amazonaws.com.evil.example", "us-west-2")).status).toBe(404);
  });

  it("refuses a wrong signature, and records the canonical request it expected", async () => {
    const response = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", {
      ...node,
      secretAccessKey: `${node.secretAccessKey}x`,
    });
    expectAwsError(response, 403, "InvalidSignatureException", /does not match the signature you provided/);
    expect(String(response.headers["x-amzn-errortype"])).toBe(
      "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/",
    );
    const call = emulator.aws.authorizationTokenCalls("ecr").at(-1);
    expect(call).toMatchObject({ outcome: "InvalidSignatureException", accessKeyId: node.accessKeyId });
    expect(call?.source).toBeUndefined();
    expect(call?.canonicalRequest).toMatch(
      /^POST\n\/\n\ncontent-type:application\/x-amz-json-1.1\nhost:api.ecr.us-west-2.amazonaws.com\n/,
    );
  });

  it("refuses a signature whose scope names another region or service", async () => {
    const otherRegion = await ecr("api.ecr.us-west-2.amazonaws.com", "us-east-1");
    expectAwsError(
      otherRegion,
      403,
      "InvalidSignatureException",
      /scoped to a valid region, not 'us-east-1'/,
    );
    const otherService = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
      service: "ecr-public",
    });
    expectAwsError(otherService, 403, "InvalidSignatureException", /scoped to correct service: 'ecr'/);
  });

  it("refuses an unknown access key, a session token on static keys, no signature and a stale one", async () => {
    const unknown = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: node.secretAccessKey,
    });
    expectAwsError(
      unknown,
      403,
      "UnrecognizedClientException",
      /security token included in the request is invalid/,
    );
    const withToken = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", {
      ...node,
      sessionToken: "x",
    });
    expectAwsError(withToken, 403, "UnrecognizedClientException");

    const unsigned = await emulator.request("https://api.ecr.us-west-2.amazonaws.com/", {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": ecrTarget },
      body: "{}",
    });
    expectAwsError(unsigned, 403, "MissingAuthenticationTokenException", /^Missing Authentication Token$/);

    const stale = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
      date: new Date(Date.now() - 16 * 60_000),
    });
    expectAwsError(
      stale,
      403,
      "InvalidSignatureException",
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    );
    const early = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
      date: new Date(Date.now() + 16 * 60_000),
    });
    expectAwsError(early, 403, "InvalidSignatureException", /^Signature not yet current/);
    // Within the 15 minutes either way is fine, as a node's clock may drift.
    expect(
      (
        await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
          date: new Date(Date.now() - 10 * 60_000),
        })
      ).status,
    ).toBe(200);
  });

  it("requires the signature to cover host and X-Amz-Date, and the operation to be named", async () => {
    const url = "https://api.ecr.us-west-2.amazonaws.com/";
    const headers = signV4(node, {
      method: "POST",
      url,
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": ecrTarget },
      body: "{}",
      region: "us-west-2",
      service: "ecr",
    });
    const withoutHost = {
      ...headers,
      authorization: String(headers.authorization).replace(
        "SignedHeaders=content-type;host;",
        "SignedHeaders=content-type;",
      ),
    };
    const incomplete = await emulator.request(url, { method: "POST", headers: withoutHost, body: "{}" });
    expectAwsError(incomplete, 400, "IncompleteSignatureException", /'Host' must be a 'SignedHeader'/);

    const noTarget = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, { target: "" });
    expectAwsError(noTarget, 400, "UnknownOperationException");
    const otherTarget = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
      target: "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
    });
    expectAwsError(otherTarget, 400, "UnknownOperationException", /only .*GetAuthorizationToken is emulated/);
    const json = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2", node, {
      headers: { "content-type": "application/json" },
    });
    expectAwsError(json, 400, "SerializationException");
  });

  it("issues a token per account named in registryIds", async () => {
    const response = await ecr("api.ecr.eu-central-1.amazonaws.com", "eu-central-1", node, {
      body: JSON.stringify({ registryIds: ["210987654321", "123456789012"] }),
    });
    expect(response.status).toBe(200);
    const data = (response.json() as _EcrAnswer).authorizationData;
    expect(data.map((d) => d.proxyEndpoint)).toEqual([
      "https://210987654321.dkr.ecr.eu-central-1.amazonaws.com",
      "https://123456789012.dkr.ecr.eu-central-1.amazonaws.com",
    ]);
    const first = decodeToken(data[0]?.authorizationToken as string);
    expect(
      await registryStatus("210987654321.dkr.ecr.eu-central-1.amazonaws.com", "AWS", first.password),
    ).toBe(200);
    expect(
      await registryStatus("123456789012.dkr.ecr.eu-central-1.amazonaws.com", "AWS", first.password),
    ).toBe(401);
    const bad = await ecr("api.ecr.eu-central-1.amazonaws.com", "eu-central-1", node, {
      body: JSON.stringify({ registryIds: ["12345"] }),
    });
    expectAwsError(bad, 400, "InvalidParameterException");
  });

  it("takes faults per endpoint id: expired hands out a token already past, which the registry refuses", async () => {
    emulator.fault("ecr.GetAuthorizationToken", { kind: "expired", times: 1 });
    const response = await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2");
    expect(response.status).toBe(200);
    const data = (response.json() as _EcrAnswer).authorizationData[0];
    expect((data?.expiresAt as number) * 1000).toBeLessThan(Date.now());
    const { username, password } = decodeToken(data?.authorizationToken as string);
    expect(await registryStatus("123456789012.dkr.ecr.us-west-2.amazonaws.com", username, password)).toBe(
      401,
    );

    emulator.fault("ecr.GetAuthorizationToken", {
      kind: "status",
      status: 400,
      body: '{"__type":"ThrottlingException"}',
      times: 1,
    });
    expect((await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2")).status).toBe(400);
    expect((await ecr("api.ecr.us-west-2.amazonaws.com", "us-west-2")).status).toBe(200);
  });
});

describe("ECR Public GetAuthorizationToken", () => {
  const ecrPublic = (host: string, options: Partial<Parameters<typeof callJson>[3]> = {}) =>
    callJson(emulator, host, node, {
      target: ecrPublicTarget,
      region: "us-east-1",
      service: "ecr-public",
      ...options,
    });

  it("answers in us-east-1 with a token public.ecr.aws takes through its Bearer flow", async () => {
    const response = await ecrPublic("api.ecr-public.us-east-1.amazonaws.com");
    expect(response.status).toBe(200);
    const data = (response.json() as { authorizationData: { authorizationToken: string; expiresAt: number } })
      .authorizationData;
    expect(Object.keys(data).sort()).toEqual(["authorizationToken", "expiresAt"]);
    const { username, password } = decodeToken(data.authorizationToken);
    expect(username).toBe("AWS");
    expect(password).toMatch(/^ecr-public-pw-[0-9a-f]{24}$/);
    expect(emulator.aws.authorizationTokenCalls("ecr-public").at(-1)).toMatchObject({
      service: "ecr-public",
      region: "us-east-1",
      outcome: "ok",
      registries: ["public.ecr.aws", "ecr-public.aws.com"],
    });

    for (const host of ["public.ecr.aws", "ecr-public.aws.com"]) {
      const ping = await emulator.request(`https://${host}/v2/`);
      expect(ping.status).toBe(401);
      expect(ping.headers["www-authenticate"]).toBe(
        `Bearer realm="https://${host}/token/",service="${host}"`,
      );
      const token = await emulator.request(`https://${host}/token/?service=${host}&scope=aws`, {
        headers: { authorization: basicAuth(username, password) },
      });
      expect(token.status).toBe(200);
      const bearer = (token.json() as { token: string }).token;
      const v2 = await emulator.request(`https://${host}/v2/`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(v2.status).toBe(200);
    }
    // Not a private registry's password.
    expect(await registryStatus("123456789012.dkr.ecr.us-east-1.amazonaws.com", username, password)).toBe(
      401,
    );
  });

  it("serves the dual-stack name and nothing outside us-east-1", async () => {
    expect((await ecrPublic("ecr-public.us-east-1.api.aws")).status).toBe(200);
    expect(emulator.aws.authorizationTokenCalls("ecr-public").at(-1)).toMatchObject({ dualStack: true });
    expect((await ecrPublic("api.ecr-public.us-west-2.amazonaws.com", { region: "us-west-2" })).status).toBe(
      404,
    );
  });

  it("wants the ecr-public signing name and its own target", async () => {
    const asEcr = await ecrPublic("api.ecr-public.us-east-1.amazonaws.com", { service: "ecr" });
    expectAwsError(asEcr, 403, "InvalidSignatureException", /scoped to correct service: 'ecr-public'/);
    const ecrTargetThere = await ecrPublic("api.ecr-public.us-east-1.amazonaws.com", { target: ecrTarget });
    expectAwsError(ecrTargetThere, 400, "UnknownOperationException");
  });
});

describe("AWS registry names", () => {
  const vectors = JSON.parse(readFileSync(testdata("../../../../testdata/vectors/ecr.json"), "utf8")) as {
    privateHostMatch: { host: string; match: boolean }[];
    region: { host: string; region: string }[];
  };

  it("serves as an ECR registry exactly the private hosts the vectors match", () => {
    for (const { host, match } of vectors.privateHostMatch) {
      expect([host, ecrRegistryHostPattern.test(host)]).toEqual([host, match]);
    }
  });

  it("lists among an account's registry names every host of the vectors' regions", () => {
    for (const { host, region } of vectors.region) {
      const account = host.split(".")[0] as string;
      expect(emulator.aws.registryHosts(region, account)).toContain(host);
    }
  });

  it("builds endpoint names as the SDK does", () => {
    expect(emulator.aws.endpointHost("ecr", "us-west-2", { fips: true, dualStack: true })).toBe(
      "ecr-fips.us-west-2.api.aws",
    );
    expect(emulator.aws.endpointHost("ecr", "cn-north-1")).toBe("api.ecr.cn-north-1.amazonaws.com.cn");
    expect(emulator.aws.endpointHost("sts", "us-gov-west-1")).toBe("sts.us-gov-west-1.amazonaws.com");
    expect(emulator.aws.endpointHost("ecr-public", "us-east-1")).toBe(
      "api.ecr-public.us-east-1.amazonaws.com",
    );
  });
});
