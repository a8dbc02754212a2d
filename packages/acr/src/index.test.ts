/**
 * The package's public surface, by name, and its start-up cost: the kubelet execs the provider on
 * every cache miss, so importing it must load nothing from @azure/ (the identity SDK and MSAL are
 * loaded by the first request that needs an Entra token).
 */
import { describe, expect, it } from "vitest";
import { probeLoads, scopedPackages } from "../../core/testdata/module-probe.ts";
import * as acr from "./index.ts";

describe("@kubelet-credential-provider/acr exports", () => {
  it("exactly the documented runtime names", () => {
    expect(Object.keys(acr).sort()).toEqual([
      "ACR_AUDIENCE",
      "ACR_MATCH_IMAGES",
      "ACR_REFRESH_TOKEN_USERNAME",
      "AZURE_CLOUDS",
      "CLIENT_ID_ANNOTATION",
      "TENANT_ID_ANNOTATION",
      "createAcrProvider",
      "jwtExpiry",
      "loadAzureConfig",
      "loginServerFromImage",
      "parseAzureConfig",
      "parseBearerChallenge",
      "parseChallenges",
      "parseLoginServer",
      "parseRegistryMirrors",
      "provider",
      "resolveCloud",
      "resolveLoginServer",
      "selectIdentity",
    ]);
  });
});

describe("start-up cost", () => {
  it("importing the package, the provider or the SDK factory loads no @azure/ module and no https", () => {
    for (const module of ["./index.ts", "./provider.ts", "./azure.ts"]) {
      expect({ module, ...loaded(`await import(${JSON.stringify(url(module))});`) }).toEqual({
        module,
        "@azure/": [],
        https: false,
      });
    }
  });

  it("the probe sees @azure/identity and MSAL once a credential is built", { timeout: 30_000 }, () => {
    const code = `
      const { createAzureCredential } = await import(${JSON.stringify(url("./azure.ts"))});
      const { AZURE_CLOUDS } = await import(${JSON.stringify(url("./clouds.ts"))});
      const { createLogger, SecretRegistry } = await import("@kubelet-credential-provider/core");
      const secrets = new SecretRegistry();
      await createAzureCredential({ kind: "clientSecret", tenantId: "t", clientId: "c", clientSecret: "s" }, {
        cloud: AZURE_CLOUDS.AzurePublicCloud, signal: new AbortController().signal, deadline: Date.now() + 10000,
        env: {}, secrets, log: createLogger({ name: "t", verbosity: 0, secrets, sink: { write() {} } }),
        http: { request: () => Promise.reject(new Error("no call")) },
      });`;
    const azure = loaded(code)["@azure/"];
    expect(azure).toContain("identity");
    expect(azure).toContain("msal-node");
  });
});

function url(module: string): string {
  return new URL(module, import.meta.url).pathname;
}

/** Runs `code` in a fresh Node and reports which @azure/ packages it loaded, and whether https. */
function loaded(code: string): { "@azure/": string[]; https: boolean } {
  const { urls, https } = probeLoads(code, new URL("..", import.meta.url).pathname);
  return { "@azure/": scopedPackages(urls, "@azure/"), https };
}
