/**
 * The real AWS SDK clients (aws.ts) and the node's credential chain, in process, on core's real
 * HTTP client (testdata/routed-http.ts): each request is recorded as the provider made it, with
 * its endpoint name, then sent to testdata/fake-aws.ts on 127.0.0.1. This checks what the fakes in
 * provider.test.ts cannot: that every request (ECR, ECR Public, STS, IMDS, the container endpoint,
 * the SDK's own STS clients) goes through the run's HttpClient, which endpoint each registry host
 * leads to, SigV4 scope, core's retries being the only ones, the size cap, and the errors as they
 * really arrive. test-e2e runs the same against the cloud emulator with the built executable.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredentialProviderRequest, ProviderContext } from "@kubelet-credential-provider/core";
import {
  API_VERSION_V1,
  createLogger,
  isCredentialProviderError,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeAws } from "../testdata/fake-aws.ts";
import { startFakeAws } from "../testdata/fake-aws.ts";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../testdata/fixtures.ts";
import { routedHttp } from "../testdata/routed-http.ts";
import { configuredEndpoint, createAwsClients } from "./aws.ts";
import { parseEcrHost } from "./hosts.ts";
import type { EcrFlags } from "./provider.ts";
import { createEcrProvider } from "./provider.ts";

let aws: FakeAws;
beforeAll(async () => {
  aws = await startFakeAws();
});
afterAll(async () => {
  await aws.close();
});
beforeEach(() => aws.reset());

const NODE_KEY = {
  AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
  AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey(),
};
// No file a developer's machine has: the chain must find what the test gives it, or nothing.
const NO_FILES = {
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  AWS_CONFIG_FILE: "/nonexistent/aws-config",
};
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-service-account.c2lnbmF0dXJl";
const ROLE = "arn:aws:iam::123456789012:role/ecr-pull";
const PRIVATE = "123456789012.dkr.ecr.us-west-2.amazonaws.com";

function run(
  image: string,
  options: {
    env?: Record<string, string>;
    extra?: Partial<CredentialProviderRequest>;
    flags?: Partial<ProviderContext<EcrFlags>["flags"]>;
    maxAttempts?: number;
  } = {},
) {
  const env = { ...NO_FILES, ...NODE_KEY, ...options.env };
  const provider = createEcrProvider({ clients: createAwsClients() });
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const controller = new AbortController();
  const log = createLogger({
    name: "ecr-credential-provider",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  const deadline = Date.now() + 50_000;
  const { http, calls } = routedHttp({
    target: aws.url,
    signal: controller.signal,
    deadline,
    log,
    secrets,
    env,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
  const request: CredentialProviderRequest = {
    kind: "CredentialProviderRequest",
    apiVersion: API_VERSION_V1,
    image,
    ...options.extra,
  };
  secrets.add(request.serviceAccountToken);
  const result = Promise.resolve(
    provider.getCredentials(request, {
      flags: {
        "registry-mirror": [],
        "role-arn-annotation": "eks.amazonaws.com/ecr-role-arn",
        ...options.flags,
      },
      positionals: [],
      signal: controller.signal,
      deadline,
      log,
      secrets,
      http,
      env,
    }),
  );
  return { result, lines, secrets, calls };
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isCredentialProviderError(error)) return error;
    throw error;
  }
  throw new Error("no error");
}

/** Only the credentials given by the environment (files, IMDS, container) are found. */
const withoutKeys = (env: Record<string, string>) => ({
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  ...env,
});
const imdsEnv = () => withoutKeys({ AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.url });
const throttling = {
  status: 400,
  body: JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }),
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "ecr-aws-"));
}

describe("every request goes through the run's HttpClient", () => {
  it.each([
    [PRIVATE, "api.ecr.us-west-2.amazonaws.com"],
    ["123456789012.dkr.ecr-fips.us-west-2.amazonaws.com", "api.ecr-fips.us-west-2.amazonaws.com"],
    ["123456789012.dkr-ecr.us-west-2.on.aws", "ecr.us-west-2.api.aws"],
    ["123456789012.dkr-ecr-fips.us-west-2.on.aws", "ecr-fips.us-west-2.api.aws"],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "api.ecr.cn-north-1.amazonaws.com.cn"],
    ["123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "api.ecr.us-gov-west-1.amazonaws.com"],
  ])("%s: GetAuthorizationToken at %s, named and signed for the host's region", async (registry, host) => {
    const { result, lines, calls } = run(`${registry}/team/app`);
    expect(await result).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: expect.stringMatching(/^(5h59m5\d|6h0m0)s$/),
      auth: { [registry]: { username: "AWS", password: aws.password } },
    });
    const region = parseEcrHost(registry)?.region;
    expect(calls.map(({ method, url, endpoint }) => ({ method, url, endpoint }))).toEqual([
      { method: "POST", url: `https://${host}/`, endpoint: `ECR GetAuthorizationToken (${region})` },
    ]);
    expect(calls[0]?.options.classify).toBeTypeOf("function");
    expect(aws.requests).toHaveLength(1);
    expect(aws.requests[0]).toMatchObject({
      host,
      target: "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
      body: "{}",
    });
    expect(aws.requests[0]?.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${NODE_KEY.AWS_ACCESS_KEY_ID}/\\d{8}/${region}/ecr/aws4_request, SignedHeaders=[^ ]*host[^ ]*, Signature=[0-9a-f]{64}$`,
      ),
    );
    const log = lines.join("");
    expect(log).toContain(`ECR GetAuthorizationToken (${region}): POST https://${host}/ (direct)`);
    expect(log).not.toContain(aws.password);
    expect(log).not.toContain(NODE_KEY.AWS_SECRET_ACCESS_KEY);
  });

  it("names the route through HTTPS_PROXY in the log", async () => {
    const { result, lines } = run(`${PRIVATE}/app`, {
      env: { HTTPS_PROXY: "http://proxy.corp.example:3128" },
    });
    await result;
    expect(lines.join("")).toContain(
      "ECR GetAuthorizationToken (us-west-2): POST https://api.ecr.us-west-2.amazonaws.com/ (through proxy proxy.corp.example:3128)",
    );
  });

  it("ECR Public: us-east-1, the ecr-public signing name", async () => {
    const { result, calls } = run("public.ecr.aws/docker/library/nginx");
    expect((await result).auth).toEqual({ "public.ecr.aws": { username: "AWS", password: aws.password } });
    expect(calls.map((c) => [c.url, c.endpoint])).toEqual([
      ["https://api.ecr-public.us-east-1.amazonaws.com/", "ECR Public GetAuthorizationToken (us-east-1)"],
    ]);
    expect(aws.requests[0]?.target).toBe("SpencerFrontendService.GetAuthorizationToken");
    expect(aws.requests[0]?.authorization).toMatch(/\/us-east-1\/ecr-public\/aws4_request, /);
  });

  it("service-account mode: unsigned AssumeRoleWithWebIdentity in the image's region, then ECR with the role", async () => {
    const { result, secrets, lines, calls } = run("123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app", {
      extra: {
        serviceAccountToken: SA_TOKEN,
        serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
      },
    });
    await result;
    expect(calls.map((c) => [c.url, c.endpoint])).toEqual([
      ["https://sts-fips.us-west-2.amazonaws.com/", "STS AssumeRoleWithWebIdentity (us-west-2)"],
      ["https://api.ecr-fips.us-west-2.amazonaws.com/", "ECR GetAuthorizationToken (us-west-2)"],
    ]);
    const [sts, ecr] = aws.requests;
    expect(sts?.authorization).toBe("");
    expect(Object.fromEntries(new URLSearchParams(sts?.body))).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      RoleArn: ROLE,
      RoleSessionName: "ecr-credential-provider",
      WebIdentityToken: SA_TOKEN,
    });
    expect(ecr?.authorization).toContain(`Credential=${aws.assumed.accessKeyId}/`);
    expect(ecr?.securityToken).toBe(aws.assumed.sessionToken);
    const log = lines.join("");
    for (const secret of [
      SA_TOKEN,
      aws.assumed.secretAccessKey,
      aws.assumed.sessionToken,
      aws.password,
      aws.token,
    ]) {
      expect(secrets.redact(secret)).toBe("[REDACTED]");
      expect(log).not.toContain(secret);
    }
  });

  it("the node's instance role: IMDS token, role and credentials, then ECR signed with them", async () => {
    const { result, calls, secrets, lines } = run(`${PRIVATE}/app`, { env: imdsEnv() });
    await result;
    expect(calls.map(({ method, url, endpoint }) => [method, url, endpoint])).toEqual([
      ["PUT", `${aws.url}/latest/api/token`, "IMDS token"],
      ["GET", `${aws.url}/latest/meta-data/iam/security-credentials/`, "IMDS instance role"],
      [
        "GET",
        `${aws.url}/latest/meta-data/iam/security-credentials/node-role`,
        "IMDS credentials (role node-role)",
      ],
      ["POST", "https://api.ecr.us-west-2.amazonaws.com/", "ECR GetAuthorizationToken (us-west-2)"],
    ]);
    expect(calls[0]?.options.headers).toEqual({ "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
    expect(aws.requests[3]?.authorization).toContain(`Credential=${aws.imds.accessKeyId}/`);
    expect(aws.requests[3]?.securityToken).toBe(aws.imds.sessionToken);
    const { secretAccessKey, sessionToken, sessionTokenFromPut } = aws.imds;
    for (const secret of [secretAccessKey, sessionToken, sessionTokenFromPut]) {
      expect(secrets.redact(secret)).toBe("[REDACTED]");
    }
    const log = lines.join("");
    expect(log).toContain("credentials: the node's, from IMDS (instance role node-role)");
    for (const secret of [secretAccessKey, sessionToken, sessionTokenFromPut])
      expect(log).not.toContain(secret);
  });

  it.each([
    [{}, "http://169.254.169.254/latest/api/token"],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" }, "http://[fd00:ec2::254]/latest/api/token"],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://10.1.2.3:8080" }, "http://10.1.2.3:8080/latest/api/token"],
  ])("IMDS is asked where %j says", async (env, url) => {
    const { result, calls } = run(`${PRIVATE}/app`, { env: withoutKeys(env) });
    await result;
    expect(calls[0]?.url).toBe(url);
  });

  it("the node's web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE): the SDK's STS client on the same path", async () => {
    const dir = tempDir();
    const token = "eyJhbGciOiJSUzI1NiJ9.node-web-identity.c2lnbmF0dXJl";
    writeFileSync(join(dir, "token"), `${token}\n`);
    const { result, calls, secrets } = run(`${PRIVATE}/app`, {
      env: withoutKeys({
        AWS_ROLE_ARN: ROLE,
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
        AWS_ROLE_SESSION_NAME: "node-session",
        AWS_EC2_METADATA_DISABLED: "true",
      }),
    });
    await result;
    expect(calls.map((c) => [c.url, c.endpoint])).toEqual([
      ["https://sts.us-west-2.amazonaws.com/", "STS AssumeRoleWithWebIdentity (us-west-2)"],
      ["https://api.ecr.us-west-2.amazonaws.com/", "ECR GetAuthorizationToken (us-west-2)"],
    ]);
    expect(Object.fromEntries(new URLSearchParams(aws.requests[0]?.body))).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: "node-session",
      WebIdentityToken: token,
    });
    expect(aws.requests[1]?.authorization).toContain(`Credential=${aws.assumed.accessKeyId}/`);
    expect(secrets.redact(token)).toBe("[REDACTED]");
  });

  it("a profile's role with a source profile: the SDK's AssumeRole client on the same path", async () => {
    const dir = tempDir();
    const baseKey = fakeAccessKeyId();
    writeFileSync(
      join(dir, "credentials"),
      `[base]\naws_access_key_id = ${baseKey}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`,
    );
    writeFileSync(join(dir, "config"), `[profile puller]\nrole_arn = ${ROLE}\nsource_profile = base\n`);
    const { result, calls } = run(`${PRIVATE}/app`, {
      env: withoutKeys({
        AWS_PROFILE: "puller",
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
        AWS_CONFIG_FILE: join(dir, "config"),
      }),
    });
    await result;
    expect(calls.map((c) => [c.url, c.endpoint])).toEqual([
      ["https://sts.us-west-2.amazonaws.com/", "STS AssumeRole (us-west-2)"],
      ["https://api.ecr.us-west-2.amazonaws.com/", "ECR GetAuthorizationToken (us-west-2)"],
    ]);
    expect(aws.requests[0]?.authorization).toContain(`Credential=${baseKey}/`);
    expect(aws.requests[1]?.authorization).toContain(`Credential=${aws.assumed.accessKeyId}/`);
  });

  it("a profile's role with credential_source = Ec2InstanceMetadata: IMDS and STS, both on the same path", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "config"),
      `[profile puller]\nrole_arn = ${ROLE}\ncredential_source = Ec2InstanceMetadata\nrole_session_name = node\n`,
    );
    const { result, calls } = run(`${PRIVATE}/app`, {
      env: { ...imdsEnv(), AWS_PROFILE: "puller", AWS_CONFIG_FILE: join(dir, "config") },
    });
    await result;
    expect(calls.map((c) => c.endpoint)).toEqual([
      "IMDS token",
      "IMDS instance role",
      "IMDS credentials (role node-role)",
      "STS AssumeRole (us-west-2)",
      "ECR GetAuthorizationToken (us-west-2)",
    ]);
    expect(aws.requests[3]?.authorization).toContain(`Credential=${aws.imds.accessKeyId}/`);
    expect(Object.fromEntries(new URLSearchParams(aws.requests[3]?.body))).toMatchObject({
      Action: "AssumeRole",
      RoleArn: ROLE,
      RoleSessionName: "node",
    });
    expect(aws.requests[4]?.authorization).toContain(`Credential=${aws.assumed.accessKeyId}/`);
  });

  it("credential_source = Ec2InstanceMetadata behind a source profile is refused, before any call", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "config"),
      `[profile puller]\nrole_arn = ${ROLE}\nsource_profile = node\n[profile node]\nrole_arn = ${ROLE}\ncredential_source = Ec2InstanceMetadata\n`,
    );
    const { result, calls } = run(`${PRIVATE}/app`, {
      env: { ...imdsEnv(), AWS_PROFILE: "puller", AWS_CONFIG_FILE: join(dir, "config") },
    });
    const error = await failure(result);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(
      /^AWS profile puller: its source profile node takes credentials from credential_source = Ec2InstanceMetadata/,
    );
    expect(calls).toEqual([]);
  });

  it.each([
    [
      "credential_source = EcsContainer without a container endpoint",
      { AWS_PROFILE: "puller" },
      "AWS profile puller takes credentials from credential_source = EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
    ],
    [
      "an unreadable AWS_WEB_IDENTITY_TOKEN_FILE",
      { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: "/nonexistent/token" },
      "AWS_WEB_IDENTITY_TOKEN_FILE /nonexistent/token cannot be read (ENOENT)",
    ],
  ])("%s is a configuration error, before any call", async (_, env, message) => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "config"),
      `[profile puller]\nrole_arn = ${ROLE}\ncredential_source = EcsContainer\n`,
    );
    const { result, calls } = run(`${PRIVATE}/app`, {
      env: withoutKeys({ AWS_CONFIG_FILE: join(dir, "config"), ...env }),
    });
    const error = await failure(result);
    expect({ code: error.code, message: error.message }).toEqual({ code: "CONFIG_INVALID", message });
    expect(calls).toEqual([]);
  });

  it("container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) with the token from its file", async () => {
    const dir = tempDir();
    const authorization = "fake-pod-identity-authorization-token-0123";
    writeFileSync(join(dir, "token"), authorization);
    const { result, calls, secrets } = run(`${PRIVATE}/app`, {
      env: withoutKeys({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${aws.url}/v2/credentials/pod`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, "token"),
      }),
    });
    await result;
    const host = new URL(aws.url).host;
    expect(calls.map((c) => [c.url, c.endpoint])).toEqual([
      [`${aws.url}/v2/credentials/pod`, `container credentials (${host})`],
      ["https://api.ecr.us-west-2.amazonaws.com/", "ECR GetAuthorizationToken (us-west-2)"],
    ]);
    expect(aws.requests[0]?.authorization).toBe(authorization);
    expect(aws.requests[1]?.authorization).toContain(`Credential=${aws.container.accessKeyId}/`);
    expect(secrets.redact(authorization)).toBe("[REDACTED]");
    expect(secrets.redact(aws.container.secretAccessKey)).toBe("[REDACTED]");
  });

  it("the node's credentials from a shared credentials file: no call but ECR's", async () => {
    const dir = tempDir();
    const key = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    writeFileSync(
      join(dir, "credentials"),
      `[node]\naws_access_key_id = ${key}\naws_secret_access_key = ${secret}\n`,
    );
    const { result, lines, secrets, calls } = run(`${PRIVATE}/app`, {
      env: withoutKeys({ AWS_PROFILE: "node", AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials") }),
    });
    await result;
    expect(calls.map((c) => c.endpoint)).toEqual(["ECR GetAuthorizationToken (us-west-2)"]);
    expect(aws.requests[0]?.authorization).toContain(`Credential=${key}/`);
    expect(lines.join("")).toContain("credentials: the node's, from AWS profile node (shared config files)");
    expect(secrets.redact(secret)).toBe("[REDACTED]");
  });

  it("AWS_ENDPOINT_URL_ECR replaces the endpoint, FIPS host or not", async () => {
    const { result, lines, calls } = run("123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app", {
      env: { AWS_ENDPOINT_URL_ECR: "https://ecr.internal.example:8443" },
    });
    await result;
    expect(calls.map((c) => c.url)).toEqual(["https://ecr.internal.example:8443/"]);
    expect(lines.join("")).toContain(
      "ECR: endpoint https://ecr.internal.example:8443 from AWS_ENDPOINT_URL_ECR (it replaces the FIPS/dual-stack endpoint)",
    );
  });
});

describe("core's retry policy is the only one", () => {
  it("ECR's 400 ThrottlingException is retried by core, one SDK attempt", async () => {
    aws.script("ecr", throttling, throttling);
    const { result, calls } = run(`${PRIVATE}/app`);
    expect((await result).auth).toBeDefined();
    expect(aws.requests).toHaveLength(3);
    expect(calls).toHaveLength(1);
  });

  it("so is a throttling code in x-amzn-errortype, and STS's <Code>Throttling</Code>", async () => {
    aws.script("ecr", {
      status: 400,
      headers: {
        "x-amzn-errortype":
          "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
      },
      body: "{}",
    });
    aws.script("sts", {
      status: 400,
      headers: { "content-type": "text/xml" },
      body: "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
    });
    const { result, calls } = run(`${PRIVATE}/app`, {
      extra: {
        serviceAccountToken: SA_TOKEN,
        serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
      },
    });
    await result;
    expect(aws.requests.map((r) => r.route)).toEqual(["sts", "sts", "ecr", "ecr"]);
    expect(calls).toHaveLength(2);
  });

  it("persistent throttling: one line naming the endpoint, the code, the status and the attempts", async () => {
    aws.script("ecr", throttling, throttling, throttling);
    const error = await failure(
      run("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", { maxAttempts: 3 }).result,
    );
    expect(error.code).toBe("CLOUD_THROTTLED");
    expect(error.message).toMatch(
      /^ECR GetAuthorizationToken \(us-east-1\) throttled \(ThrottlingException, HTTP 400\) for \d+ s \(3 attempts\)$/,
    );
  });

  it("persistent 503: CLOUD_UNAVAILABLE, no request id, no body", async () => {
    const unavailable = {
      status: 503,
      body: JSON.stringify({ __type: "ServerException", message: "Service unavailable" }),
    };
    aws.script("ecr", unavailable, unavailable, unavailable);
    const error = await failure(run(`${PRIVATE}/app`, { maxAttempts: 3 }).result);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toMatch(
      /^ECR GetAuthorizationToken \(us-west-2\) answered HTTP 503 for \d+ s \(3 attempts\)$/,
    );
  });

  it("a refusal: the AWS error code and the status, not AWS's message, no SDK link, no request id", async () => {
    aws.script("ecr", {
      status: 400,
      body: JSON.stringify({
        __type: "AccessDeniedException",
        message: "User is not authorized to perform: ecr:GetAuthorizationToken",
      }),
    });
    const { result, calls } = run(`${PRIVATE}/app`);
    const error = await failure(result);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "ECR GetAuthorizationToken (us-west-2) refused the call (AccessDeniedException, HTTP 400)",
    );
    expect(calls).toHaveLength(1);
    expect(aws.requests).toHaveLength(1);
  });

  it("a 200 the SDK cannot read: INVALID_RESPONSE naming ECR, never the body", async () => {
    aws.script("ecr", {
      status: 200,
      body: '{"authorizationData": [{"authorizationToken": "c2VjcmV0LXRva2Vu',
    });
    const error = await failure(run(`${PRIVATE}/app`).result);
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toBe(
      "ECR GetAuthorizationToken (us-west-2) answered HTTP 200 with a body that could not be read",
    );
  });

  it("a malformed token is CLOUD_AUTH_FAILED and stays secret", async () => {
    const bad = Buffer.from("no colon here at all").toString("base64");
    aws.script("ecr", {
      status: 200,
      body: JSON.stringify({ authorizationData: [{ authorizationToken: bad, expiresAt: 2e9 }] }),
    });
    const { result, secrets } = run(`${PRIVATE}/app`);
    const error = await failure(result);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).not.toContain(bad);
    expect(secrets.redact(bad)).toBe("[REDACTED]");
  });
});

describe("every answer is capped at 1 MiB", () => {
  const huge = { huge: 2 * 1024 * 1024 };
  it.each([
    ["ECR", "ecr", {}, "ECR GetAuthorizationToken (us-west-2)"],
    ["STS", "sts", { sa: true }, "STS AssumeRoleWithWebIdentity (us-west-2)"],
    ["IMDS", "imds.credentials", { imds: true }, "IMDS credentials (role node-role)"],
  ] as const)(
    "%s: a huge answer is INVALID_RESPONSE (too-large), not read to the end",
    async (_, route, how, endpoint) => {
      aws.script(route, huge);
      const options = {
        ...("imds" in how ? { env: imdsEnv() } : {}),
        ...("sa" in how
          ? {
              extra: {
                serviceAccountToken: SA_TOKEN,
                serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
              },
            }
          : {}),
      };
      const error = await failure(run(`${PRIVATE}/app`, options).result);
      expect(error.code).toBe("INVALID_RESPONSE");
      expect(error.message).toBe(`${endpoint} sent an answer larger than 1 MiB`);
    },
  );
});

describe("IMDS on core's client", () => {
  it.each([
    ["429", { status: 429, body: "" }],
    ["503", { status: 503, body: "" }],
    ["a reset connection", { reset: true as const }],
    ["a truncated answer", { truncated: true as const }],
  ])("one %s from the token endpoint is retried, not reported as no credentials", async (_, answer) => {
    aws.script("imds.token", answer);
    const { result } = run(`${PRIVATE}/app`, { env: imdsEnv() });
    expect((await result).auth).toBeDefined();
    expect(aws.requests.map((r) => r.route)).toEqual([
      "imds.token",
      "imds.token",
      "imds.role",
      "imds.credentials",
      "ecr",
    ]);
  });

  it("a truncated credentials answer is retried at once", async () => {
    aws.script("imds.credentials", { truncated: true });
    const { result } = run(`${PRIVATE}/app`, { env: imdsEnv() });
    expect((await result).auth).toBeDefined();
    expect(aws.requests.filter((r) => r.route === "imds.credentials")).toHaveLength(2);
  });

  it("a persistent IMDS failure is reported as what it is", async () => {
    aws.script("imds.token", { status: 503 }, { status: 503 }, { status: 503 });
    const error = await failure(run(`${PRIVATE}/app`, { env: imdsEnv(), maxAttempts: 3 }).result);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toMatch(/^IMDS token answered HTTP 503 for \d+ s \(3 attempts\)$/);
  });

  it("invalid JSON is a malformed answer naming IMDS, never quoting the body", async () => {
    const body = `{"Code": "Success", "AccessKeyId": "ASIAX", "SecretAccessKey": "${aws.imds.secretAccessKey}"`;
    aws.script("imds.credentials", { status: 200, body });
    const { result, lines } = run(`${PRIVATE}/app`, { env: imdsEnv() });
    const error = await failure(result);
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toBe(
      "IMDS credentials (role node-role) answered HTTP 200 with a body that is not JSON",
    );
    expect(lines.join("")).not.toContain(aws.imds.secretAccessKey);
  });

  it("credentials that have expired are a clear error, not an answer", async () => {
    aws.script("imds.credentials", {
      status: 200,
      body: JSON.stringify({
        Code: "Success",
        AccessKeyId: aws.imds.accessKeyId,
        SecretAccessKey: aws.imds.secretAccessKey,
        Token: aws.imds.sessionToken,
        Expiration: new Date(Date.now() - 60_000).toISOString(),
      }),
    });
    const error = await failure(run(`${PRIVATE}/app`, { env: imdsEnv() }).result);
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(
      /^IMDS credentials \(role node-role\) issued a credential that had already expired/,
    );
    expect(aws.requests.map((r) => r.route)).not.toContain("ecr");
  });

  it("a token refused with 405 falls back to IMDSv1; AWS_EC2_METADATA_V1_DISABLED forbids that", async () => {
    aws.script("imds.token", { status: 405 });
    aws.script("imds.role", { status: 200, body: "node-role" });
    aws.script("imds.credentials", {
      status: 200,
      body: JSON.stringify({
        AccessKeyId: aws.imds.accessKeyId,
        SecretAccessKey: aws.imds.secretAccessKey,
        Token: aws.imds.sessionToken,
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
      }),
    });
    const { result, calls } = run(`${PRIVATE}/app`, { env: imdsEnv() });
    await result;
    expect(calls[1]?.options.headers).toEqual({});

    aws.reset();
    aws.script("imds.token", { status: 403 });
    const error = await failure(
      run(`${PRIVATE}/app`, { env: { ...imdsEnv(), AWS_EC2_METADATA_V1_DISABLED: "true" } }).result,
    );
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "IMDS token answered HTTP 403 and the IMDSv1 fallback is off (AWS_EC2_METADATA_V1_DISABLED)",
    );
  });

  it('"no credentials" only when every source is absent: an instance without a role', async () => {
    aws.script("imds.role", { status: 404 });
    const error = await failure(run(`${PRIVATE}/app`, { env: imdsEnv() }).result);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toMatch(
      /^no AWS credentials for ECR GetAuthorizationToken \(us-west-2\): no AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY; no credentials in AWS profile default of the shared config files; no AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; the instance has no IAM role \(IMDS lists no instance profile\); give the node AWS credentials: /,
    );
  });

  it("AWS_EC2_METADATA_DISABLED: no IMDS call, and no credentials", async () => {
    const { result, calls } = run(`${PRIVATE}/app`, {
      env: withoutKeys({ AWS_EC2_METADATA_DISABLED: "true" }),
    });
    const error = await failure(result);
    expect(error.message).toContain("IMDS is off (AWS_EC2_METADATA_DISABLED)");
    expect(calls).toEqual([]);
  });

  it("an unusable AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is a configuration error", async () => {
    const error = await failure(
      run(`${PRIVATE}/app`, { env: withoutKeys({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv5" }) }).result,
    );
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe('AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is "IPv5"; use IPv4 or IPv6');
  });
});

describe("helpers", () => {
  it("reads AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL, unless told to ignore them", () => {
    const env = { AWS_ENDPOINT_URL: "https://all", AWS_ENDPOINT_URL_ECR_PUBLIC: "https://public" };
    expect(configuredEndpoint(env, "ECR PUBLIC")).toEqual({
      url: "https://public",
      from: "AWS_ENDPOINT_URL_ECR_PUBLIC",
    });
    expect(configuredEndpoint(env, "STS")).toEqual({ url: "https://all", from: "AWS_ENDPOINT_URL" });
    expect(
      configuredEndpoint({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, "ECR"),
    ).toBeUndefined();
    expect(configuredEndpoint({}, "ECR")).toBeUndefined();
  });
});
