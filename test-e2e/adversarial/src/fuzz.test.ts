/**
 * Property-based fuzzing of stdin, against each real executable and the emulator: malformed JSON,
 * wrong types, BOMs, deep nesting, duplicate keys, huge strings, control and unicode characters,
 * hostile hosts (userinfo, ports, IPv6 literals, trailing dots, percent-encoding, punycode and
 * lookalike suffixes) and odd service account tokens. Whatever comes in: exit 0 with exactly one
 * valid response or exit 1 with one stderr line, never a stack trace, under 5 s, no secret on
 * stderr; and a request refused as bad or not this provider's makes no connection at all.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exec, PROVIDERS, V1 } from "./exec.ts";
import { checkOutcome, errorLine, leakedSecrets, redact } from "./invariants.ts";
import type { Path } from "./paths.ts";
import { emulatedPaths } from "./paths.ts";
import { LONG, record } from "./summary.ts";

const RUNS = LONG ? 500 : 60;

const shared = emulatedPaths();

/** Ways to bend a registry host that a provider must refuse or read correctly, never misread. */
function hostileHost(host: string): fc.Arbitrary<string> {
  const [first = "", ...rest] = host.split(".");
  const tail = rest.join(".");
  return fc.oneof(
    fc.constant(host),
    fc.constant(host.toUpperCase()),
    fc.constantFrom(
      `user:pass@${host}`,
      `${host}@evil.example`,
      `${host}:443`,
      `${host}:0`,
      `${host}:99999`,
      `${host}.`,
      `${host}..`,
      `.${host}`,
      `${host}.evil.example`,
      `evil-${host}`,
      `${first}-evil.${tail}`,
      `${first}.evil.${tail}`,
      `${host}%2eevil.example`,
      encodeURIComponent(host).replaceAll(".", "%2E"),
      `xn--${first}.${tail}`,
      `${first}.${tail.replace("a", "\u0430")}`, // a Cyrillic а
      `${first}\uff0e${tail}`, // a fullwidth dot
      `[::1]`,
      `[fd00:ec2::254]:443`,
      `127.0.0.1`,
      `169.254.169.254`,
      `${host}\u0000.evil.example`,
      `${host}\r\nx-injected: 1`,
      ` ${host}`,
      `${host}#frag`,
      `${host}?q=1`,
      `https://${host}`,
      `${first}.${"a".repeat(300)}.${tail}`,
    ),
    fc.string({ unit: "binary", maxLength: 40 }),
  );
}

function image(host: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      hostileHost(host),
      fc.oneof(
        fc.constant("/team/app"),
        fc.constant("/team/app:1.0"),
        fc.constant(`/team/app@sha256:${"a".repeat(64)}`),
        fc.constant(""),
        fc.constant("//x"),
        fc.constant("/../../etc/passwd"),
        fc.string({ unit: "grapheme", maxLength: 30 }).map((s) => `/${s}`),
      ),
    )
    .map(([h, path]) => `${h}${path}`);
}

const oddToken = fc.oneof(
  fc.constant(undefined),
  fc.constant(""),
  fc.constant("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWZ1enotdG9rZW4"),
  fc.string({ unit: "grapheme", minLength: 8, maxLength: 200 }),
  fc.constant("fuzz-token-\n-with-a-newline-0123456789"),
  fc.constant(`fuzz-token-${"x".repeat(100_000)}`),
);

const annotations = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), { maxKeys: 4 }),
  fc.constant({ "eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/x\u0000" }),
  fc.constant({ "kubernetes.azure.com/acr-client-id": "", "kubernetes.azure.com/acr-tenant-id": "../.." }),
  fc.constant({ "iam.gke.io/enable-wi-image-pull": "true" }),
);

/** A whole stdin: a request, bent in one of many ways, or not a request at all. */
function stdin(host: string): fc.Arbitrary<{ text: string; secrets: string[] }> {
  const request = fc
    .record({
      image: image(host),
      serviceAccountToken: oddToken,
      serviceAccountAnnotations: annotations,
      apiVersion: fc.oneof(
        fc.constant(V1),
        fc.constantFrom(
          "credentialprovider.kubelet.k8s.io/v1beta1",
          "credentialprovider.kubelet.k8s.io/v1alpha1",
          "credentialprovider.kubelet.k8s.io/v2",
          "",
        ),
      ),
    })
    .map((r) => {
      const body: Record<string, unknown> = { kind: "CredentialProviderRequest", ...r };
      for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
      return { body, secrets: r.serviceAccountToken ? [r.serviceAccountToken] : [] };
    });
  const bent = request.chain(({ body, secrets }) => {
    const json = JSON.stringify(body);
    const token = typeof body.serviceAccountToken === "string" ? body.serviceAccountToken : "";
    return fc
      .oneof(
        fc.constant(json),
        fc.constant(`\ufeff${json}`),
        fc.constant(`${json}\n${json}`),
        fc.constant(json.slice(0, Math.max(1, Math.floor(json.length / 2)))),
        fc.constant(`${json.slice(0, -1)},"image":"evil.example/x"}`), // a duplicate key
        fc.constant(`${json.slice(0, -1)},"extra":${"[".repeat(10_000)}${"]".repeat(10_000)}}`),
        fc.constant(`${json.slice(0, -1)},"image":${JSON.stringify("x".repeat(900_000))}}`),
        fc.constant(json.replace(`"kind"`, `"kind":42,"kind"`)),
        fc.constant(json.replace(/"image":"[^"]*"/, `"image":["a"]`)),
        fc.constant(json.replace(/"image":"[^"]*"/, `"image":null`)),
        fc.constant(token ? json.replace(JSON.stringify(token), "{}") : json),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.constant(""),
        fc.constant("   \n"),
        fc.constant("null"),
      )
      .map((text) => ({ text, secrets }));
  });
  return bent;
}

describe.each(PROVIDERS)("%s: fuzzed stdin", (name) => {
  it(`${RUNS} requests: one answer or one line, under 5 s, no leak, no call for a refused request`, async () => {
    // The provider's first path: its node's own identity.
    const setup = shared.all.find((path) => path.provider === name) as Path;
    const host = setup.image.split("/")[0] as string;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(stdin(host), async ({ text, secrets }) => {
        runs++;
        const before = shared.emulator.connections().length;
        const run = await exec(name, { args: setup.args, env: setup.env, stdin: text, killAfterMs: 10_000 });
        const connections = shared.emulator.connections().length - before;
        const verdict = checkOutcome(run, { provider: name, withinMs: 5_000 });
        const problems = [...verdict.problems];
        const leaks = leakedSecrets(run.stderr, [...secrets, ...shared.emulator.issued()]);
        if (leaks.length > 0) problems.push(`secrets on stderr: ${leaks.join(", ")}`);
        if (
          run.code === 1 &&
          /^[^:]+: (bad request|not this provider's registry|unsupported apiVersion|usage):/.test(
            errorLine(run),
          )
        ) {
          if (connections > 0) problems.push(`refused, yet made ${connections} connection(s)`);
        }
        if (problems.length > 0) {
          throw new Error(
            `${problems.join("; ")}\nstderr: ${redact(run.stderr, [...secrets, ...shared.emulator.issued()]).slice(0, 500)}`,
          );
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    record({ kind: "fuzz", provider: name, cases: runs });
    expect(runs).toBe(RUNS);
  });
});
