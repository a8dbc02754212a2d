/**
 * A node booting with 50 images: 50 concurrent execs of each provider against its token API
 * throttled at 20 requests/s with a burst of 1 (each cloud's own throttling answer, Retry-After 1),
 * and again with 10% of its metadata / IMDS calls failing (a 503 or a reset). Every exec must
 * answer before the kubelet's deadline, since each had 50 s to do it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Emulator, NodeSetup } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecResult } from "./exec.ts";
import { assertBuilt, exec, request } from "./exec.ts";
import { checkOutcome, errorLine, leakedSecrets } from "./invariants.ts";
import { LONG, record } from "./summary.ts";

const EXECS = 50;
const ROUNDS = LONG ? 3 : 1;
const THROTTLE = { perSecond: 20, burst: 1, retryAfter: 1 };

let emulator: Emulator;
let setups: Map<string, NodeSetup>;

beforeAll(async () => {
  assertBuilt();
  emulator = await startEmulator();
  setups = new Map(nodeSetups(emulator).map((setup) => [setup.name, setup]));
});
afterAll(async () => {
  await emulator?.close();
});

interface Burst {
  provider: string;
  setting: string;
  setup: () => NodeSetup;
  /** The token API: throttled. */
  token: string;
  /** Metadata / IMDS endpoints: 10% of their calls fail in the second setting. */
  metadata: string[];
}

/** ACR with the node's managed identity: its token API is IMDS itself. */
function acrManagedIdentity(): NodeSetup {
  emulator.azure.managedIdentity();
  const file = join(emulator.dir, "burst-azure-mi.json");
  writeFileSync(
    file,
    JSON.stringify({ tenantId: emulator.azure.tenantId, useManagedIdentityExtension: true }),
  );
  const base = setups.get("acr-credential-provider") as NodeSetup;
  return { ...base, args: [file], env: { ...emulator.env(), ...emulator.azure.imdsEnv() } };
}

const setup = (name: string) => () => setups.get(name) as NodeSetup;

const bursts: Burst[] = [
  {
    provider: "ecr-credential-provider",
    setting: "ECR throttled",
    setup: setup("ecr-credential-provider"),
    token: "ecr.GetAuthorizationToken",
    metadata: [],
  },
  {
    provider: "ecr-credential-provider",
    setting: "ECR throttled, 10% of IMDS calls failing",
    setup: setup("ecr-credential-provider"),
    token: "ecr.GetAuthorizationToken",
    metadata: ["imds.token", "imds.credentials"],
  },
  {
    provider: "acr-credential-provider",
    setting: "Entra throttled",
    setup: setup("acr-credential-provider"),
    token: "entra.token",
    metadata: [],
  },
  {
    provider: "acr-credential-provider",
    setting: "Azure IMDS throttled, 10% of its calls failing",
    setup: acrManagedIdentity,
    token: "imds.identity",
    metadata: ["imds.identity"],
  },
  {
    provider: "auth-provider-gcp",
    setting: "metadata token throttled",
    setup: setup("auth-provider-gcp"),
    token: "gce.token",
    metadata: [],
  },
  {
    provider: "auth-provider-gcp",
    setting: "metadata token throttled, 10% of metadata calls failing",
    setup: setup("auth-provider-gcp"),
    token: "gce.token",
    metadata: ["gce.token", "gce.metadata"],
  },
];

describe.each(bursts)("$provider: $setting", (burst) => {
  it(`${EXECS} concurrent execs all answer before the deadline`, async () => {
    const node = burst.setup();
    let seed = 7;
    for (let round = 0; round < ROUNDS; round++) {
      emulator.clearFaults();
      emulator.rateLimit(burst.token, THROTTLE);
      for (const id of burst.metadata) {
        emulator.flaky(id, { rate: 0.1, kinds: ["status503", "reset"], seed: seed++ });
      }
      const before = emulator.calls(burst.token);
      const runs: ExecResult[] = await Promise.all(
        Array.from({ length: EXECS }, () =>
          exec(node.name, {
            args: node.args,
            env: node.env,
            stdin: request(node.image),
            killAfterMs: 70_000,
          }),
        ),
      );
      const answered = runs.filter((run) => run.code === 0).length;
      record({ kind: "burst", provider: burst.provider, setting: burst.setting, execs: EXECS, answered });
      const failures = runs
        .filter((run) => run.code !== 0)
        .map((run) => errorLine(run))
        .slice(0, 3);
      expect(failures, `${answered}/${EXECS} answered`).toEqual([]);
      for (const run of runs) {
        expect(checkOutcome(run, { provider: burst.provider, withinMs: 50_000 }).problems).toEqual([]);
        expect(leakedSecrets(run.stderr, emulator.issued())).toEqual([]);
      }
      // The throttle really bit: more calls than answers reached the token API.
      expect(emulator.calls(burst.token) - before).toBeGreaterThan(EXECS);
    }
    emulator.clearFaults();
  });
});
