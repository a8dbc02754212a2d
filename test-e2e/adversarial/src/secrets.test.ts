/**
 * Secrets under every debug switch: each path's answer, and its refusals, at -v 10 with
 * NODE_DEBUG=*, AZURE_LOG_LEVEL=verbose, DEBUG=*, GOOGLE_SDK_NODE_LOGGING=* (the fault matrix
 * does the same for every failure). No issued or input secret may appear on stderr as text, hex
 * or base64.
 */
import { describe, expect, it } from "vitest";
import { exec } from "./exec.ts";
import { checkOutcome, leakedSecrets } from "./invariants.ts";
import type { Path } from "./paths.ts";
import { DEBUG_ENV, emulatedPaths, PATH_COUNT } from "./paths.ts";
import { record } from "./summary.ts";

const shared = emulatedPaths();

/** The same request for a host the provider must refuse, and one it cannot read. */
const variants = (path: Path) => [
  { how: "answer", stdin: path.stdin, code: 0 },
  {
    how: "refused host",
    stdin: path.stdin.replace(/"image":"([^"/]+)/, '"image":"$1.evil.example'),
    code: 1,
  },
  { how: "bad request", stdin: path.stdin.replace(/}\s*$/, ""), code: 1 },
];

describe("no secret on stderr at -v 10 under every debug switch", () => {
  for (let index = 0; index < PATH_COUNT; index++) {
    it(`path ${index}: answer, refusal and bad request`, async () => {
      const path = shared.all[index];
      if (!path) throw new Error(`no path ${index}`);
      for (const variant of variants(path)) {
        const run = await exec(path.provider, {
          args: [...path.args, "--v=10"],
          env: { ...path.env, ...DEBUG_ENV },
          stdin: variant.stdin,
        });
        const what = `${path.name}, ${variant.how}`;
        expect(run.code, what).toBe(variant.code);
        expect(
          checkOutcome(run, { provider: path.provider, verbose: true, withinMs: 20_000 }).problems,
          what,
        ).toEqual([]);
        // The secrets of this path's inputs, of every earlier run, and all the emulator ever issued.
        const leaks = leakedSecrets(run.stderr, [...shared.emulator.issued(), ...path.inputs]);
        record({ kind: "secrets", provider: path.provider, path: what, ok: leaks.length === 0 });
        expect(leaks, what).toEqual([]);
      }
    });
  }
});

it("the paths cover each provider", () => {
  expect(new Set(shared.all.map((path) => path.provider))).toEqual(
    new Set(["ecr-credential-provider", "acr-credential-provider", "auth-provider-gcp"]),
  );
  expect(shared.all).toHaveLength(PATH_COUNT);
});
