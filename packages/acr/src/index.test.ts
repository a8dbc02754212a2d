/**
 * The package's public surface, by name, and its start-up cost: the kubelet execs the provider on
 * every cache miss, so importing it must load nothing from @azure/ (the identity SDK and MSAL are
 * loaded by the first request that needs an Entra token).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
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
  const probe = `
    const urls = [];
    require("node:module").registerHooks({
      resolve(specifier, context, next) { const result = next(specifier, context); urls.push(result.url); return result; },
    });
    (async () => { ${code} })().then(() => {
      const azure = [...new Set(urls.flatMap((u) => {
        const m = /\\/node_modules\\/@azure\\/([^/]+)\\//.exec(u); return m ? [m[1]] : [];
      }))].sort();
      process.stdout.write(JSON.stringify({ "@azure/": azure, https: process.moduleLoadList.includes("NativeModule https") }));
      process.exit(0);
    });`;
  return JSON.parse(
    execFileSync(process.execPath, ["-e", probe], {
      encoding: "utf8",
      cwd: new URL("..", import.meta.url).pathname,
    }),
  );
}
