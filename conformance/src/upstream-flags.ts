/**
 * Flag parity: every flag upstream's `--help` lists (ECR's and ACR's root command, GCP's
 * `get-credentials` with its global klog flags), in each of its spellings, given to both plugins
 * with a plausible value and `--help`. Both parse every flag before answering --help, so exit 0
 * means the flag is accepted and a usage error means it is not.
 */

import type { UpstreamPlugin } from "./go.ts";
import { explain, type NamedDifference } from "./upstream-differences.ts";
import { runBinary } from "./upstream-run.ts";
import { IB_SNI } from "./upstream-scenarios.ts";

export interface FlagRow {
  /** As upstream's help shows it: `-r, --registry-mirror string`. */
  flag: string;
  /** The spelling probed: `-r` or `--registry-mirror`. */
  spelling: string;
  upstream: boolean;
  ours: boolean;
  difference?: NamedDifference;
}

/** Before the flags: GCP's flags belong to its subcommand. */
const COMMAND: Record<UpstreamPlugin, string[]> = {
  "ecr-credential-provider": [],
  "acr-credential-provider": [],
  "auth-provider-gcp": ["get-credentials"],
};

const VALUES: Record<string, string> = {
  "registry-mirror": "mcr.microsoft.com:myregistry.azurecr.io",
  "ib-sni-name": IB_SNI,
  "ib-apiserver-ip": "127.0.0.1",
  "ib-default-client-id": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
  "ib-default-tenant-id": "5c1a8f3e-0d2b-4e6a-9f7c-3b8d1e4a6c20",
  authFlow: "gcr",
  log_dir: "/tmp",
  log_file: "/dev/null",
};
const TYPE_VALUES: Record<string, string> = {
  duration: "5s",
  Level: "2",
  moduleSpec: "foo=2",
  uint: "1800",
  traceLocation: "main.go:1",
  severity: "2",
};

/** Upstream's flags, by help line, then each spelling probed on both sides. */
export async function probeFlags(plugin: UpstreamPlugin, upstream: string, ours: string): Promise<FlagRow[]> {
  const help = await runBinary(upstream, [...COMMAND[plugin], "--help"], "", {});
  const rows: FlagRow[] = [];
  for (const line of help.stdout.split("\n")) {
    const match = /^\s+(?:-(\w), )?--([\w-]+)(?: (\w+))?\s{2,}/.exec(line);
    if (!match) continue;
    const [, short, long, type] = match as unknown as [
      string,
      string | undefined,
      string,
      string | undefined,
    ];
    if (long === "help") continue;
    const value = type === undefined ? [] : [VALUES[long] ?? TYPE_VALUES[type] ?? "x"];
    const flag = `${short ? `-${short}, ` : ""}--${long}${type ? ` ${type}` : ""}`;
    for (const spelling of [...(short ? [`-${short}`] : []), `--${long}`]) {
      const args = [...COMMAND[plugin], spelling, ...value, "--help"];
      const [up, our] = await Promise.all([runBinary(upstream, args, "", {}), runBinary(ours, args, "", {})]);
      const row: FlagRow = { flag, spelling, upstream: up.code === 0, ours: our.code === 0 };
      if (row.upstream !== row.ours) row.difference = explain(`flags/${plugin}/${spelling}`, "flag");
      rows.push(row);
    }
  }
  return rows;
}

/** Ours' flags that upstream's help does not list, from ours' --help. */
export async function oursOnlyFlags(ours: string, upstreamRows: FlagRow[]): Promise<string[]> {
  const help = await runBinary(ours, ["--help"], "", {});
  const known = new Set(upstreamRows.map((r) => r.spelling));
  return [...help.stdout.matchAll(/^\s+(--[\w-]+)/gm)]
    .map((m) => m[1] as string)
    .filter((spelling) => !known.has(spelling) && spelling !== "--help");
}
