/**
 * The Example registry's cloud (docs/writing-a-provider.md): a token service that trades the
 * node's API key for a registry password that expires, and the registry that accepts it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Emulator } from "../emulator.ts";
import { json, text } from "../request.ts";

export interface ExampleCloudOptions {
  /** Of each issued password. Default 3600. */
  validitySeconds?: number;
}

export interface ExampleCloud {
  /** The node's API key: generated, in the ledger. */
  readonly apiKey: string;
  /** The API key in a file (mode 0600), for the provider's --api-key-file. */
  readonly apiKeyFile: string;
  /** The provider's default --token-url. */
  readonly tokenUrl: string;
  /** Of each password issued from now on. */
  validitySeconds: number;
}

export const exampleTokenHost = "auth.registry.example.com";
export const exampleRegistryHosts = ["registry.example.com", "*.registry.example.com"] as const;

// The provider's own rule: the registry and its subdomains, no port.
const _isExampleRegistry = (host: string) => /^([a-z0-9-]+\.)*registry\.example\.com$/.test(host);

export async function installExampleCloud(
  emulator: Pick<Emulator, "route" | "issueSecret" | "registry" | "dir">,
  options: ExampleCloudOptions = {},
): Promise<ExampleCloud> {
  const apiKey = emulator.issueSecret("example-apikey-");
  const apiKeyFile = join(emulator.dir, "example-api-key");
  await writeFile(apiKeyFile, `${apiKey}\n`, { mode: 0o600 });
  const cloud: ExampleCloud = {
    apiKey,
    apiKeyFile,
    tokenUrl: `https://${exampleTokenHost}/token`,
    validitySeconds: options.validitySeconds ?? 3600,
  };

  emulator.route(
    { id: "example.token", host: exampleTokenHost, method: "POST", path: "/token" },
    (req, ctx) => {
      if (req.bearer() !== cloud.apiKey) return text(401, "invalid or missing API key");
      const registry = (req.json() as { registry?: unknown } | null)?.registry;
      if (typeof registry !== "string" || !_isExampleRegistry(registry)) {
        return text(400, "registry must be registry.example.com or one of its subdomains");
      }
      const password = ctx.issueSecret("example-pw-");
      const expiresAt = ctx.expired
        ? new Date(Date.now() - 60_000)
        : new Date(Date.now() + cloud.validitySeconds * 1000);
      emulator.registry.accept(registry, "node", password, { expiresAt });
      return json(200, { username: "node", password, expiresAt: expiresAt.toISOString() });
    },
  );
  for (const host of exampleRegistryHosts) emulator.registry.serve(host, { scheme: "bearer" });
  return cloud;
}
