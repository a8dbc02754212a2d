/**
 * The package's public surface, by name. Vendors build on these; adding one is a decision and
 * removing one is a breaking change, so either must show up here, in review.
 */
import { describe, expect, it } from "vitest";
import { probeLoads } from "../testdata/module-probe.ts";
import * as core from "./index.ts";

describe("@kubelet-credential-provider/core exports", () => {
  it("exactly the documented runtime names", () => {
    expect(Object.keys(core).sort()).toEqual([
      "API_VERSION_V1",
      "CloudCallError",
      "CredentialProviderError",
      "DEFAULT_MAX_RESPONSE_BYTES",
      "MIN_CREDENTIAL_VALIDITY_MS",
      "SecretRegistry",
      "apiVersions",
      "assertCredentialFresh",
      "cacheDurationUntil",
      "cacheKeyTypes",
      "createHttpClient",
      "createHttpResponse",
      "createLogger",
      "credentialProviderResponseSchema",
      "defineProvider",
      "errorCodeOf",
      "formatDurationNanos",
      "isCloudCallError",
      "isCredentialProviderError",
      "locateJsonError",
      "lookupAuth",
      "networkErrorCodes",
      "normalizeAuthKey",
      "packageVersion",
      "parseDurationNanos",
      "parseImage",
      "parseRegistryMirrors",
      "parseSchemelessUrl",
      "proxyForUrl",
      "registryHostOf",
      "runProvider",
      "safeParseImage",
      "tlsErrorCodes",
      "urlsMatch",
      "versionLine",
    ]);
  });

  it("loads no package but zod, and not Node's http stack, until they are used", async () => {
    // Start-up cost is a product feature: the kubelet execs a provider on every cache miss.
    expect(await modulesLoadedBy(new URL("./index.ts", import.meta.url).pathname)).toEqual({
      packages: ["zod"],
      https: false,
    });
  });

  it("the start-up probe sees a package and https when they are loaded", async () => {
    const fixture = new URL("../testdata/loads-a-package-and-https.ts", import.meta.url).pathname;
    expect(await modulesLoadedBy(fixture)).toEqual({ packages: ["fast-check", "pure-rand"], https: true });
  });
});

/** Imports a module in a fresh Node and reports the packages and whether https were loaded by it. */
async function modulesLoadedBy(path: string): Promise<{ packages: string[]; https: boolean }> {
  const { urls, https } = probeLoads(`await import(${JSON.stringify(path)});`, process.cwd());
  const packages = urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\//.exec(url)?.[1] ?? []);
  return { packages: [...new Set(packages)].sort(), https };
}
