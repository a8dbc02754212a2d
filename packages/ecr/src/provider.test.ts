/**
 * The provider as a library, with fake cloud clients: no network, no process. (aws.test.ts runs
 * the real AWS SDK clients against a local server; test-e2e runs the built executable.)
 */
import { readFileSync } from "node:fs";
import type { ProviderContext } from "@kubelet-credential-provider/core";
import {
  API_VERSION_V1,
  apiVersions,
  CloudCallError,
  CredentialProviderError,
  createHttpClient,
  createLogger,
  SecretRegistry,
  versionLine,
} from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { execProvider, requestRunner } from "../../core/testdata/provider-runs.ts";
import { exhaustedThrottling, fakeAccessKeyId, fakeSecretAccessKey } from "../testdata/fixtures.ts";
import type {
  AssumeRoleRequest,
  AuthorizationToken,
  AwsCredentials,
  EcrClients,
  TokenRequest,
} from "./clients.ts";
import type { EcrFlags } from "./provider.ts";
import { createEcrProvider, provider as defaultProvider, VERSION } from "./provider.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const PASSWORD = "eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtMDEyMzQ1Njc4OSJ9";
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString("base64");
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50.c2lnbmF0dXJl";
const ASSUMED: AwsCredentials = {
  accessKeyId: fakeAccessKeyId("ASIA"),
  secretAccessKey: fakeSecretAccessKey(),
  sessionToken: "assumed-session-token-FwoGZXIvYXdzEBYaDH",
  expiration: new Date(NOW + 3600_000),
};
const ROLE = "arn:aws:iam::123456789012:role/ecr-pull";
const PRIVATE = "123456789012.dkr.ecr.us-west-2.amazonaws.com";

type Call =
  | { method: "privateToken" | "publicToken"; request: TokenRequest }
  | { method: "assumeRole"; request: AssumeRoleRequest };

interface FakeOptions {
  answer?: AuthorizationToken;
  fail?: unknown;
  assumeFail?: unknown;
  assumed?: AwsCredentials;
  hang?: boolean;
}

function fakeClients(options: FakeOptions = {}) {
  const calls: Call[] = [];
  const answer = options.answer ?? { token: TOKEN, expiresAt: new Date(NOW + 12 * 3600_000) };
  const token = async (request: TokenRequest) => {
    if (options.hang) {
      // As the SDK does: fail at once if already aborted, else when the signal fires.
      return new Promise<AuthorizationToken>((_, reject) => {
        const abort = () => reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        if (request.signal.aborted) abort();
        else request.signal.addEventListener("abort", abort);
      });
    }
    if (options.fail) throw options.fail;
    return answer;
  };
  const clients: EcrClients = {
    async privateToken(request) {
      calls.push({ method: "privateToken", request });
      return token(request);
    },
    async publicToken(request) {
      calls.push({ method: "publicToken", request });
      return token(request);
    },
    async assumeRole(request) {
      calls.push({ method: "assumeRole", request });
      if (options.assumeFail) throw options.assumeFail;
      return options.assumed ?? ASSUMED;
    },
  };
  return { clients, calls };
}

function setup(
  options: FakeOptions & {
    flags?: Partial<ProviderContext<EcrFlags>["flags"]>;
    env?: Record<string, string>;
  } = {},
) {
  const { clients, calls } = fakeClients(options);
  const provider = createEcrProvider({ clients, now: () => NOW });
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const controller = new AbortController();
  const log = createLogger({
    name: "ecr-credential-provider",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  const env = options.env ?? {};
  const context: ProviderContext<EcrFlags> = {
    flags: {
      "registry-mirror": [],
      "role-arn-annotation": "eks.amazonaws.com/ecr-role-arn",
      ...options.flags,
    },
    positionals: ["get-credentials"],
    signal: controller.signal,
    deadline: NOW + 50_000,
    log,
    secrets,
    http: createHttpClient({ userAgent: "t", signal: controller.signal, log, secrets, env }),
    env,
  };
  const { run, fail } = requestRunner(provider, context);
  return { run, fail, calls, secrets, lines, controller, context };
}

const vectors: { region: Array<{ host: string; region: string; fips?: boolean; dualStack?: boolean }> } =
  JSON.parse(readFileSync(new URL("../../../testdata/vectors/ecr.json", import.meta.url), "utf8"));

describe("private ECR", () => {
  it("answers one Registry entry keyed by the host, cached for half the token's validity", async () => {
    const { run, calls } = setup();
    expect(await run(`${PRIVATE}/team/app`)).toEqual({
      cacheKeyType: "Registry",
      cacheDuration: "6h0m0s",
      auth: { [PRIVATE]: { username: "AWS", password: PASSWORD } },
    });
    expect(calls.map((c) => c.method)).toEqual(["privateToken"]);
    expect(calls[0]?.request).toMatchObject({
      region: "us-west-2",
      fips: false,
      dualStack: false,
      deadline: NOW + 50_000,
    });
    expect(calls[0]?.request).not.toHaveProperty("credentials");
  });

  it.each(vectors.region.map((v) => [v.host, v] as const))(
    "%s: region, FIPS and dual-stack from the host",
    async (host, vector) => {
      const { run, calls } = setup();
      const result = await run(`${host}/app:1.0`);
      expect(Object.keys(result.auth ?? {})).toEqual([host]);
      expect(calls[0]?.request).toMatchObject({
        region: vector.region,
        fips: vector.fips ?? false,
        dualStack: vector.dualStack ?? host.includes(".dkr-ecr"),
      });
    },
  );

  it("lower-cases the host: the answer's key and the region", async () => {
    const { run, calls } = setup();
    const result = await run("123456789012.DKR.ECR-FIPS.US-WEST-2.AMAZONAWS.COM/Team/App");
    expect(Object.keys(result.auth ?? {})).toEqual(["123456789012.dkr.ecr-fips.us-west-2.amazonaws.com"]);
    expect(calls[0]?.request).toMatchObject({ region: "us-west-2", fips: true });
  });

  it('answers cacheDuration "0s" when ECR gives no expiry', async () => {
    expect((await setup({ answer: { token: TOKEN } }).run(`${PRIVATE}/app`)).cacheDuration).toBe("0s");
  });

  it.each([
    [
      "has expired",
      NOW - 1000,
      "issued a credential that had already expired (at 2025-05-31T23:59:59.000Z); check the node's clock",
    ],
    [
      "expires now",
      NOW,
      "issued a credential that had already expired (at 2025-06-01T00:00:00.000Z); check the node's clock",
    ],
    [
      "expires within a minute",
      NOW + 59_000,
      "issued a credential that expires within a minute (at 2025-06-01T00:00:59.000Z); check the node's clock",
    ],
  ])("a token that %s is an error, never an answer", async (_, expiresAt, detail) => {
    const { fail } = setup({ answer: { token: TOKEN, expiresAt: new Date(expiresAt) } });
    const error = await fail(`${PRIVATE}/app`);
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toBe(`ECR GetAuthorizationToken (us-west-2) ${detail}`);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("a token valid for a minute more is answered, cached for half of it", async () => {
    const { run } = setup({ answer: { token: TOKEN, expiresAt: new Date(NOW + 120_000) } });
    expect((await run(`${PRIVATE}/app`)).cacheDuration).toBe("1m0s");
  });

  it("passes the run's signal, env, log, secrets and HTTP client to the client", async () => {
    const { run, calls, context } = setup({ env: { HTTPS_PROXY: "http://proxy.corp:3128" } });
    await run(`${PRIVATE}/app`);
    const request = calls[0]?.request;
    expect(request?.signal).toBe(context.signal);
    expect(request?.env).toBe(context.env);
    expect(request?.log).toBe(context.log);
    expect(request?.secrets).toBe(context.secrets);
    expect(request?.http).toBe(context.http);
  });
});

describe("ECR Public", () => {
  it.each(["public.ecr.aws", "ecr-public.aws.com"])(
    "%s: token from ECR Public in us-east-1",
    async (host) => {
      const { run, calls } = setup();
      const result = await run(`${host}/docker/library/nginx`);
      expect(result.auth).toEqual({ [host]: { username: "AWS", password: PASSWORD } });
      expect(calls.map((c) => c.method)).toEqual(["publicToken"]);
      expect(calls[0]?.request).toMatchObject({ region: "us-east-1", fips: false, dualStack: false });
    },
  );
});

describe("refusing other registries", () => {
  it.each([
    [
      "123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example/app",
      "NOT_MY_REGISTRY",
      "123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example is not an Amazon ECR registry",
    ],
    [
      "123456789012.dkr.ecr.us-west-2.amazonaws.com:443/app",
      "NOT_MY_REGISTRY",
      "ECR registries are served on the default port only; drop the port",
    ],
    ["public.ecr.aws:5000/app", "NOT_MY_REGISTRY", "public.ecr.aws:5000 is not an Amazon ECR registry"],
    ["registry.example.com/app", "NOT_MY_REGISTRY", "--registry-mirror registry.example.com:<ECR registry>"],
    ["nginx", "NOT_MY_REGISTRY", "docker.io is not an Amazon ECR registry"],
    ["123456789012.dkr.ecr.us-west-2.amazonaws.com./app", "BAD_REQUEST", "invalid registry host"],
    ["user@123456789012.dkr.ecr.us-west-2.amazonaws.com/app", "BAD_REQUEST", "invalid image reference"],
    ["1234567890123.dkr.ecr.us-west-2.amazonaws.com/app", "NOT_MY_REGISTRY", "is not an Amazon ECR registry"],
    ["123456789012.dkr.ecr.us-west-2.amazonaws.lol/app", "NOT_MY_REGISTRY", "is not an Amazon ECR registry"],
    [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn/app",
      "NOT_MY_REGISTRY",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn is not an Amazon ECR registry: region us-east-1 is in the AWS partition aws, whose registries end in .amazonaws.com, not .amazonaws.com.cn",
    ],
    [
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com/app",
      "NOT_MY_REGISTRY",
      "region cn-north-1 is in the AWS partition aws-cn, whose registries end in .amazonaws.com.cn, not .amazonaws.com",
    ],
    [
      "123456789012.dkr.ecr.us-east-1.c2s.ic.gov/app",
      "NOT_MY_REGISTRY",
      "region us-east-1 is in the AWS partition aws, whose registries end in .amazonaws.com, not .c2s.ic.gov",
    ],
    [
      "123456789012.dkr-ecr-fips.us-gov-west-1.on.amazonwebservices.com.cn/app",
      "NOT_MY_REGISTRY",
      "region us-gov-west-1 is in the AWS partition aws-us-gov, whose dual-stack registries end in .on.aws, not .on.amazonwebservices.com.cn",
    ],
  ])("%s: %s, no cloud call", async (image, code, message) => {
    const { fail, calls } = setup();
    const error = await fail(image);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(calls).toEqual([]);
  });
});

describe("--registry-mirror", () => {
  const flags = {
    "registry-mirror": [`mirror.example.com:${PRIVATE}`, "registry.local:5000:public.ecr.aws"],
  };

  it("answers the target's credentials under both the mirror and the target", async () => {
    const { run, calls } = setup({ flags });
    const result = await run("Mirror.Example.com/team/app");
    expect(result.auth).toEqual({
      "mirror.example.com": { username: "AWS", password: PASSWORD },
      [PRIVATE]: { username: "AWS", password: PASSWORD },
    });
    expect(calls[0]).toMatchObject({ method: "privateToken", request: { region: "us-west-2" } });
  });

  it("maps a host with a port, to ECR Public", async () => {
    const { run, calls } = setup({ flags });
    expect(Object.keys((await run("registry.local:5000/library/nginx")).auth ?? {})).toEqual([
      "registry.local:5000",
      "public.ecr.aws",
    ]);
    expect(calls[0]?.method).toBe("publicToken");
  });

  it("an ECR host is answered directly even with mirrors configured", async () => {
    const { run } = setup({ flags });
    expect(Object.keys((await run(`${PRIVATE}/app`)).auth ?? {})).toEqual([PRIVATE]);
  });

  it("an unmapped host is still refused, without falling back to a default region", async () => {
    const { fail, calls } = setup({ flags });
    expect((await fail("mirror.example.com:8443/app")).code).toBe("NOT_MY_REGISTRY");
    expect((await fail("other.example.com/app")).code).toBe("NOT_MY_REGISTRY");
    expect(calls).toEqual([]);
  });

  it("a target in the wrong partition is a configuration error naming the flag, before any call", async () => {
    const target = "123456789012.dkr.ecr.cn-north-1.amazonaws.com";
    const { fail, calls } = setup({ flags: { "registry-mirror": [`mirror.example.com:${target}`] } });
    const error = await fail("mirror.example.com/app");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      `--registry-mirror mirror.example.com:${target}: ${target} is not an Amazon ECR registry: region cn-north-1 is in the AWS partition aws-cn, whose registries end in .amazonaws.com.cn, not .amazonaws.com`,
    );
    expect(calls).toEqual([]);
  });

  it("a malformed entry is a usage error, for every image", async () => {
    const { fail, calls } = setup({ flags: { "registry-mirror": ["mirror.example.com=ecr"] } });
    const error = await fail(`${PRIVATE}/app`);
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain('--registry-mirror entry "mirror.example.com=ecr"');
    expect(calls).toEqual([]);
  });
});

describe("service-account mode", () => {
  const annotated = (annotations: Record<string, string>) => ({
    serviceAccountToken: SA_TOKEN,
    serviceAccountAnnotations: annotations,
  });

  it("assumes the role from the eks.amazonaws.com/ecr-role-arn annotation, in the image's region", async () => {
    const { run, calls } = setup({ env: { AWS_ECR_ROLE_ARN: "arn:aws:iam::999999999999:role/from-env" } });
    await run(
      "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com/app",
      annotated({ "eks.amazonaws.com/ecr-role-arn": ROLE }),
    );
    expect(calls.map((c) => c.method)).toEqual(["assumeRole", "privateToken"]);
    expect(calls[0]?.request).toMatchObject({
      region: "eu-west-1",
      fips: true,
      dualStack: false,
      roleArn: ROLE,
      webIdentityToken: SA_TOKEN,
      sessionName: "ecr-credential-provider",
    });
    expect(calls[1]?.request).toMatchObject({ region: "eu-west-1", credentials: ASSUMED });
  });

  it("--role-arn-annotation changes the annotation's key", async () => {
    const { run, calls } = setup({ flags: { "role-arn-annotation": "example.com/pull-role" } });
    await run(
      `${PRIVATE}/app`,
      annotated({
        "eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::111111111111:role/ignored",
        "example.com/pull-role": ROLE,
      }),
    );
    expect(calls[0]).toMatchObject({ method: "assumeRole", request: { roleArn: ROLE } });
  });

  it("falls back to AWS_ECR_ROLE_ARN", async () => {
    const { run, calls } = setup({ env: { AWS_ECR_ROLE_ARN: ROLE } });
    await run(
      "public.ecr.aws/x/y",
      annotated({ "eks.amazonaws.com/role-arn": "arn:aws:iam::111111111111:role/pod" }),
    );
    expect(calls.map((c) => c.method)).toEqual(["assumeRole", "publicToken"]);
    expect(calls[0]?.request).toMatchObject({ roleArn: ROLE, region: "us-east-1" });
    expect(calls[1]?.request).toMatchObject({ credentials: ASSUMED, region: "us-east-1" });
  });

  it("without a role, uses the node's credentials", async () => {
    const { run, calls, lines } = setup();
    await run(`${PRIVATE}/app`, annotated({}));
    expect(calls.map((c) => c.method)).toEqual(["privateToken"]);
    expect(calls[0]?.request).not.toHaveProperty("credentials");
    expect(lines.join("")).toContain("service-account mode without a role");
  });

  it("without a service account token, AWS_ECR_ROLE_ARN is not used", async () => {
    const { run, calls } = setup({ env: { AWS_ECR_ROLE_ARN: ROLE } });
    await run(`${PRIVATE}/app`);
    expect(calls.map((c) => c.method)).toEqual(["privateToken"]);
  });

  it("refuses a role that is not an IAM role ARN, naming where it came from", async () => {
    const { fail, calls } = setup();
    const error = await fail(`${PRIVATE}/app`, annotated({ "eks.amazonaws.com/ecr-role-arn": "ecr-pull" }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      'service account annotation eks.amazonaws.com/ecr-role-arn is "ecr-pull", not an IAM role ARN (arn:aws:iam::123456789012:role/name)',
    );
    expect(calls).toEqual([]);
  });

  it("maps an STS refusal to CLOUD_AUTH_FAILED, and does not ask ECR", async () => {
    const denied = Object.assign(new Error("Not authorized to perform sts:AssumeRoleWithWebIdentity"), {
      name: "AccessDenied",
      $fault: "client",
      $metadata: { httpStatusCode: 403, requestId: "req-1", attempts: 1 },
    });
    const { fail, calls } = setup({ assumeFail: denied });
    const error = await fail(`${PRIVATE}/app`, annotated({ "eks.amazonaws.com/ecr-role-arn": ROLE }));
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "STS AssumeRoleWithWebIdentity (us-west-2) refused the call (AccessDenied, HTTP 403)",
    );
    expect(calls.map((c) => c.method)).toEqual(["assumeRole"]);
  });

  it("a role's credentials that expire within a minute are an error, and ECR is not asked", async () => {
    const { fail, calls } = setup({ assumed: { ...ASSUMED, expiration: new Date(NOW + 30_000) } });
    const error = await fail(`${PRIVATE}/app`, annotated({ "eks.amazonaws.com/ecr-role-arn": ROLE }));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(
      /^STS AssumeRoleWithWebIdentity \(us-west-2\) issued a credential that expires within a minute/,
    );
    expect(calls.map((c) => c.method)).toEqual(["assumeRole"]);
  });
});

describe("secrets", () => {
  it("registers the token, the password and the assumed credentials; logs at -v 10 reveal none", async () => {
    const { run, secrets, lines } = setup();
    await run(`${PRIVATE}/app`, {
      serviceAccountToken: SA_TOKEN,
      serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": ROLE },
    });
    for (const secret of [PASSWORD, TOKEN, ASSUMED.secretAccessKey, ASSUMED.sessionToken ?? "", SA_TOKEN]) {
      expect(secrets.redact(`x ${secret} y`)).toBe("x [REDACTED] y");
    }
    const log = lines.join("");
    expect(log).toContain("region us-west-2");
    expect(log).toContain(
      `assuming ${ROLE} (from service account annotation eks.amazonaws.com/ecr-role-arn)`,
    );
    for (const secret of [PASSWORD, TOKEN, ASSUMED.secretAccessKey, ASSUMED.sessionToken ?? "", SA_TOKEN]) {
      expect(log).not.toContain(secret);
    }
  });

  it("a malformed token is CLOUD_AUTH_FAILED, registered, and never quoted", async () => {
    const bad = Buffer.from("no-colon-in-this-token-0123456789").toString("base64");
    const { fail, secrets } = setup({ answer: { token: bad, expiresAt: new Date(NOW + 1000) } });
    const error = await fail(`${PRIVATE}/app`);
    expect(error.code).toBe("CLOUD_AUTH_FAILED");
    expect(error.message).toBe(
      "the authorization token from ECR does not decode to user:password (no colon)",
    );
    expect(secrets.redact(bad)).toBe("[REDACTED]");
  });
});

describe("cloud errors", () => {
  it("throttling that outlasted core's retries is reported as core reports it", async () => {
    const throttled = exhaustedThrottling("ECR Public GetAuthorizationToken (us-east-1)");
    const error = await setup({ fail: throttled }).fail("public.ecr.aws/a/b");
    expect(error).toBe(throttled);
    expect(error.code).toBe("CLOUD_THROTTLED");
    expect(error.message).toBe(
      "ECR Public GetAuthorizationToken (us-east-1) throttled (ThrottlingException, HTTP 400) for 48 s (12 attempts)",
    );
  });

  it("an SDK service exception is named by its code and status, without AWS's message", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $fault: "client",
      $metadata: { httpStatusCode: 400, requestId: "r", attempts: 1 },
    });
    const error = await setup({ fail: throttled }).fail("public.ecr.aws/a/b");
    expect(error.code).toBe("CLOUD_THROTTLED");
    expect(error.message).toBe(
      "ECR Public GetAuthorizationToken (us-east-1) throttled (ThrottlingException, HTTP 400)",
    );
  });

  it("a persistent IMDS failure is reported as what it is, not as missing credentials", async () => {
    const imds = new CloudCallError({
      endpoint: "IMDS token",
      fault: "server-error",
      detail: "answered HTTP 503",
      status: 503,
      attempts: 9,
      elapsedMs: 40_000,
    });
    const error = await setup({ fail: imds }).fail(`${PRIVATE}/app`);
    expect(error.code).toBe("CLOUD_UNAVAILABLE");
    expect(error.message).toBe("IMDS token answered HTTP 503 for 40 s (9 attempts)");
  });

  it("at the deadline, the harness's timeout is the error", async () => {
    const { run, controller } = setup({ hang: true });
    const pending = run(`${PRIVATE}/app`);
    const timeout = new CredentialProviderError(
      "TIMEOUT",
      "no answer within the deadline of 50s (--deadline)",
    );
    controller.abort(timeout);
    await expect(pending).rejects.toBe(timeout);
  });
});

describe("as the kubelet runs it", () => {
  async function exec(argv: string[], request: unknown) {
    const { clients, calls } = fakeClients();
    return { ...(await execProvider(createEcrProvider({ clients, now: () => NOW }), argv, request)), calls };
  }

  it.each(apiVersions)(
    "answers %s in its own apiVersion, with the get-credentials verb and a mirror flag",
    async (apiVersion) => {
      const { stdout, stderr, code } = await exec(
        ["get-credentials", "--registry-mirror", `mirror.example.com:${PRIVATE}`, "-v", "2"],
        { kind: "CredentialProviderRequest", apiVersion, image: "mirror.example.com/app:1" },
      );
      expect({ code, stderr: stderr.includes(PASSWORD) }).toEqual({ code: 0, stderr: false });
      expect(JSON.parse(stdout)).toEqual({
        kind: "CredentialProviderResponse",
        apiVersion,
        cacheKeyType: "Registry",
        cacheDuration: "6h0m0s",
        auth: {
          "mirror.example.com": { username: "AWS", password: PASSWORD },
          [PRIVATE]: { username: "AWS", password: PASSWORD },
        },
      });
    },
  );

  it("fails a foreign registry with one line naming the host, and exit status 1", async () => {
    const { stdout, stderr, code, calls } = await exec([], {
      kind: "CredentialProviderRequest",
      apiVersion: API_VERSION_V1,
      image: "ghcr.io/org/app",
    });
    expect({ stdout, code, calls: calls.length }).toEqual({ stdout: "", code: 1, calls: 0 });
    expect(stderr).toMatch(
      /^ecr-credential-provider: not this provider's registry: ghcr\.io is not an Amazon ECR registry: .*\n$/,
    );
  });

  it("--version is the package's version; --help lists the flags and the EKS matchImages", async () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(manifest.version);
    expect((await exec(["--version"], {})).stdout).toBe(
      `${versionLine("ecr-credential-provider", manifest.version)}\n`,
    );
    const help = (await exec(["--help"], {})).stdout;
    expect(help).toContain("--registry-mirror SOURCE:TARGET");
    expect(help).toContain("--role-arn-annotation KEY");
    expect(help).toContain('"*.dkr-ecr-fips.*.on.aws"');
  });

  it("the default provider is the same definition", () => {
    expect(defaultProvider.name).toBe("ecr-credential-provider");
    expect(defaultProvider.allowExtraPositionals).toBe(true);
    expect(Object.keys(defaultProvider.flags)).toEqual(["registry-mirror", "role-arn-annotation"]);
  });
});
