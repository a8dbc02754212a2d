/**
 * `kubelet-credential-sim doctor`'s service account audience check against the kube-apiserver's
 * own code. The built doctor asks an API server on the emulator (through its proxy, with a
 * kubeconfig as a node's: the cluster's CA and a token); that server answers each
 * SelfSubjectAccessReview with the audience checker (conformance/kubelet/audience), which reads the
 * review as the API server's SelfSubjectAccessReview handler does and asks the real RBAC
 * authorizer over the case's RBAC objects, and runs the kubelet's TokenRequest for the same
 * service account through the real NodeRestriction admission plugin. For every case:
 * doctor's question for a service account is exactly the one NodeRestriction asks, and doctor says
 * ✓ exactly when NodeRestriction admits the request; doctor's ✓ for every service account means
 * NodeRestriction admits each one tried.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import { json, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audienceChecker, goAvailable, ourBinDir } from "./go.ts";

const run = promisify(execFile);
const enabled = goAvailable();
const AUDIENCE = "api://AzureADTokenExchange";
const NODE = "aks-nodepool1-12345678-vmss000000";
const API_HOST = "api.cluster.test";

interface Attributes {
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  resourceRequest: boolean;
  user: string;
}
/** The audience checker's answer for one review and one TokenRequest. */
interface Checked {
  asked: Attributes[];
  admitted: boolean;
  refusal?: string;
  invalid?: string;
  review: Attributes;
  allowed: boolean;
}
interface Review {
  spec: { resourceAttributes: { namespace: string; name: string } };
}

let emulator: Emulator;
let checker: string;
let dir: string;
const token = `node-token-${randomUUID()}`;
/** The RBAC objects of the case running, and the reviews doctor sent with their answers. */
let rbac: unknown[] = [];
let seen: Array<{ review: Review; checked: Checked }> = [];

async function check(review: unknown, namespace: string, serviceAccount: string): Promise<Checked> {
  const child = run(checker, [], { maxBuffer: 1024 * 1024 });
  child.child.stdin?.end(
    JSON.stringify({ review, node: NODE, namespace, serviceAccount, audience: AUDIENCE, rbac }),
  );
  return JSON.parse((await child).stdout) as Checked;
}

beforeAll(async () => {
  if (!enabled) return;
  checker = await audienceChecker();
  emulator = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "kcp-audience-"));
  emulator.route(
    {
      id: "k8s.selfsubjectreviews",
      host: API_HOST,
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    },
    (req) =>
      req.bearer() === token
        ? json(201, {
            status: {
              userInfo: { username: `system:node:${NODE}`, groups: ["system:nodes", "system:authenticated"] },
            },
          })
        : json(401, { kind: "Status", code: 401, message: "Unauthorized" }),
  );
  emulator.route(
    {
      id: "k8s.selfsubjectaccessreviews",
      host: API_HOST,
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    },
    async (req) => {
      if (req.bearer() !== token) return json(401, { kind: "Status", code: 401, message: "Unauthorized" });
      const review = req.json() as Review;
      const { namespace, name } = review.spec.resourceAttributes;
      // For every service account (no name), the TokenRequest is one pod's: default/app.
      const checked = await check(review, namespace || "default", name || "app");
      seen.push({ review, checked });
      if (checked.invalid !== undefined) {
        return json(422, { kind: "Status", code: 422, message: checked.invalid });
      }
      return json(201, { ...review, status: { allowed: checked.allowed } });
    },
  );
  writeFileSync(
    join(dir, "config.yaml"),
    [
      "apiVersion: kubelet.config.k8s.io/v1",
      "kind: CredentialProviderConfig",
      "providers:",
      "- name: acr-credential-provider",
      '  matchImages: ["*.azurecr.io"]',
      "  defaultCacheDuration: 10m",
      "  apiVersion: credentialprovider.kubelet.k8s.io/v1",
      "  args: [/etc/kubernetes/azure.json]",
      "  tokenAttributes:",
      `    serviceAccountTokenAudience: ${AUDIENCE}`,
      "    requireServiceAccount: true",
      "    cacheType: ServiceAccount",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: {server: "https://${API_HOST}", certificate-authority: "${emulator.caFile}"}}]`,
      `users: [{name: kubelet, user: {token: "${token}"}}]`,
      "contexts: [{name: c, context: {cluster: c, user: kubelet}}]",
      "current-context: c",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** doctor's service account findings, with these RBAC objects in the cluster. */
async function doctor(objects: unknown[], accounts: string[]) {
  rbac = objects;
  seen = [];
  const flags = `--image-credential-provider-config=${join(dir, "config.yaml")} --image-credential-provider-bin-dir=${ourBinDir} --kubeconfig=${join(dir, "kubeconfig")}`;
  const result = await run(
    join(ourBinDir, "kubelet-credential-sim"),
    [
      "doctor",
      "--kubelet-flags",
      flags,
      "--kubelet-version",
      "1.37",
      "--output",
      "json",
      ...accounts.flatMap((account) => ["--service-account", account]),
    ],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...emulator.env() } },
  ).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: error.stdout ?? "",
    stderr: error.stderr ?? "",
  }));
  const report = JSON.parse(result.stdout) as {
    checks: Array<{ status: string; check: string; message: string }>;
  };
  expect(result.stdout + result.stderr).not.toContain(token);
  return report.checks.filter((finding) => finding.check === "service accounts");
}

const clusterGrant = (
  rule: { apiGroups?: string[]; resources: string[]; resourceNames?: string[] },
  subject = { kind: "Group", name: "system:nodes" },
) => [
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "audience" },
    rules: [{ apiGroups: [""], verbs: ["request-serviceaccounts-token-audience"], ...rule }],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "audience" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "audience" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
  },
];
const roleGrant = (namespace: string, rule: { resources: string[]; resourceNames?: string[] }) => [
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "audience", namespace },
    rules: [{ apiGroups: [""], verbs: ["request-serviceaccounts-token-audience"], ...rule }],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "audience", namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "audience" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }],
  },
];

/** Each cluster's RBAC, and what doctor must say: for every service account, and for some. */
const CASES: Array<{
  name: string;
  rbac: unknown[];
  every: "ok" | "warn";
  accounts: Record<string, boolean>;
}> = [
  {
    name: "a ClusterRole for the audience, bound to system:nodes (the documented grant)",
    rbac: clusterGrant({ resources: [AUDIENCE] }),
    every: "ok",
    accounts: { "default/app": true, "builds/builder": true },
  },
  { name: "no grant", rbac: [], every: "warn", accounts: { "default/app": false } },
  {
    name: "a ClusterRole for every audience",
    rbac: clusterGrant({ resources: ["*"] }),
    every: "ok",
    accounts: { "kube-system/puller": true },
  },
  {
    name: "a Role in one namespace, naming one service account",
    rbac: roleGrant("builds", { resources: [AUDIENCE], resourceNames: ["builder"] }),
    every: "warn",
    accounts: { "builds/builder": true, "default/builder": false, "builds/other": false },
  },
  {
    name: "a ClusterRole naming one service account, in any namespace",
    rbac: clusterGrant({ resources: [AUDIENCE], resourceNames: ["builder"] }),
    every: "warn",
    accounts: { "builds/builder": true, "default/builder": true, "default/app": false },
  },
  {
    name: "a ClusterRole for another audience",
    rbac: clusterGrant({ resources: ["sts.amazonaws.com"] }),
    every: "warn",
    accounts: { "default/app": false },
  },
  {
    name: "the rule in the authentication.k8s.io group, not the core group",
    rbac: clusterGrant({ apiGroups: ["authentication.k8s.io"], resources: [AUDIENCE] }),
    every: "warn",
    accounts: { "default/app": false },
  },
  {
    name: "bound to another node's user, not to system:nodes",
    rbac: clusterGrant({ resources: [AUDIENCE] }, { kind: "User", name: "system:node:other" }),
    every: "warn",
    accounts: { "default/app": false },
  },
];

describe.skipIf(!enabled)(
  "doctor's audience check, against NodeRestriction and RBAC (kube-apiserver 1.37 code)",
  () => {
    for (const testCase of CASES) {
      it(testCase.name, async () => {
        // For every service account.
        const [every, ...rest] = await doctor(testCase.rbac, []);
        expect(rest).toEqual([]);
        expect(every?.status, every?.message).toBe(testCase.every);
        expect(seen).toHaveLength(1);
        expect(seen[0]?.checked.invalid).toBeUndefined();
        const wildcard = seen[0]?.review;
        if (testCase.every === "ok") {
          // Sound: each service account tried is admitted.
          for (const account of Object.keys(testCase.accounts)) {
            const [namespace = "", name = ""] = account.split("/");
            expect((await check(wildcard, namespace, name)).admitted, account).toBe(true);
          }
        }

        // For named service accounts: the same question as NodeRestriction's, and its verdict.
        const accounts = Object.keys(testCase.accounts);
        const findings = await doctor(testCase.rbac, accounts);
        expect(findings).toHaveLength(accounts.length);
        expect(seen).toHaveLength(accounts.length);
        accounts.forEach((account, i) => {
          const { review, checked } = seen[i] as (typeof seen)[number];
          const attributes = review.spec.resourceAttributes;
          expect(`${attributes.namespace}/${attributes.name}`).toBe(account);
          expect(checked.invalid).toBeUndefined();
          expect(checked.asked, `NodeRestriction asked the authorizer for ${account}`).toEqual([
            checked.review,
          ]);
          expect(checked.allowed).toBe(checked.admitted);
          expect(checked.admitted, `${account}: ${checked.refusal ?? "admitted"}`).toBe(
            testCase.accounts[account],
          );
          expect(findings[i]?.status).toBe(checked.admitted ? "ok" : "fail");
        });
      });
    }
  },
);
