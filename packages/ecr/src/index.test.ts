/**
 * The package's public surface, by name, and its start-up cost: the kubelet execs the provider on
 * every cache miss, so importing it must load nothing from the AWS SDK, and a request must load
 * only the SDK packages its path needs.
 */
import { describe, expect, it } from "vitest";
import { probeLoads, scopedPackages } from "../../core/testdata/module-probe.ts";
import * as ecr from "./index.ts";

describe("@kubelet-credential-provider/ecr exports", () => {
  it("exactly the documented runtime names", () => {
    expect(Object.keys(ecr).sort()).toEqual([
      "DEFAULT_ROLE_ARN_ANNOTATION",
      "ECR_MATCH_IMAGES",
      "ECR_PUBLIC_HOSTS",
      "ECR_PUBLIC_REGION",
      "ROLE_ARN_ENV",
      "ROLE_SESSION_NAME",
      "createEcrProvider",
      "parseEcrHost",
      "parseRegistryMirrors",
      "provider",
    ]);
  });
});

describe("start-up cost", () => {
  it("importing the package (or the CLI's provider) loads no AWS SDK module and no https", () => {
    for (const module of ["./index.ts", "./provider.ts", "./aws.ts"]) {
      expect({ module, ...loaded(`await import(${JSON.stringify(url(module))});`) }).toEqual({
        module,
        "@aws-sdk/": [],
        "@smithy/": [],
        https: false,
      });
    }
  });

  it("the probe sees the SDK when it is loaded", () => {
    expect(loaded(`await import("@aws-sdk/client-sts");`)["@aws-sdk/"]).toContain("client-sts");
  });

  // A request through a proxy that refuses at once: enough to build the client and send.
  const attempt = (method: string, extra = "") => `
    const { createAwsClients } = await import(${JSON.stringify(url("./aws.ts"))});
    const { createHttpClient, createLogger, SecretRegistry } = await import("@kubelet-credential-provider/core");
    const secrets = new SecretRegistry();
    const env = { HTTPS_PROXY: "http://127.0.0.1:1", AWS_ACCESS_KEY_ID: "AKIDPROBE", AWS_SECRET_ACCESS_KEY: "probe" };
    // A deadline with room for one attempt only: the refused proxy is not retried.
    const deadline = Date.now() + 1500;
    const request = {
      region: "us-west-2", fips: false, dualStack: false, signal: new AbortController().signal,
      deadline, secrets, env, http: createHttpClient({ userAgent: "probe", deadline, env }),
      log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write() {} } }), ${extra}
    };
    await createAwsClients().${method}(request).catch(() => {});`;

  it.each([
    ["privateToken", "", ["client-ecr"]],
    ["publicToken", "", ["client-ecr-public"]],
    [
      "assumeRole",
      `roleArn: "arn:aws:iam::123456789012:role/r", webIdentityToken: "t", sessionName: "s"`,
      ["client-sts"],
    ],
  ])("%s loads only its own client", { timeout: 30_000 }, (method, extra, clients) => {
    const sdk = loaded(attempt(method, extra))["@aws-sdk/"].filter((name) => name.startsWith("client-"));
    expect(sdk).toEqual(clients);
  });
});

function url(module: string): string {
  return new URL(module, import.meta.url).pathname;
}

/** Runs `code` in a fresh Node and reports which @aws-sdk/ and @smithy/ packages it loaded, and https. */
function loaded(code: string): { "@aws-sdk/": string[]; "@smithy/": string[]; https: boolean } {
  const { urls, https } = probeLoads(code, new URL("..", import.meta.url).pathname);
  return {
    "@aws-sdk/": scopedPackages(urls, "@aws-sdk/"),
    "@smithy/": scopedPackages(urls, "@smithy/"),
    https,
  };
}
