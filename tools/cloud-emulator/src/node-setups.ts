/**
 * How each provider runs against the emulator as an ordinary node would: the arguments, the
 * environment (the proxy and CA, and the cloud's own settings) and an image it answers for. The
 * bench (tools/build) and the release binaries' e2e test run every provider this way.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Emulator } from "./emulator.ts";

export interface NodeSetup {
  /** The executable's name. */
  name: string;
  args: string[];
  env: Record<string, string>;
  image: string;
  /** The emulator endpoint ids one request calls. */
  calls: string[];
}

/**
 * One setup per provider: the example registry with its API key file; ECR with the instance role's
 * credentials from IMDSv2, as an EKS node; ACR with a client secret in an azure.json written to the
 * emulator's directory; Google with the node's token from the metadata server.
 */
export function nodeSetups(emulator: Emulator): NodeSetup[] {
  const clientId = randomUUID();
  const azureJson = join(emulator.dir, `node-azure-${clientId}.json`);
  writeFileSync(
    azureJson,
    JSON.stringify({
      tenantId: emulator.azure.tenantId,
      aadClientId: clientId,
      aadClientSecret: emulator.azure.registerClientSecret(clientId),
    }),
  );
  const proxy = emulator.env();
  return [
    {
      name: "example-credential-provider",
      args: [`--api-key-file=${emulator.example.apiKeyFile}`],
      env: proxy,
      image: "registry.example.com/team/app",
      calls: ["example.token"],
    },
    {
      name: "ecr-credential-provider",
      args: [],
      env: {
        ...proxy,
        ...emulator.aws.imdsEnv(),
        AWS_CONFIG_FILE: "/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      },
      image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app",
      calls: ["imds.token", "imds.credentials", "ecr.GetAuthorizationToken"],
    },
    {
      name: "acr-credential-provider",
      args: [azureJson],
      env: { ...proxy, ...emulator.azure.imdsEnv() },
      image: "myregistry.azurecr.io/team/app",
      calls: ["entra.token", "registry.v2", "acr.exchange"],
    },
    {
      name: "auth-provider-gcp",
      args: ["get-credentials"],
      env: { ...proxy, ...emulator.google.metadataEnv() },
      image: "us-docker.pkg.dev/my-project/team/app",
      calls: ["gce.token", "gce.metadata"],
    },
  ];
}
