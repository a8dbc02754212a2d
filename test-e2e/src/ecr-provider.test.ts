/**
 * dist/bin/ecr-credential-provider, run by dist/bin/kubelet-credential-sim with the EKS node
 * config, against the emulated AWS: the real AWS SDK reaches ECR, ECR Public and STS at their real
 * endpoint names through HTTPS_PROXY, and IMDS at AWS_EC2_METADATA_SERVICE_ENDPOINT. The emulator
 * checks every SigV4 signature and records which endpoint each call was sent to.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E, LookupOptions, LookupRun } from "./harness.ts";
import { binDir, startE2E, startupAllowanceMs } from "./harness.ts";

const ACCOUNT = "123456789012";
const PRIVATE = `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0`;

let e2e: E2E;
beforeAll(async () => {
  if (!existsSync(join(binDir, "ecr-credential-provider"))) throw new Error("run pnpm build first");
  e2e = await startE2E();
});
afterAll(async () => {
  await e2e?.close();
});

/** The node's environment: no AWS config files, IMDS at the emulator, and (by default) static keys. */
function awsEnv(credentials: "static" | "imds" | "none" = "static"): Record<string, string> {
  const aws = e2e.emulator.aws;
  return {
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    ...aws.imdsEnv(),
    ...(credentials === "static" ? aws.credentialsEnv() : {}),
    ...(credentials === "none" ? { AWS_EC2_METADATA_DISABLED: "true" } : {}),
  };
}

/** The EKS config with `args` for the provider. */
function withArgs(...args: string[]): string {
  return e2e.config("eks.yaml", (text) =>
    text.replace("    apiVersion:", `    args: [${args.join(", ")}]\n    apiVersion:`),
  );
}

async function lookup(
  images: string[],
  options: LookupOptions & { config?: string; credentials?: "static" | "imds" | "none" } = {},
): Promise<LookupRun> {
  const run = await e2e.lookup(options.config ?? e2e.config("eks.yaml"), images, {
    ...options,
    env: { ...awsEnv(options.credentials), ...options.env },
  });
  e2e.expectNoLeaks(run);
  return run;
}

const lastTokenCall = (service: "ecr" | "ecr-public" = "ecr") =>
  e2e.emulator.aws.authorizationTokenCalls(service).at(-1);

describe("ecr-credential-provider with the EKS config", () => {
  it("private ECR: credentials the registry accepts, keyed by the host, cached by registry", async () => {
    const run = await lookup([PRIVATE, `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/other`], {
      flags: ["--verify"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.execCounts).toEqual({ "ecr-credential-provider": 1 });
    expect(run.entries[0]).toMatchObject({
      credentials: [{ key: `${ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com`, username: "AWS" }],
      verified: true,
    });
    expect(run.entries[1]).toMatchObject({ providers: [{ cached: true }], verified: true });
    expect(lastTokenCall()).toMatchObject({
      host: "api.ecr.us-west-2.amazonaws.com",
      outcome: "ok",
      source: "static",
    });
  });

  it.each([
    ["FIPS", `${ACCOUNT}.dkr.ecr-fips.us-west-2.amazonaws.com/app`, "api.ecr-fips.us-west-2.amazonaws.com"],
    ["dual-stack", `${ACCOUNT}.dkr-ecr.us-west-2.on.aws/app`, "ecr.us-west-2.api.aws"],
    ["dual-stack FIPS", `${ACCOUNT}.dkr-ecr-fips.us-west-2.on.aws/app`, "ecr-fips.us-west-2.api.aws"],
    ["China", `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/app`, "api.ecr.cn-north-1.amazonaws.com.cn"],
  ])("%s: calls the matching API endpoint", async (_name, image, endpoint) => {
    const run = await lookup([image], { flags: ["--verify"] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.verified).toBe(true);
    expect(lastTokenCall()).toMatchObject({ host: endpoint, outcome: "ok" });
  });

  it("ECR Public: a token from ecr-public in us-east-1", async () => {
    const run = await lookup(["public.ecr.aws/nginx/nginx:1.27"], { flags: ["--verify"] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]).toMatchObject({ credentials: [{ key: "public.ecr.aws" }], verified: true });
    expect(lastTokenCall("ecr-public")).toMatchObject({ region: "us-east-1", outcome: "ok" });
  });

  it("the node's instance role through IMDSv2", async () => {
    const run = await lookup([PRIVATE], { credentials: "imds" });
    expect(run.code, run.stderr).toBe(0);
    expect(lastTokenCall()).toMatchObject({ outcome: "ok", source: "imds" });
  });

  it.each(["v1beta1", "v1alpha1"])("answers a %s kubelet", async (version) => {
    const config = e2e.config("eks.yaml", (text) =>
      text.replace("credentialprovider.kubelet.k8s.io/v1", `credentialprovider.kubelet.k8s.io/${version}`),
    );
    const run = await lookup([PRIVATE], { config });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials).toHaveLength(1);
  });

  it("a mirror maps to its ECR registry, keyed under both hosts", async () => {
    const target = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
    const config = e2e.config("eks.yaml", (text) =>
      text
        .replace('      - "public.ecr.aws"\n', '      - "public.ecr.aws"\n      - "mirror.corp.example"\n')
        .replace(
          "    apiVersion:",
          `    args:\n      - --registry-mirror=mirror.corp.example:${target}\n    apiVersion:`,
        ),
    );
    const run = await lookup(["mirror.corp.example/team/app:1.0"], { config });
    expect(run.code, run.stderr).toBe(0);
    expect(run.entries[0]?.credentials.map((c) => c.key)).toContain("mirror.corp.example");
    expect(lastTokenCall()).toMatchObject({ region: "eu-west-1", outcome: "ok" });
  });

  it("refuses a host that is not ECR, before any AWS call", async () => {
    const config = e2e.config("eks.yaml", (text) =>
      text.replace(
        '      - "public.ecr.aws"\n',
        '      - "public.ecr.aws"\n      - "*.amazonaws.com.evil.example"\n',
      ),
    );
    const before = e2e.emulator.aws.authorizationTokenCalls().length;
    const run = await lookup([`${ACCOUNT}.amazonaws.com.evil.example/app`], { config });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /not this provider's registry: .*amazonaws\.com\.evil\.example/,
    );
    expect(e2e.emulator.aws.authorizationTokenCalls().length).toBe(before);
  });
});

describe("service-account mode", () => {
  // A role in the registry's own account: the emulated registry takes a token for its account only.
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/ecr-pull`;

  it("assumes the role from the service account's annotation with its token", async () => {
    const token = e2e.emulator.aws.issueWebIdentityToken({ roleArn: ROLE });
    const run = await lookup([PRIVATE], {
      config: e2e.config("eks-service-account.yaml"),
      flags: [
        "--service-account-token",
        token,
        "--service-account-annotation",
        `eks.amazonaws.com/ecr-role-arn=${ROLE}`,
        "--verify",
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.aws.webIdentityCalls().at(-1)).toMatchObject({
      roleArn: ROLE,
      roleSessionName: "ecr-credential-provider",
      token,
      region: "us-west-2",
    });
    expect(lastTokenCall()).toMatchObject({ outcome: "ok", source: "sts" });
  });

  it("takes the role from AWS_ECR_ROLE_ARN when the service account names none", async () => {
    const token = e2e.emulator.aws.issueWebIdentityToken({ roleArn: ROLE });
    const run = await lookup([PRIVATE], {
      config: e2e.config("eks-service-account.yaml"),
      flags: ["--service-account-token", token],
      env: { AWS_ECR_ROLE_ARN: ROLE },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.aws.webIdentityCalls().at(-1)).toMatchObject({ roleArn: ROLE, token });
  });
});

describe("faults", () => {
  it("retries throttling, then succeeds", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "status", status: 429, times: 1 });
    const before = e2e.emulator.calls("ecr.GetAuthorizationToken");
    const run = await lookup([PRIVATE]);
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("ecr.GetAuthorizationToken") - before).toBe(2);
  });

  it("--deadline 8s with ECR always 503: exit 1 before 8 s, one line naming ECR and the fault", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "status", status: 503 });
    const started = Date.now();
    const run = await lookup([PRIVATE], { config: withArgs("--deadline=8s") });
    const elapsed = Date.now() - started;
    e2e.emulator.clearFaults("ecr.GetAuthorizationToken");
    expect(elapsed).toBeLessThan(8_000 + startupAllowanceMs);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /: exit status 1: ecr-credential-provider: cloud unavailable: ECR GetAuthorizationToken \(us-west-2\) answered HTTP 503 for \d+ s \(\d+ attempts\)\n$/,
    );
    expect(run.pluginStderr.at(-1)?.trimEnd().split("\n")).toHaveLength(1);
  });

  it("gives up on a hanging endpoint at its deadline", async () => {
    // Every attempt hangs: the SDK's per-attempt timeouts and retries must still end in time.
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "hang" });
    const config = e2e.config("eks.yaml", (text) =>
      text.replace("    apiVersion:", "    args: [--deadline=3s]\n    apiVersion:"),
    );
    const started = Date.now();
    const run = await lookup([PRIVATE], { config });
    e2e.emulator.clearFaults("ecr.GetAuthorizationToken");
    expect(Date.now() - started).toBeLessThan(10_000 + startupAllowanceMs);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: (timed out|cloud unavailable): /,
    );
  });

  it("fails clearly on a malformed answer", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "malformed", times: 3 });
    const run = await lookup([PRIVATE]);
    e2e.emulator.clearFaults("ecr.GetAuthorizationToken");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /^error execing credential provider plugin ecr-credential-provider .*: exit status 1: ecr-credential-provider: [a-z ]+: .+/,
    );
  });

  it("refuses a token that does not decode to user:password, without printing it", async () => {
    e2e.emulator.aws.malformTokens(1);
    const run = await lookup([PRIVATE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: cloud authentication failed: .*token/i,
    );
  });

  it("says how to give the node credentials when it has none", async () => {
    const run = await lookup([PRIVATE], { credentials: "none" });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(/cloud authentication failed: .*credentials/i);
  });

  it("keeps every issued secret out of stderr at --v=10", async () => {
    const config = e2e.config("eks.yaml", (text) =>
      text.replace("    apiVersion:", "    args: [--v=10]\n    apiVersion:"),
    );
    const run = await lookup([PRIVATE, "public.ecr.aws/nginx/nginx"], { config });
    expect(run.code, run.stderr).toBe(0);
    expect(run.pluginStderr.join("")).not.toBe("");
  });
});

describe("faults, on the provider's one outbound path (core's HTTP client)", () => {
  it("IMDS answers 503 once: retried, then the instance role's credentials", async () => {
    e2e.emulator.fault("imds.token", { kind: "status", status: 503, times: 1 });
    const before = e2e.emulator.calls("imds.token");
    const run = await lookup([PRIVATE], { credentials: "imds" });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("imds.token") - before).toBe(2);
    expect(lastTokenCall()).toMatchObject({ outcome: "ok", source: "imds" });
  });

  it("IMDS takes 1.5 s to answer once: waited for, not reported as missing credentials", async () => {
    e2e.emulator.fault("imds.credentials", { kind: "slowHeaders", ms: 1_500, times: 1 });
    const run = await lookup([PRIVATE], { credentials: "imds" });
    expect(run.code, run.stderr).toBe(0);
    expect(lastTokenCall()).toMatchObject({ outcome: "ok", source: "imds" });
  });

  it("IMDS cuts its answer short once: retried at once, well before the deadline", async () => {
    e2e.emulator.fault("imds.credentials", { kind: "truncated", times: 1 });
    const before = e2e.emulator.calls("imds.credentials");
    const started = Date.now();
    const run = await lookup([PRIVATE], { credentials: "imds", config: withArgs("--deadline=20s") });
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000 + startupAllowanceMs);
    // The role's name and its credentials share the endpoint id: one more call than usual.
    expect(e2e.emulator.calls("imds.credentials") - before).toBe(3);
  });

  it("IMDS credentials that are not JSON: one line naming IMDS, never the body", async () => {
    // The role's name and its credentials share the endpoint id: the name passes, then the fault.
    e2e.emulator.fault("imds.credentials", { kind: "slowHeaders", ms: 0, times: 1 });
    e2e.emulator.fault("imds.credentials", { kind: "malformed", format: "jsonWithSecret" });
    const run = await lookup([PRIVATE], { credentials: "imds" });
    e2e.emulator.clearFaults("imds.credentials");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: invalid response: IMDS credentials \(role [^)]+\) answered HTTP 200 with a body that is not JSON\n$/,
    );
  });

  it("IMDS credentials that have expired: an error, not an answer", async () => {
    e2e.emulator.fault("imds.credentials", { kind: "expired" });
    const run = await lookup([PRIVATE], { credentials: "imds" });
    e2e.emulator.clearFaults("imds.credentials");
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: invalid response: IMDS credentials \(role [^)]+\) issued a credential that had already expired/,
    );
  });

  it("ECR throttles (400 ThrottlingException) three times: retried, then the token", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", {
      kind: "status",
      status: 400,
      body: '{"__type":"ThrottlingException","message":"Rate exceeded"}',
      contentType: "application/x-amz-json-1.1",
      times: 3,
    });
    const before = e2e.emulator.calls("ecr.GetAuthorizationToken");
    const run = await lookup([PRIVATE]);
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.calls("ecr.GetAuthorizationToken") - before).toBe(4);
  });

  it("ECR answers more than 1 MiB: refused as too large, not read to the end", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "huge", times: 1 });
    const run = await lookup([PRIVATE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: invalid response: ECR GetAuthorizationToken \(us-west-2\) sent an answer larger than 1 MiB\n$/,
    );
  });

  it("ECR issues a token that has already expired: an error, not exit 0 with cacheDuration 0s", async () => {
    e2e.emulator.fault("ecr.GetAuthorizationToken", { kind: "expired", times: 1 });
    const run = await lookup([PRIVATE]);
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /ecr-credential-provider: invalid response: ECR GetAuthorizationToken \(us-west-2\) issued a credential that had already expired/,
    );
  });

  it("a registry host of another partition than its region's is refused before any call", async () => {
    const config = e2e.config("eks.yaml");
    const before = e2e.emulator.aws.authorizationTokenCalls().length;
    const run = await lookup([`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.cn/app`], { config });
    expect(run.code).toBe(1);
    expect(run.entries[0]?.providers[0]?.error).toMatch(
      /not this provider's registry: .*region us-east-1 is in the AWS partition aws, whose registries end in \.amazonaws\.com, not \.amazonaws\.com\.cn/,
    );
    expect(e2e.emulator.aws.authorizationTokenCalls().length).toBe(before);
  });
});
