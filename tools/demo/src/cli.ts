/**
 * `pnpm demo`: the built example provider (dist/bin) answering the kubelet's requests against a
 * local token service, then a request it must refuse. Until the cloud providers land, this is
 * the whole tour; it cleans up after itself, also on Ctrl-C.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execProvider } from "./exec-provider.ts";
import { startTokenService } from "./token-service.ts";

const root = resolve(import.meta.dirname, "../../..");
const binary = join(root, "dist/bin/example-credential-provider");
if (!existsSync(binary)) {
  console.error(`${binary} is missing: run pnpm build first`);
  process.exit(1);
}

const workDir = mkdtempSync(join(tmpdir(), "kcp-demo-"));
const apiKey = `demo-api-key-${randomBytes(8).toString("hex")}`;
const keyFile = join(workDir, "api-key");
writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
const service = await startTokenService(apiKey);

let cleaned = false;
const cleanup = async () => {
  if (cleaned) return;
  cleaned = true;
  await service.close();
  rmSync(workDir, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().then(() => process.exit(130));
  });
}

const args = [`--token-url=${service.url}`, `--api-key-file=${keyFile}`];
const mask = (text: string) => service.issued.reduce((acc, pw) => acc.replaceAll(pw, "<redacted>"), text);
let failed = false;

console.log("kubelet-credential-providers demo: dist/bin/example-credential-provider\n");
for (const [title, image, apiVersion, expectOk] of [
  ["a private image, v1", "registry.example.com/team/app", "v1", true],
  ["another registry host, v1beta1", "eu.registry.example.com/team/app", "v1beta1", true],
  ["an image of another registry", "docker.io/library/nginx", "v1", false],
] as const) {
  const request = {
    kind: "CredentialProviderRequest",
    apiVersion: `credentialprovider.kubelet.k8s.io/${apiVersion}`,
    image,
  };
  const result = await execProvider(binary, args, request);
  console.log(`- ${title}: ${image}`);
  console.log(`  exit ${result.code} in ${result.ms} ms`);
  if (result.stdout) {
    const response = JSON.parse(result.stdout) as {
      cacheKeyType: string;
      cacheDuration?: string;
      auth?: Record<string, { username: string }>;
    };
    for (const [key, auth] of Object.entries(response.auth ?? {})) {
      console.log(`  credential for ${key}: username ${auth.username}, password <redacted>`);
    }
    console.log(
      `  cached by ${response.cacheKeyType} for ${response.cacheDuration ?? "the default duration"}`,
    );
  }
  if (result.stderr) console.log(`  stderr: ${mask(result.stderr.trim())}`);
  if ((result.code === 0) !== expectOk) failed = true;
  if (service.issued.some((pw) => result.stderr.includes(pw))) {
    console.log("  LEAK: an issued password reached stderr");
    failed = true;
  }
  console.log("");
}
console.log(
  `token service calls: ${service.calls()} (one per credential issued; the refused image made none)`,
);
await cleanup();
if (failed) {
  console.error("demo: a provider did not behave as expected");
  process.exit(1);
}
