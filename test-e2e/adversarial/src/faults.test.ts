/**
 * The fault matrix: every emulated endpoint a provider calls × every way a cloud misbehaves. A
 * fault that passes (its first call only) must end in an answer after retries; a fault that stays
 * must end in one clear error naming the endpoint and the fault, before the deadline. Every run is
 * at -v 10 with every debug switch on, and its stderr is searched for every secret in every form;
 * peak RSS stays under 150 MB, 64 MiB answers included.
 *
 * Endpoints run in parallel, each with its own emulator (a fault on one endpoint must not reach
 * another's runs); the cells of one endpoint run one after another.
 */
import type { Emulator, FaultSpec } from "@kubelet-credential-provider/cloud-emulator";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { describe, expect, it } from "vitest";
import { assertBuilt, exec, gnuTime } from "./exec.ts";
import { checkOutcome, errorLine, leakedSecrets, redact } from "./invariants.ts";
import type { Path } from "./paths.ts";
import { DEBUG_ENV, emulatorOptions, identityBindings, paths } from "./paths.ts";
import { LONG, record } from "./summary.ts";

/** The deadline of runs whose fault stays: long enough for several retries, short enough to bound the suite. */
const PERSISTENT_DEADLINE_S = LONG ? 50 : 6;
const MAX_RSS_MB = 150;

interface Fault {
  name: string;
  spec: FaultSpec;
  /** Retried by the one retry policy: once passed, the run answers. */
  retryable: boolean;
  /** How the error line names this fault when it stays. */
  words: RegExp;
  /** Only for endpoints that issue a credential. */
  credentialOnly?: boolean;
}

const FAULTS: Fault[] = [
  {
    name: "throttled, Retry-After",
    spec: { kind: "throttle", retryAfter: 1 },
    retryable: true,
    words: /throttl/i,
  },
  { name: "throttled", spec: { kind: "throttle" }, retryable: true, words: /throttl/i },
  { name: "500", spec: { kind: "status", status: 500 }, retryable: true, words: /HTTP 500/ },
  { name: "503", spec: { kind: "status", status: 503 }, retryable: true, words: /HTTP 503/ },
  { name: "reset", spec: { kind: "reset" }, retryable: true, words: /connection/ },
  { name: "hang", spec: { kind: "hang" }, retryable: true, words: /did not answer/ },
  {
    name: "slow headers",
    spec: { kind: "slowHeaders", ms: 60_000 },
    retryable: true,
    words: /did not answer/,
  },
  {
    name: "slow body",
    spec: { kind: "slowBody", ms: 60_000 },
    retryable: true,
    words: /did not (finish|answer)/,
  },
  { name: "truncated", spec: { kind: "truncated" }, retryable: true, words: /truncated/ },
  {
    name: "malformed JSON",
    spec: { kind: "malformed", format: "jsonWithSecret" },
    retryable: false,
    words: /./,
  },
  { name: "malformed XML", spec: { kind: "malformed", format: "xml" }, retryable: false, words: /./ },
  { name: "malformed HTML", spec: { kind: "malformed", format: "html" }, retryable: false, words: /./ },
  {
    name: "bare JSON string",
    spec: { kind: "malformed", format: "jsonString" },
    retryable: false,
    words: /./,
  },
  { name: "64 MiB body", spec: { kind: "huge" }, retryable: false, words: /larger than/ },
  {
    name: "expired token",
    spec: { kind: "expired" },
    retryable: false,
    words: /expire/i,
    credentialOnly: true,
  },
];

interface Endpoint {
  id: string;
  /** The path (by index in paths()) whose runs call it. */
  path: number;
  /** How the provider's error line names it. */
  named: RegExp;
  issuesCredential: boolean;
}

/** Each endpoint a provider calls, the path that reaches it, and how errors name it. */
const ENDPOINTS: Endpoint[] = [
  { id: "imds.token", path: 0, named: /IMDS/, issuesCredential: false },
  { id: "imds.credentials", path: 0, named: /IMDS/, issuesCredential: true },
  { id: "ecr.GetAuthorizationToken", path: 0, named: /ECR GetAuthorizationToken/, issuesCredential: true },
  {
    id: "ecr-public.GetAuthorizationToken",
    path: 1,
    named: /ECR Public GetAuthorizationToken/,
    issuesCredential: true,
  },
  {
    id: "sts.AssumeRoleWithWebIdentity",
    path: 2,
    named: /STS AssumeRoleWithWebIdentity/,
    issuesCredential: true,
  },
  { id: "entra.token", path: 3, named: /Entra/, issuesCredential: true },
  { id: "acr.challenge", path: 3, named: /ACR challenge/, issuesCredential: false },
  { id: "acr.exchange", path: 3, named: /ACR exchange/, issuesCredential: true },
  { id: "imds.identity", path: 4, named: /IMDS/, issuesCredential: true },
  { id: "gce.token", path: 5, named: /metadata/i, issuesCredential: true },
  { id: "gce.attributes", path: 9, named: /metadata|instance attribute/i, issuesCredential: false },
  { id: "google.iamcredentials", path: 6, named: /IAM/, issuesCredential: true },
  { id: "google.sts", path: 7, named: /STS/, issuesCredential: true },
  ...(identityBindings
    ? [{ id: "aks.identityBindings", path: 10, named: /AKS identity bindings/, issuesCredential: true }]
    : []),
];

interface Cell {
  fault: Fault;
  mode: "transient" | "persistent";
}

function cells(endpoint: Endpoint): Cell[] {
  const faults = FAULTS.filter((fault) => !fault.credentialOnly || endpoint.issuesCredential);
  return [
    ...faults.filter((f) => f.retryable).map((fault) => ({ fault, mode: "transient" as const })),
    ...faults.map((fault) => ({ fault, mode: "persistent" as const })),
  ];
}

async function runCell(emulator: Emulator, path: Path, endpoint: Endpoint, cell: Cell): Promise<string[]> {
  emulator.clearFaults();
  emulator.fault(endpoint.id, cell.mode === "transient" ? { ...cell.fault.spec, times: 1 } : cell.fault.spec);
  const deadline = cell.mode === "persistent" ? [`--deadline=${PERSISTENT_DEADLINE_S}s`] : [];
  const run = await exec(path.provider, {
    args: [...path.args, "--v=10", ...deadline],
    env: { ...path.env, ...DEBUG_ENV },
    stdin: path.stdin,
    killAfterMs: 70_000,
  });
  const withinMs = cell.mode === "persistent" ? PERSISTENT_DEADLINE_S * 1000 + 1_500 : 50_000;
  const problems = checkOutcome(run, { provider: path.provider, verbose: true, withinMs }).problems;
  const secrets = [...emulator.issued(), ...path.inputs];
  const leaks = leakedSecrets(run.stderr, secrets);
  if (leaks.length > 0) problems.push(`secrets on stderr: ${leaks.join(", ")}`);
  if (run.peakRssMb !== undefined && run.peakRssMb > MAX_RSS_MB) {
    problems.push(`peak RSS ${Math.round(run.peakRssMb)} MB`);
  }
  const line = redact(errorLine(run), secrets);
  if (cell.mode === "transient") {
    if (run.code !== 0) problems.push(`no answer after a passing fault: ${line}`);
  } else if (run.code !== 1) {
    problems.push("answered although the fault stayed");
  } else {
    if (!endpoint.named.test(line)) problems.push(`the error does not name the endpoint: ${line}`);
    if (!cell.fault.words.test(line)) problems.push(`the error does not name the fault: ${line}`);
  }
  return problems;
}

describe("fault matrix", () => {
  if (gnuTime === undefined) {
    // The 150 MB bound needs GNU time; CI installs it (.ci/install-test-deps) and requires it.
    if (process.env.CI === "true")
      throw new Error("adversarial: /usr/bin/time (GNU time) is required with CI=true");
    console.warn("adversarial: /usr/bin/time is missing: peak RSS is not checked");
  }

  it("each path answers cleanly, calling exactly the endpoints the matrix covers", async () => {
    assertBuilt();
    const emulator = await startEmulator(emulatorOptions);
    try {
      const all = paths(emulator);
      for (const [index, path] of all.entries()) {
        const before = emulator.callCounts();
        const run = await exec(path.provider, { args: path.args, env: path.env, stdin: path.stdin });
        expect(run.code, `${path.name}: ${redact(run.stderr, emulator.issued())}`).toBe(0);
        const called = Object.entries(emulator.callCounts())
          .filter(([id, count]) => count > (before[id] ?? 0) && !id.startsWith("registry."))
          .map(([id]) => id);
        for (const id of called) {
          expect(
            ENDPOINTS.some((e) => e.id === id),
            `${path.name} calls ${id}, which the matrix lacks`,
          ).toBe(true);
        }
        for (const endpoint of ENDPOINTS.filter((e) => e.path === index)) {
          expect(called, `${path.name} does not call ${endpoint.id}`).toContain(endpoint.id);
        }
      }
    } finally {
      await emulator.close();
    }
  });

  it.concurrent.each(ENDPOINTS.map((endpoint) => [endpoint.id, endpoint] as const))(
    "%s: every fault ends in an answer or one clear error, in time, in memory, without a leak",
    async (_id, endpoint) => {
      assertBuilt();
      const emulator = await startEmulator(emulatorOptions);
      const failures: string[] = [];
      try {
        const path = paths(emulator)[endpoint.path] as Path;
        for (const cell of cells(endpoint)) {
          const problems = await runCell(emulator, path, endpoint, cell);
          record({
            kind: "fault",
            provider: path.provider,
            endpoint: endpoint.id,
            fault: cell.fault.name,
            mode: cell.mode,
            ok: problems.length === 0,
          });
          if (problems.length > 0) failures.push(`${cell.fault.name} (${cell.mode}): ${problems.join("; ")}`);
        }
      } finally {
        await emulator.close();
      }
      expect(failures).toEqual([]);
    },
  );
});
