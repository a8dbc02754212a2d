/**
 * A node booting with 50 images: 50 concurrent execs of each provider against its token API
 * throttled at 20 requests/s with a burst of 1 (each cloud's own throttling answer, Retry-After 1),
 * and again with 10% of its metadata / IMDS calls failing (a 503 or a reset). Every exec must
 * answer before the kubelet's deadline, since each had 50 s to do it.
 */
import { describe, expect, it } from "vitest";
import type { ExecResult } from "./exec.ts";
import { launch } from "./exec.ts";
import { checkOutcome, errorLine, leakedSecrets } from "./invariants.ts";
import type { Path } from "./paths.ts";
import { emulatedPaths } from "./paths.ts";
import { LONG, record } from "./summary.ts";

const EXECS = 50;
const ROUNDS = LONG ? 3 : 1;
const THROTTLE = { perSecond: 20, burst: 1, retryAfter: 1 };

const shared = emulatedPaths();

interface Burst {
  provider: string;
  setting: string;
  /** How the provider reaches its cloud: an index into paths(). */
  path: number;
  /** The token API: throttled. */
  token: string;
  /** Metadata / IMDS endpoints: 10% of their calls fail in the second setting. */
  metadata: string[];
}

const bursts: Burst[] = [
  {
    provider: "ecr-credential-provider",
    setting: "ECR throttled",
    path: 0,
    token: "ecr.GetAuthorizationToken",
    metadata: [],
  },
  {
    provider: "ecr-credential-provider",
    setting: "ECR throttled, 10% of IMDS calls failing",
    path: 0,
    token: "ecr.GetAuthorizationToken",
    metadata: ["imds.token", "imds.credentials"],
  },
  {
    provider: "acr-credential-provider",
    setting: "Entra throttled",
    path: 3,
    token: "entra.token",
    metadata: [],
  },
  {
    provider: "acr-credential-provider",
    setting: "Azure IMDS throttled, 10% of its calls failing",
    path: 4,
    token: "imds.identity",
    metadata: ["imds.identity"],
  },
  {
    provider: "auth-provider-gcp",
    setting: "metadata token throttled",
    path: 5,
    token: "gce.token",
    metadata: [],
  },
  {
    provider: "auth-provider-gcp",
    setting: "metadata token throttled, 10% of metadata calls failing",
    path: 5,
    token: "gce.token",
    metadata: ["gce.token"],
  },
];

describe.each(bursts)("$provider: $setting", (burst) => {
  it(`${EXECS} concurrent execs all answer before the deadline`, async () => {
    const node = shared.all[burst.path] as Path;
    expect(node.provider).toBe(burst.provider);
    let seed = 7;
    for (let round = 0; round < ROUNDS; round++) {
      shared.emulator.clearFaults();
      shared.emulator.rateLimit(burst.token, THROTTLE);
      for (const id of burst.metadata) {
        shared.emulator.flaky(id, { rate: 0.1, kinds: ["status503", "reset"], seed: seed++ });
      }
      const before = shared.emulator.calls(burst.token);
      const pending: Array<Promise<ExecResult>> = [];
      for (let i = 0; i < EXECS; i++) {
        const run = launch(node.provider, {
          args: node.args,
          env: node.env,
          stdin: node.stdin,
          killAfterMs: 70_000,
        });
        pending.push(run.done);
        await run.written;
      }
      const runs = await Promise.all(pending);
      const answered = runs.filter((run) => run.code === 0).length;
      record({ kind: "burst", provider: burst.provider, setting: burst.setting, execs: EXECS, answered });
      const failures = runs
        .filter((run) => run.code !== 0)
        .map((run) => errorLine(run))
        .slice(0, 3);
      expect(failures, `${answered}/${EXECS} answered`).toEqual([]);
      for (const run of runs) {
        expect(checkOutcome(run, { provider: burst.provider, withinMs: 50_000 }).problems).toEqual([]);
        expect(leakedSecrets(run.stderr, shared.emulator.issued())).toEqual([]);
      }
      // The throttle really bit: more calls than answers reached the token API.
      expect(shared.emulator.calls(burst.token) - before).toBeGreaterThan(EXECS);
    }
    shared.emulator.clearFaults();
  });
});
