/**
 * Which registry hosts are Amazon ECR, and what a host says about the API to call.
 *
 * A private registry is `<12-digit account>.dkr.ecr[-fips].<region>.<partition suffix>`, or its
 * dual-stack name `<account>.dkr-ecr[-fips].<region>.on.aws` (`.on.amazonwebservices.com.cn` in
 * China). ECR Public is `public.ecr.aws` and its dual-stack name `ecr-public.aws.com`.
 *
 * The match is exact after lower-casing: a port, a trailing dot, userinfo, a path or any host that
 * merely contains an ECR name (`….amazonaws.com.evil.example`) is not ECR. Credentials are only
 * ever asked for, and handed out, for a host this module recognises, and whose DNS suffix is that
 * of its region's partition by the AWS SDK's table (`partitionMismatch`, checked by the provider
 * once the SDK is loaded: this module loads none of it).
 */

/** The AWS partitions that serve ECR. */
export type AwsPartition =
  | "aws"
  | "aws-cn"
  | "aws-us-gov"
  | "aws-eusc"
  | "aws-iso"
  | "aws-iso-b"
  | "aws-iso-e"
  | "aws-iso-f";

/** A private ECR registry host, taken apart. */
export interface PrivateEcrHost {
  kind: "private";
  /** The host, lower-cased: the key the credentials are returned under. */
  host: string;
  /** The 12-digit AWS account that owns the registry. */
  account: string;
  /** The region the registry is in, and the region whose ECR API issues its token. */
  region: string;
  /** `dkr.ecr-fips` / `dkr-ecr-fips`: use the FIPS API endpoint. */
  fips: boolean;
  /** `dkr-ecr…on.aws`: use the dual-stack (IPv4 and IPv6) API endpoint. */
  dualStack: boolean;
  partition: AwsPartition;
  /** The DNS suffix the host ends with, e.g. `amazonaws.com` or `on.aws`. */
  dnsSuffix: string;
}

/** An ECR Public registry host. Its tokens come from the ECR Public API in us-east-1. */
export interface PublicEcrHost {
  kind: "public";
  host: string;
  region: typeof ECR_PUBLIC_REGION;
}

export type EcrHost = PrivateEcrHost | PublicEcrHost;

/** ECR Public has one API region, in the aws partition. */
export const ECR_PUBLIC_REGION = "us-east-1";

/** The ECR Public registry hosts: the classic name and the dual-stack one. */
export const ECR_PUBLIC_HOSTS: readonly string[] = ["public.ecr.aws", "ecr-public.aws.com"];

// The partition suffixes of the IPv4 names (dkr.ecr), and the dual-stack suffixes (dkr-ecr).
const CLASSIC_SUFFIXES: ReadonlyMap<string, AwsPartition> = new Map([
  ["amazonaws.com", "aws"],
  ["amazonaws.com.cn", "aws-cn"],
  ["amazonaws.eu", "aws-eusc"],
  ["c2s.ic.gov", "aws-iso"],
  ["sc2s.sgov.gov", "aws-iso-b"],
  ["cloud.adc-e.uk", "aws-iso-e"],
  ["csp.hci.ic.gov", "aws-iso-f"],
]);
const DUAL_STACK_SUFFIXES: ReadonlyMap<string, AwsPartition> = new Map([
  ["on.aws", "aws"],
  ["on.amazonwebservices.com.cn", "aws-cn"],
]);

const escapeDots = (suffix: string) => suffix.replaceAll(".", "\\.");
const alternatives = (suffixes: ReadonlyMap<string, AwsPartition>) =>
  [...suffixes.keys()].map(escapeDots).join("|");
// One DNS label: letters, digits and inner hyphens (no underscore, which no registry host can carry).
const REGION = "([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)";
const CLASSIC = new RegExp(
  `^(\\d{12})\\.dkr\\.ecr(-fips)?\\.${REGION}\\.(${alternatives(CLASSIC_SUFFIXES)})$`,
);
const DUAL_STACK = new RegExp(
  `^(\\d{12})\\.dkr-ecr(-fips)?\\.${REGION}\\.(${alternatives(DUAL_STACK_SUFFIXES)})$`,
);

/**
 * Parses a registry host (as in an image reference, `host[:port]`) into what it says about ECR,
 * or undefined when it is not an ECR registry. Case is ignored; the returned `host` is lower-case.
 *
 * ```ts
 * parseEcrHost("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com")
 * // { kind: "private", account: "123456789012", region: "us-gov-west-1", fips: true,
 * //   dualStack: false, partition: "aws-us-gov", dnsSuffix: "amazonaws.com", host: … }
 * parseEcrHost("public.ecr.aws")          // { kind: "public", host: "public.ecr.aws", region: "us-east-1" }
 * parseEcrHost("123456789012.dkr.ecr.us-west-2.amazonaws.com:443")   // undefined: ECR has no port
 * ```
 */
export function parseEcrHost(host: string): EcrHost | undefined {
  if (typeof host !== "string" || host.length > 253) return undefined;
  const lower = host.toLowerCase();
  if (ECR_PUBLIC_HOSTS.includes(lower)) return { kind: "public", host: lower, region: ECR_PUBLIC_REGION };
  const classic = CLASSIC.exec(lower);
  const match = classic ?? DUAL_STACK.exec(lower);
  if (!match) return undefined;
  const [, account, fips, region, dnsSuffix] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const dualStack = classic === null;
  let partition = (dualStack ? DUAL_STACK_SUFFIXES : CLASSIC_SUFFIXES).get(dnsSuffix) as AwsPartition;
  // GovCloud shares the aws partition's DNS suffixes.
  if (partition === "aws" && region.startsWith("us-gov-")) partition = "aws-us-gov";
  return {
    kind: "private",
    host: lower,
    account,
    region,
    fips: fips !== undefined,
    dualStack,
    partition,
    dnsSuffix,
  };
}

/** A one-line description of an ECR host for logs and messages. */
export function describeEcrHost(ecr: EcrHost): string {
  if (ecr.kind === "public")
    return `ECR Public registry ${ecr.host} (token from ECR Public in ${ecr.region})`;
  const variants = [ecr.fips && "FIPS", ecr.dualStack && "dual-stack"].filter(Boolean).join(", ");
  return (
    `private ECR registry ${ecr.host}: account ${ecr.account}, region ${ecr.region}, ` +
    `partition ${ecr.partition}${variants ? `, ${variants} endpoint` : ""}`
  );
}

/** What the AWS SDK's partition table says of a region: `partition(region)` of `@aws-sdk/core/client`. */
export interface PartitionInfo {
  name: string;
  dnsSuffix: string;
  dualStackDnsSuffix: string;
  supportsFIPS: boolean;
  supportsDualStack: boolean;
}

/**
 * Why a private ECR host does not belong to its region's partition, or undefined when it does.
 * The host's DNS suffix must be the one of the partition the AWS SDK's table places its region in
 * (a region no partition claims is in `aws`, as the SDK reads it): `us-east-1.amazonaws.com.cn`
 * or `cn-north-1.amazonaws.com` would get a token from one partition for a registry of another.
 * ECR's dual-stack registry names are the partition's dual-stack suffix with `on.` for `api.`.
 *
 * @param partitionOf the SDK's `partition` (injected: this module loads no SDK)
 */
export function partitionMismatch(
  ecr: PrivateEcrHost,
  partitionOf: (region: string) => PartitionInfo,
): string | undefined {
  const info = partitionOf(ecr.region);
  const expected = ecr.dualStack ? info.dualStackDnsSuffix.replace(/^api\./, "on.") : info.dnsSuffix;
  const kind = ecr.dualStack ? "dual-stack registries" : "registries";
  if (ecr.dnsSuffix !== expected) {
    return `region ${ecr.region} is in the AWS partition ${info.name}, whose ${kind} end in .${expected}, not .${ecr.dnsSuffix}`;
  }
  if (ecr.fips && !info.supportsFIPS) return `the AWS partition ${info.name} has no FIPS endpoints`;
  if (ecr.dualStack && !info.supportsDualStack)
    return `the AWS partition ${info.name} has no dual-stack endpoints`;
  return undefined;
}
