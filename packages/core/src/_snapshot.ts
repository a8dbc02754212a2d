/**
 * Standalone executables start from a V8 startup snapshot (tools/build/src/sea.ts): the build runs
 * the CLI once, and the state it leaves is what every exec starts from. The harness then must not
 * read a request at build time; it registers the run for later and preloads the provider's SDK.
 */
import type { ProviderDefinition } from "./define.ts";

/**
 * Set by tools/build (keep the two in step) for the snapshot build only. The variable is a cheap
 * first check: loading node:v8 to ask costs milliseconds on every ordinary run.
 */
const BUILDING_SNAPSHOT_ENV = "KUBELET_CREDENTIAL_PROVIDER_BUILDING_SNAPSHOT";

export function buildingSnapshot(): boolean {
  return (
    process.env[BUILDING_SNAPSHOT_ENV] === "1" &&
    process.getBuiltinModule("node:v8").startupSnapshot.isBuildingSnapshot()
  );
}

/**
 * Makes `run` the snapshot's entry point and evaluates the provider's lazily loaded modules into
 * it. A preload failure rejects, which fails the build rather than shipping a slow executable.
 */
export async function prepareSnapshot(
  provider: Pick<ProviderDefinition, "preload">,
  run: () => void,
): Promise<number> {
  process.getBuiltinModule("node:v8").startupSnapshot.setDeserializeMainFunction(run);
  await provider.preload?.();
  return 0;
}
