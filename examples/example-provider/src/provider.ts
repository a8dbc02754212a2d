import { readFile } from "node:fs/promises";
import {
  assertCredentialFresh,
  cacheDurationUntil,
  defineProvider,
  CredentialProviderError as Failure,
  packageVersion,
  registryHostOf,
} from "@kubelet-credential-provider/core";

// The Example registry serves `registry.example.com` and its subdomains. Its token service trades
// a node's API key for a registry password that expires.
const isExampleRegistry = (host: string) => /^([a-z0-9-]+\.)*registry\.example\.com$/.test(host);

export const provider = defineProvider({
  name: "example-credential-provider",
  version: packageVersion(new URL("../package.json", import.meta.url)),
  description: "Trades the node's API key for short-lived Example registry credentials.",
  defaultMatchImages: ["registry.example.com", "*.registry.example.com"],
  flags: {
    "token-url": {
      type: "string",
      description: "The token service.",
      default: "https://auth.registry.example.com/token",
    },
    "api-key-file": {
      type: "string",
      description: "The node's API key.",
      default: "/etc/example-registry/api-key",
    },
  },
  async getCredentials(request, { flags, http, secrets, log }) {
    const host = registryHostOf(request.image);
    // Never send our key, or hand out its credentials, for another registry.
    if (!isExampleRegistry(host)) throw new Failure("NOT_MY_REGISTRY", `${host} is not an Example registry`);

    const keyFile = flags["api-key-file"];
    const apiKey = await readFile(keyFile, "utf8").then(
      (text) => text.trim(),
      (error: NodeJS.ErrnoException) => {
        throw new Failure("CONFIG_INVALID", `cannot read the API key file ${keyFile} (${error.code})`);
      },
    );
    secrets.add(apiKey); // from now on, masked in every log line and error message
    log.v(2, `asking ${flags["token-url"]} for ${host}`);
    const response = await http.request(flags["token-url"], {
      endpoint: "Example token service", // names the call in logs and errors
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ registry: host }),
    });
    if (response.status !== 200)
      throw new Failure("CLOUD_AUTH_FAILED", `token service answered ${response.status}`);

    const { username, password, expiresAt } = response.json() as Record<string, unknown>;
    if (typeof username !== "string" || typeof password !== "string" || typeof expiresAt !== "string") {
      throw new Failure("CLOUD_AUTH_FAILED", "token service answer lacks username, password or expiresAt");
    }
    secrets.add(password);
    assertCredentialFresh(new Date(expiresAt), "Example token service"); // never answer an expired one
    return {
      cacheKeyType: "Registry",
      cacheDuration: cacheDurationUntil(new Date(expiresAt)), // half the remaining validity
      auth: { [host]: { username, password } },
    };
  },
});
