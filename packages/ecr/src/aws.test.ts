/**
 * The real AWS SDK clients (aws.ts), in process, against testdata/fake-aws.ts on 127.0.0.1: the
 * way a node behind a proxy reaches AWS (HTTPS_PROXY, CONNECT to the real API host names, a CA of
 * our own). This checks the wiring the fakes in provider.test.ts cannot: which endpoint each
 * registry host leads to, that the proxy is used, SigV4 scope, retries, timeouts inside the
 * deadline, STS's query protocol, and the SDK's errors as they really arrive.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredentialProviderRequest, ProviderContext } from "@kubelet-credential-provider/core";
import {
  API_VERSION_V1,
  createHttpClient,
  createLogger,
  isCredentialProviderError,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeAws } from "../testdata/fake-aws.ts";
import { startFakeAws } from "../testdata/fake-aws.ts";
import { attemptTimeouts, configuredEndpoint, createAwsClients } from "./aws.ts";
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
beforeEach(() => {
  aws.requests.length = 0;
  aws.tunnels.length = 0;
  aws.script.length = 0;
});

const NODE_KEY = {
  AWS_ACCESS_KEY_ID: "AKIAFAKENODEKEY00001",
  AWS_SECRET_ACCESS_KEY: "fake/node+secret/key0123456789abcdefghij",
};
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-service-account.c2lnbmF0dXJl";
const ROLE = "arn:aws:iam::123456789012:role/ecr-pull";

function run(
  image: string,
  options: {
    env?: Record<string, string>;
    extra?: Partial<CredentialProviderRequest>;
    deadlineMs?: number;
    flags?: Partial<ProviderContext<EcrFlags>["flags"]>;
  } = {},
) {
  const env = { HTTPS_PROXY: aws.proxyUrl, ...NODE_KEY, ...options.env };
  const provider = createEcrProvider({ clients: createAwsClients({ agentOptions: { ca: aws.ca } }) });
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const controller = new AbortController();
  const log = createLogger({
    name: "ecr-credential-provider",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  const deadline = Date.now() + (options.deadlineMs ?? 50_000);
  const timer = setTimeout(() => controller.abort(new Error("deadline")), options.deadlineMs ?? 50_000);
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
      http: createHttpClient({ userAgent: "t", signal: controller.signal, log, secrets, env }),
      env,
    }),
  ).finally(() => clearTimeout(timer));
  return { result, lines, secrets };
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

const PASSWORD = "fake-ecr-password-0123456789abcdef";

describe("the AWS SDK clients, through HTTPS_PROXY", () => {
  it.each([
    ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "api.ecr.us-west-2.amazonaws.com"],
    ["123456789012.dkr.ecr-fips.us-west-2.amazonaws.com", "api.ecr-fips.us-west-2.amazonaws.com"],
    ["123456789012.dkr-ecr.us-west-2.on.aws", "ecr.us-west-2.api.aws"],
    ["123456789012.dkr-ecr-fips.us-west-2.on.aws", "ecr-fips.us-west-2.api.aws"],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "api.ecr.cn-north-1.amazonaws.com.cn"],
  ])("%s: GetAuthorizationToken at %s, signed for the host's region", async (registry, endpoint) => {
    const { result, lines } = run(`${registry}/team/app`);
    expect(await result).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: expect.stringMatching(/^(5h59m5\d|6h0m0)s$/),
      auth: { [registry]: { username: "AWS", password: PASSWORD } },
    });
    const region = parseEcrHost(registry)?.region;
    expect(aws.tunnels).toEqual([`${endpoint}:443`]);
    expect(aws.requests).toHaveLength(1);
    expect(aws.requests[0]).toMatchObject({
      host: endpoint,
      target: "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
      body: "{}",
    });
    expect(aws.requests[0]?.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${NODE_KEY.AWS_ACCESS_KEY_ID}/\\d{8}/${region}/ecr/aws4_request, SignedHeaders=[^ ]*host[^ ]*, Signature=[0-9a-f]{64}$`,
      ),
    );
    const log = lines.join("");
    expect(log).toContain(`attempt 1: POST https://${endpoint}/ (through proxy 127.0.0.1:`);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(NODE_KEY.AWS_SECRET_ACCESS_KEY);
  });

  it("ECR Public: us-east-1, the ecr-public signing name", async () => {
    const { result } = run("public.ecr.aws/docker/library/nginx");
    expect((await result).auth).toEqual({ "public.ecr.aws": { username: "AWS", password: PASSWORD } });
    expect(aws.tunnels).toEqual(["api.ecr-public.us-east-1.amazonaws.com:443"]);
    expect(aws.requests[0]?.target).toBe("SpencerFrontendService.GetAuthorizationToken");
    expect(aws.requests[0]?.authorization).toMatch(/\/us-east-1\/ecr-public\/aws4_request, /);
  });

  it("service-account mode: unsigned AssumeRoleWithWebIdentity in the image's region, then ECR with the role", async () => {
    const { result, secrets, lines } = run("123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app", {
      extra: {
        serviceAccountToken: SA_TOKEN,
        serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
      },
    });
    await result;
    expect(aws.tunnels).toEqual([
      "sts-fips.us-west-2.amazonaws.com:443",
      "api.ecr-fips.us-west-2.amazonaws.com:443",
    ]);
    const [sts, ecr] = aws.requests;
    expect(sts?.authorization).toBe("");
    const form = new URLSearchParams(sts?.body);
    expect(Object.fromEntries(form)).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      RoleArn: ROLE,
      RoleSessionName: "ecr-credential-provider",
      WebIdentityToken: SA_TOKEN,
    });
    expect(ecr?.authorization).toContain(`Credential=${aws.assumed.accessKeyId}/`);
    expect(ecr?.securityToken).toBe(aws.assumed.sessionToken);
    expect(secrets.redact(aws.assumed.secretAccessKey)).toBe("[REDACTED]");
    expect(secrets.redact(aws.assumed.sessionToken)).toBe("[REDACTED]");
    const log = lines.join("");
    for (const secret of [
      SA_TOKEN,
      aws.assumed.secretAccessKey,
      aws.assumed.sessionToken,
      PASSWORD,
      aws.token,
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it("the node's credentials from a shared credentials file, through the SDK's default chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ecr-aws-"));
    const secret = "fake/profile+secret/key0123456789abcdefgh";
    writeFileSync(
      join(dir, "credentials"),
      `[node]\naws_access_key_id = AKIAFAKEPROFILEKEY01\naws_secret_access_key = ${secret}\n`,
    );
    writeFileSync(join(dir, "config"), "");
    const { result, lines, secrets } = run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", {
      env: {
        AWS_ACCESS_KEY_ID: "",
        AWS_SECRET_ACCESS_KEY: "",
        AWS_PROFILE: "node",
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
        AWS_CONFIG_FILE: join(dir, "config"),
      },
    });
    await result;
    expect(aws.requests[0]?.authorization).toContain("Credential=AKIAFAKEPROFILEKEY01/");
    expect(lines.join("")).toMatch(
      /credentials: the node's, found by the default chain \(CREDENTIALS_PROFILE/,
    );
    expect(secrets.redact(secret)).toBe("[REDACTED]");
  });

  it("AWS_ENDPOINT_URL_ECR replaces the endpoint, FIPS host or not", async () => {
    const { result, lines } = run("123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app", {
      env: { AWS_ENDPOINT_URL_ECR: aws.directUrl },
    });
    expect(Object.keys((await result).auth ?? {})).toEqual([
      "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com",
    ]);
    expect(aws.tunnels).toEqual([]);
    expect(aws.requests[0]?.host).toBe(aws.directUrl.replace("https://", ""));
    expect(lines.join("")).toContain(
      `ECR: endpoint ${aws.directUrl} from AWS_ENDPOINT_URL_ECR (it replaces the FIPS/dual-stack endpoint)`,
    );
  });

  it("retries throttling in the SDK's standard mode, then succeeds", async () => {
    aws.script.push({
      status: 400,
      body: JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }),
    });
    const { result } = run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app");
    expect((await result).auth).toBeDefined();
    expect(aws.requests).toHaveLength(2);
  });

  it("gives up on a persistent 5xx after 3 attempts: CLOUD_UNAVAILABLE", async () => {
    for (let i = 0; i < 3; i++)
      aws.script.push({
        status: 503,
        body: JSON.stringify({ __type: "ServerException", message: "Service unavailable" }),
      });
    const error = await failure(run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app").result);
    expect(aws.requests).toHaveLength(3);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toBe(
      "ECR GetAuthorizationToken (us-west-2): ServerException: Service unavailable (HTTP 503, 3 attempts)",
    );
  });

  it("maps access denied, with no request id", async () => {
    aws.script.push({
      status: 400,
      body: JSON.stringify({
        __type: "AccessDeniedException",
        message: "User is not authorized to perform: ecr:GetAuthorizationToken",
      }),
    });
    const error = await failure(run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app").result);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "ECR GetAuthorizationToken (us-west-2): AccessDeniedException: User is not authorized to perform: ecr:GetAuthorizationToken (HTTP 400)",
    );
  });

  it("a malformed token is CLOUD_AUTH_FAILED and stays secret", async () => {
    const bad = Buffer.from("no colon here at all").toString("base64");
    aws.script.push({
      status: 200,
      body: JSON.stringify({ authorizationData: [{ authorizationToken: bad, expiresAt: 2e9 }] }),
    });
    const { result, secrets } = run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app");
    const error = await failure(result);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).not.toContain(bad);
    expect(secrets.redact(bad)).toBe("[REDACTED]");
  });

  it("a hanging endpoint fails with a clear error before the deadline", { timeout: 15_000 }, async () => {
    for (let i = 0; i < 3; i++) aws.script.push({ status: 0, body: "", hang: true });
    const started = Date.now();
    const error = await failure(
      run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", { deadlineMs: 5_000 }).result,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toMatch(
      /^ECR GetAuthorizationToken \(us-west-2\): no answer within 12\d\d ms \(3 attempts\)$/,
    );
  });

  it("a refused tunnel is retried, then CLOUD_UNAVAILABLE", async () => {
    const { result } = run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", {
      env: { HTTPS_PROXY: "http://127.0.0.1:1" },
    });
    const error = await failure(result);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toBe(
      "ECR GetAuthorizationToken (us-west-2): proxy 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (3 attempts)",
    );
  });

  it("an unusable HTTPS_PROXY is a configuration error", async () => {
    const error = await failure(
      run("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", {
        env: { HTTPS_PROXY: "socks5://127.0.0.1:1080" },
      }).result,
    );
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe("proxy scheme socks5 is not supported; use an http:// proxy");
  });
});

describe("helpers", () => {
  it("per-attempt timeouts fit three attempts in what is left of the deadline", () => {
    expect(attemptTimeouts(50_000, 0)).toEqual({ connectionTimeout: 5_000, requestTimeout: 10_000 });
    expect(attemptTimeouts(10_000, 0)).toEqual({ connectionTimeout: 2_500, requestTimeout: 2_500 });
    expect(attemptTimeouts(100, 0)).toEqual({ connectionTimeout: 1_000, requestTimeout: 1_000 });
  });

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
