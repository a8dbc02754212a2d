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
      "API_VERSION_V1ALPHA1",
      "API_VERSION_V1BETA1",
      "CloudCallError",
      "CredentialProviderError",
      "DEFAULT_DEADLINE_MS",
      "DEFAULT_MAX_RESPONSE_BYTES",
      "MAX_REQUEST_BYTES",
      "MIN_CREDENTIAL_VALIDITY_MS",
      "SecretRegistry",
      "apiVersions",
      "assertCredentialFresh",
      "assertNoConfigIssues",
      "authConfigSchema",
      "cacheDurationUntil",
      "cacheKeyTypes",
      "cloudFaults",
      "configApiVersions",
      "createHttpClient",
      "createHttpResponse",
      "createLogger",
      "credentialProviderRequestSchema",
      "credentialProviderResponseSchema",
      "decodeRequest",
      "defineProvider",
      "describeErrorCode",
      "encodeResponse",
      "errorCodeOf",
      "errorCodes",
      "exitCodeFor",
      "formatConfigIssue",
      "formatConfigIssues",
      "formatDuration",
      "formatDurationNanos",
      "isApiVersion",
      "isCloudCallError",
      "isCredentialProviderError",
      "isValidDuration",
      "loadConfig",
      "locateJsonError",
      "lookupAuth",
      "networkErrorCodes",
      "normalizeAuthKey",
      "normalizeImage",
      "packageVersion",
      "parseConfig",
      "parseDuration",
      "parseDurationNanos",
      "parseImage",
      "parseRegistryMirrors",
      "parseSchemelessUrl",
      "processIo",
      "proxyForUrl",
      "registryHostOf",
      "runProvider",
      "safeParseImage",
      "tlsErrorCodes",
      "urlsMatch",
      "validateConfig",
      "versionLine",
    ]);
  });

  it("loads neither yaml nor Node's http stack until they are used", async () => {
    // Start-up cost is a product feature: the kubelet execs a provider on every cache miss.
    expect(await modulesLoadedBy(new URL("./index.ts", import.meta.url).pathname)).toEqual({
      yaml: false,
      https: false,
    });
  });

  it("the start-up probe sees yaml and https when they are loaded", async () => {
    const fixture = new URL("../testdata/loads-yaml-and-https.ts", import.meta.url).pathname;
    expect(await modulesLoadedBy(fixture)).toEqual({ yaml: true, https: true });
  });
});

/** Imports a module in a fresh Node and reports whether yaml and https were loaded by it. */
async function modulesLoadedBy(path: string): Promise<{ yaml: boolean; https: boolean }> {
  const { urls, https } = probeLoads(`await import(${JSON.stringify(path)});`, process.cwd());
  return { yaml: urls.some((url) => url.includes("/node_modules/yaml/")), https };
}
