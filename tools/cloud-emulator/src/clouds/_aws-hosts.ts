/**
 * AWS names as the AWS SDK for JavaScript v3 resolves them (its partitions table and the ECR,
 * ECR Public and STS endpoint rules; see the README): which endpoint a Host names, in which region
 * and partition, and every registry host an ECR token of one account and region is good for.
 */

export interface AwsPartition {
  id: string;
  /** The SDK's region pattern; `aws` takes every region no other partition claims, as the SDK does. */
  regionPattern: RegExp;
  dnsSuffix: string;
  /** Of the API endpoints when dual-stack is asked for: `ecr.<region>.api.aws`. */
  dualStackDnsSuffix: string;
  /** Of ECR's dual-stack registry names (`<account>.dkr-ecr.<region>.on.aws`), where AWS has them. */
  registryDualStackSuffix?: string;
}

// The SDK's partitions (@aws-sdk/core util-endpoints), in the order it tries them. GovCloud shares
// the commercial suffixes; the region decides the partition, the suffix must then agree.
export const awsPartitions: readonly AwsPartition[] = [
  {
    id: "aws",
    regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
    dnsSuffix: "amazonaws.com",
    dualStackDnsSuffix: "api.aws",
    registryDualStackSuffix: "on.aws",
  },
  {
    id: "aws-cn",
    regionPattern: /^cn-\w+-\d+$/,
    dnsSuffix: "amazonaws.com.cn",
    dualStackDnsSuffix: "api.amazonwebservices.com.cn",
    registryDualStackSuffix: "on.amazonwebservices.com.cn",
  },
  {
    id: "aws-eusc",
    regionPattern: /^eusc-(de)-\w+-\d+$/,
    dnsSuffix: "amazonaws.eu",
    dualStackDnsSuffix: "api.amazonwebservices.eu",
  },
  {
    id: "aws-iso",
    regionPattern: /^us-iso-\w+-\d+$/,
    dnsSuffix: "c2s.ic.gov",
    dualStackDnsSuffix: "api.aws.ic.gov",
  },
  {
    id: "aws-iso-b",
    regionPattern: /^us-isob-\w+-\d+$/,
    dnsSuffix: "sc2s.sgov.gov",
    dualStackDnsSuffix: "api.aws.scloud",
  },
  {
    id: "aws-iso-e",
    regionPattern: /^eu-isoe-\w+-\d+$/,
    dnsSuffix: "cloud.adc-e.uk",
    dualStackDnsSuffix: "api.cloud-aws.adc-e.uk",
  },
  {
    id: "aws-iso-f",
    regionPattern: /^us-isof-\w+-\d+$/,
    dnsSuffix: "csp.hci.ic.gov",
    dualStackDnsSuffix: "api.aws.hci.ic.gov",
  },
  {
    id: "aws-us-gov",
    regionPattern: /^us-gov-\w+-\d+$/,
    dnsSuffix: "amazonaws.com",
    dualStackDnsSuffix: "api.aws",
    registryDualStackSuffix: "on.aws",
  },
];

const _commercial = awsPartitions[0] as AwsPartition;

export function partitionOf(region: string): AwsPartition {
  // The SDK tries the specific partitions before falling back to aws for an unknown region.
  return awsPartitions.find((p) => p !== _commercial && p.regionPattern.test(region)) ?? _commercial;
}

/** A region label as the SDK accepts it in a host name (`us-west-2`, `lala-land-1`). */
const _region = "[a-z0-9]+(?:-[a-z0-9]+)*-\\d+";

export type AwsService = "ecr" | "ecr-public" | "sts";

export interface AwsEndpoint {
  service: AwsService;
  host: string;
  region: string;
  partition: string;
  fips: boolean;
  dualStack: boolean;
}

// The first label(s) of each service's endpoint names, as the SDK's rules build them.
const _labels: Record<AwsService, { plain: string; fips: string; dualStack: string; dualStackFips: string }> =
  {
    ecr: { plain: "api.ecr", fips: "api.ecr-fips", dualStack: "ecr", dualStackFips: "ecr-fips" },
    "ecr-public": {
      plain: "api.ecr-public",
      fips: "api.ecr-public-fips",
      dualStack: "ecr-public",
      dualStackFips: "api.ecr-public-fips",
    },
    sts: { plain: "sts", fips: "sts-fips", dualStack: "sts", dualStackFips: "sts-fips" },
  };

const _escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const _suffixes = [...new Set(awsPartitions.flatMap((p) => [p.dnsSuffix, p.dualStackDnsSuffix]))];

/**
 * Every name of `service` in any partition, for a route's host; a name whose region and suffix
 * disagree (`api.ecr.cn-north-1.amazonaws.com`) matches too, so parseEndpoint can say why it is
 * not an AWS endpoint instead of a bare 404.
 */
export function endpointHostPattern(service: AwsService): RegExp {
  const labels = [...new Set(Object.values(_labels[service]))].map(_escape).join("|");
  const global = service === "sts" ? "|sts\\.amazonaws\\.com" : "";
  return new RegExp(`^(?:(?:${labels})\\.${_region}\\.(?:${_suffixes.map(_escape).join("|")})${global})$`);
}

/** The endpoint a Host names, or why no AWS endpoint has that name. */
export function parseEndpoint(service: AwsService, host: string): AwsEndpoint | { error: string } {
  // STS's global endpoint signs and serves as us-east-1.
  if (service === "sts" && host === "sts.amazonaws.com") {
    return { service, host, region: "us-east-1", partition: "aws", fips: false, dualStack: false };
  }
  const m = new RegExp(`^(?<label>[a-z0-9.-]+?)\\.(?<region>${_region})\\.(?<suffix>[a-z0-9.-]+)$`).exec(
    host,
  );
  const { label = "", region = "", suffix = "" } = m?.groups ?? {};
  const partition = partitionOf(region);
  const labels = _labels[service];
  for (const [fips, dualStack] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const want = fips
      ? dualStack
        ? labels.dualStackFips
        : labels.fips
      : dualStack
        ? labels.dualStack
        : labels.plain;
    const wantSuffix = dualStack ? partition.dualStackDnsSuffix : partition.dnsSuffix;
    if (label === want && suffix === wantSuffix) {
      return { service, host, region, partition: partition.id, fips, dualStack };
    }
  }
  return {
    error:
      `${host} is not a ${service} endpoint the AWS SDK resolves: region ${region || "(none)"} is in ` +
      `partition ${partition.id}, whose names end .${partition.dnsSuffix} (dual-stack .${partition.dualStackDnsSuffix})`,
  };
}

/** The endpoint's name, as the SDK builds it: for tests that check a provider chose it. */
export function endpointHost(
  service: AwsService,
  region: string,
  options: { fips?: boolean; dualStack?: boolean } = {},
): string {
  const partition = partitionOf(region);
  const labels = _labels[service];
  const { fips = false, dualStack = false } = options;
  const label = fips
    ? dualStack
      ? labels.dualStackFips
      : labels.fips
    : dualStack
      ? labels.dualStack
      : labels.plain;
  return `${label}.${region}.${dualStack ? partition.dualStackDnsSuffix : partition.dnsSuffix}`;
}

/**
 * The registry names an ECR token of `accountId` in `region` is good for: the private name and
 * its FIPS form, and where the partition has them the dual-stack name and its FIPS form.
 */
export function ecrRegistryHosts(accountId: string, region: string): string[] {
  const partition = partitionOf(region);
  const hosts = [
    `${accountId}.dkr.ecr.${region}.${partition.dnsSuffix}`,
    `${accountId}.dkr.ecr-fips.${region}.${partition.dnsSuffix}`,
  ];
  if (partition.registryDualStackSuffix) {
    hosts.push(
      `${accountId}.dkr-ecr.${region}.${partition.registryDualStackSuffix}`,
      `${accountId}.dkr-ecr-fips.${region}.${partition.registryDualStackSuffix}`,
    );
  }
  return hosts;
}

/** Every private ECR registry name of any account, region and partition, for registry.serve. */
export const ecrRegistryHostPattern = new RegExp(
  `^\\d{12}\\.(?:dkr\\.ecr(?:-fips)?\\.${_region}\\.(?:${[...new Set(awsPartitions.map((p) => p.dnsSuffix))]
    .map(_escape)
    .join("|")})|dkr-ecr(?:-fips)?\\.${_region}\\.(?:${[
    ...new Set(awsPartitions.flatMap((p) => (p.registryDualStackSuffix ? [p.registryDualStackSuffix] : []))),
  ]
    .map(_escape)
    .join("|")}))$`,
);

/** ECR Public's registry and its dual-stack name; its API serves tokens from us-east-1 only. */
export const ecrPublicRegistryHosts = ["public.ecr.aws", "ecr-public.aws.com"] as const;
export const ecrPublicRegion = "us-east-1";
