/**
 * The upstream Go plugins in the bench's rounds (`pnpm bench`, bench.ts): each cloud's plugin as
 * conformance/src/go.ts builds it from the Go module proxy, at the version its go.mod pins, set up
 * against the same emulator with the same credentials source as ours, so that the table reads, per
 * cloud, ours against upstream: wall time, CPU time, peak RSS, binary size and cloud calls per
 * request. Every run of a compared variant must answer with a credential the emulator issued for
 * the image's registry (checkAnswer): upstream's Google plugin exits 0 with no `auth` when its
 * metadata call fails, which a timing alone would not show.
 *
 * How each reaches the emulator (Go's clients honour HTTPS_PROXY/HTTP_PROXY and SSL_CERT_FILE):
 *
 * - ECR: both take the instance role's credentials from IMDSv2 at
 *   AWS_EC2_METADATA_SERVICE_ENDPOINT (the emulator's plain listener, on 127.0.0.1: neither goes
 *   through the proxy for it), then call GetAuthorizationToken through the proxy.
 * - ACR: both with the node's system-assigned managed identity (an azure.json with
 *   `useManagedIdentityExtension: true`; upstream calls ACR only in that mode: with a client secret
 *   it answers the secret itself, without a call). Upstream asks IMDS at 169.254.169.254 through
 *   HTTP_PROXY (Go's MSAL ignores AZURE_POD_IDENTITY_AUTHORITY_HOST); ours never proxies a
 *   link-local address (core's proxy.ts: a proxy cannot reach a node's metadata service), so it
 *   asks the emulator's plain listener through AZURE_POD_IDENTITY_AUTHORITY_HOST. The same IMDS
 *   handler answers both; upstream's route has the proxy's hop besides, on loopback.
 * - Google: upstream's gcr flow asks `metadata.google.internal.` through HTTP_PROXY (it ignores
 *   GCE_METADATA_HOST); ours never proxies the metadata server either, and asks the plain listener
 *   through GCE_METADATA_HOST (nodeSetups' `metadataEnv()`, whose NO_PROXY upstream must not get).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Emulator } from "@kubelet-credential-provider/cloud-emulator";
import type { UpstreamPlugin } from "../../../conformance/src/go.ts";
import {
  conformanceDir,
  goAvailable,
  pinnedVersion,
  UPSTREAM_PLUGINS,
  upstreamPlugin,
} from "../../../conformance/src/go.ts";
import type { Measurement, Sample, Variant, VariantResult } from "./_bench.ts";
import { binDir, request } from "./_bench.ts";

/** The clouds compared, by our executable's name, which is also upstream's. */
export const COMPARED = [
  "ecr-credential-provider",
  "acr-credential-provider",
  "auth-provider-gcp",
] as const satisfies readonly UpstreamPlugin[];
export type Compared = (typeof COMPARED)[number];

const CLOUD: Record<Compared, string> = {
  "ecr-credential-provider": "AWS ECR",
  "acr-credential-provider": "Azure ACR",
  "auth-provider-gcp": "Google",
};

/**
 * Every emulator endpoint a request of that cloud could call (ids, not their aliases, which count
 * the same calls again): calls per request are counted over all of them, for ours and upstream's,
 * so that a call one of them makes and the other does not shows.
 */
export const CLOUD_ENDPOINTS: Record<Compared, string[]> = {
  "ecr-credential-provider": [
    "imds.token",
    "imds.credentials",
    "imds.metadata",
    "sts.AssumeRoleWithWebIdentity",
    "ecr.GetAuthorizationToken",
    "registry.v2",
  ],
  "acr-credential-provider": [
    "imds.identity",
    "entra.discovery",
    "entra.openid",
    "entra.token",
    "registry.v2",
    "registry.token",
    "acr.exchange",
  ],
  "auth-provider-gcp": [
    "gce.metadata",
    "gce.attributes",
    "gce.token",
    "google.oauth2",
    "google.sts",
    "google.iamcredentials",
    "google.dockercfg",
    "registry.v2",
    "registry.token",
  ],
};

/** The images asked for: the same as nodeSetups' for ours. */
const IMAGES: Record<Compared, string> = {
  "ecr-credential-provider": "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app",
  "acr-credential-provider": "myregistry.azurecr.io/team/app",
  "auth-provider-gcp": "us-docker.pkg.dev/my-project/team/app",
};

/** Ours, as the comparison runs it, where that is not nodeSetups' setup (ACR's managed identity). */
export const OURS_ACR_MANAGED_IDENTITY = "acr-credential-provider (managed identity)";

export interface Upstream {
  cloud: Compared;
  /** The Go module and the version its go.mod pins. */
  module: string;
  version: string;
  variant: Variant;
}

export const upstreamName = (cloud: Compared, version: string) => `upstream ${cloud} ${version}`;

/**
 * Builds the upstream plugins (a link from Go's cache after the first build) and sets each up
 * against `emulator`; undefined, after a notice, where there is no Go.
 */
export async function upstreamVariants(emulator: Emulator): Promise<Upstream[] | undefined> {
  let go: boolean;
  try {
    go = goAvailable();
  } catch {
    // CI=true makes a missing Go an error for the conformance tier; the bench only leaves them out.
    go = false;
  }
  if (!go) {
    console.warn("no Go toolchain (`go`): the upstream plugins are left out of the bench");
    return undefined;
  }
  const proxy = emulator.env();
  // Go's clients: the proxy for every cloud name and for the link-local metadata addresses, and
  // the emulator's CA instead of the system's (no NO_PROXY, no NODE_EXTRA_CA_CERTS).
  const goEnv = {
    HTTPS_PROXY: proxy.HTTPS_PROXY ?? "",
    HTTP_PROXY: proxy.HTTP_PROXY ?? "",
    SSL_CERT_FILE: emulator.caFile,
  };
  const setups: Record<Compared, { args: string[]; env: Record<string, string> }> = {
    "ecr-credential-provider": {
      args: [],
      env: {
        ...goEnv,
        ...emulator.aws.imdsEnv(),
        AWS_CONFIG_FILE: "/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      },
    },
    "acr-credential-provider": { args: [managedIdentityConfig(emulator)], env: goEnv },
    "auth-provider-gcp": { args: ["get-credentials"], env: goEnv },
  };
  const upstream: Upstream[] = [];
  for (const cloud of COMPARED) {
    const plugin = UPSTREAM_PLUGINS[cloud];
    const binary = await upstreamPlugin(cloud);
    const version = await pinnedVersion(join(conformanceDir, "upstream", plugin.dir), plugin.module);
    const { args, env } = setups[cloud];
    upstream.push({
      cloud,
      module: plugin.module,
      version,
      variant: {
        name: upstreamName(cloud, version),
        command: [binary, ...args],
        env,
        image: IMAGES[cloud],
        stdin: request(IMAGES[cloud]),
        calls: CLOUD_ENDPOINTS[cloud],
        callCounts: () => emulator.callCounts(),
      },
    });
  }
  return upstream;
}

/**
 * Our ACR provider with the node's managed identity, as upstream runs: the same azure.json, IMDS
 * through AZURE_POD_IDENTITY_AUTHORITY_HOST (see above).
 */
export function oursWithManagedIdentity(emulator: Emulator, dir = binDir): Variant {
  return {
    name: OURS_ACR_MANAGED_IDENTITY,
    command: [join(dir, "acr-credential-provider"), managedIdentityConfig(emulator)],
    env: { ...emulator.env(), ...emulator.azure.imdsEnv() },
    image: IMAGES["acr-credential-provider"],
    stdin: request(IMAGES["acr-credential-provider"]),
    calls: CLOUD_ENDPOINTS["acr-credential-provider"],
    callCounts: () => emulator.callCounts(),
  };
}

const _miConfigs = new WeakMap<Emulator, string>();

/** One azure.json per emulator, with its system-assigned identity enabled. */
function managedIdentityConfig(emulator: Emulator): string {
  let file = _miConfigs.get(emulator);
  if (!file) {
    emulator.azure.managedIdentity();
    file = join(emulator.dir, "node-azure-managed-identity.json");
    writeFileSync(
      file,
      JSON.stringify({
        cloud: "AzurePublicCloud",
        tenantId: emulator.azure.tenantId,
        useManagedIdentityExtension: true,
      }),
    );
    _miConfigs.set(emulator, file);
  }
  return file;
}

/** Whether a `kubelet` auth key (`*.pkg.dev`, `*.azurecr.*`, a host) matches `host`, label by label. */
function _keyMatches(key: string, host: string): boolean {
  const keyLabels = key.toLowerCase().split(":")[0]?.split(".") ?? [];
  const hostLabels = host.toLowerCase().split(".");
  if (keyLabels.length !== hostLabels.length) return false;
  return keyLabels.every((label, i) => {
    const pattern = new RegExp(`^${label.split("*").map(_escape).join("[^.]*")}$`);
    return pattern.test(hostLabels[i] as string);
  });
}

const _escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Why a run's stdout is not a CredentialProviderResponse with a credential the emulator issued
 * (non-empty username, password in the ledger) under a key that matches the image's registry; or
 * undefined when it is.
 */
export function checkAnswer(emulator: Emulator, variant: Variant, stdout: string): string | undefined {
  const host = (variant.image ?? "").split("/")[0] ?? "";
  let answer: { kind?: unknown; auth?: Record<string, { username?: unknown; password?: unknown }> };
  try {
    answer = JSON.parse(stdout);
  } catch {
    return `${variant.name} printed no JSON answer (${stdout.length} bytes on stdout)`;
  }
  if (answer.kind !== "CredentialProviderResponse")
    return `${variant.name} answered no CredentialProviderResponse`;
  const issued = new Set(emulator.issued());
  const entries = Object.entries(answer.auth ?? {}).filter(([key]) => _keyMatches(key, host));
  const good = entries.some(
    ([, e]) => typeof e.username === "string" && e.username !== "" && issued.has(e.password as string),
  );
  if (!good)
    return `${variant.name} answered no credential the emulator issued for ${host} (auth keys: ${Object.keys(answer.auth ?? {}).join(", ") || "none"})`;
  return undefined;
}

/** Throws, naming the first, unless every sample of every variant answered (checkAnswer). */
export function checkSamples(emulator: Emulator, variants: Variant[], samples: Map<string, Sample[]>): void {
  for (const variant of variants) {
    const runs = samples.get(variant.name) ?? [];
    const failed = runs.map((run) => checkAnswer(emulator, variant, run.stdout)).filter(Boolean);
    if (failed.length > 0)
      throw new Error(`${failed.length} of ${runs.length} runs did not answer; the first: ${failed[0]}`);
  }
}

export interface ComparisonRow {
  cloud: string;
  variant: string;
  /** Median and p95 wall time, ms. */
  wallMs: number;
  p95Ms: number;
  /** Median user + system CPU time, ms; null without GNU time. */
  cpuMs: number | null;
  /** Median peak RSS, MB (10^6 bytes, as docs/performance.md); null without GNU time. */
  peakRssMb: number | null;
  /** The executable's size, MB (10^6 bytes). */
  binaryMb: number | null;
  cloudCallsPerRequest: number;
  /** The nonzero calls per request, by endpoint id. */
  calls: string;
}

/**
 * Per cloud, ours then upstream's, from one measurement: `ours` names our variant of each cloud
 * (nodeSetups' for ECR and Google, the managed identity one for ACR).
 */
export function comparison(
  measurement: Measurement,
  upstream: Upstream[],
  ours: Record<Compared, string>,
): ComparisonRow[] {
  const row = (cloud: Compared, name: string, label: string): ComparisonRow => {
    const r = measurement.results.find((x) => x.name === name) as VariantResult;
    const calls = measurement.callsByEndpoint.get(name) ?? {};
    return {
      cloud: CLOUD[cloud],
      variant: label,
      wallMs: r.medianMs,
      p95Ms: r.p95Ms,
      cpuMs: r.cpuMs,
      peakRssMb: r.peakRssKb == null ? null : Math.round(r.peakRssKb / 100) / 10,
      binaryMb: r.sizeBytes == null ? null : Math.round(r.sizeBytes / 1e5) / 10,
      cloudCallsPerRequest: r.cloudCallsPerRequest,
      calls: Object.entries(calls)
        .filter(([, n]) => n !== 0)
        .map(([id, n]) => `${id} ${n}`)
        .join(", "),
    };
  };
  return upstream.flatMap((u) => [
    row(u.cloud, ours[u.cloud], `ours: ${ours[u.cloud]}`),
    row(u.cloud, u.variant.name, `upstream: ${u.module} ${u.version}`),
  ]);
}
