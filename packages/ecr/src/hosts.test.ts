/**
 * Every vector of testdata/vectors/ecr.json, one named case each, plus the spoofing cases: hosts
 * that look like ECR and must not be treated as ECR.
 */
import { readFileSync } from "node:fs";
import { partition } from "@aws-sdk/core/client";
import { parseSchemelessUrl, safeParseImage, urlsMatch } from "@kubelet-credential-provider/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PrivateEcrHost } from "./hosts.ts";
import { describeEcrHost, ECR_PUBLIC_HOSTS, parseEcrHost, partitionMismatch } from "./hosts.ts";
import { ECR_MATCH_IMAGES } from "./provider.ts";

interface Vectors {
  privateHostMatch: Array<{ host: string; match: boolean; note?: string }>;
  region: Array<{ host: string; region: string; fips?: boolean; dualStack?: boolean }>;
  publicHosts: string[];
  eksMatchImages: string[];
}

const vectors: Vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/ecr.json", import.meta.url), "utf8"),
);

describe("ecr.json privateHostMatch", () => {
  it.each(vectors.privateHostMatch.map((v) => [`${v.host}${v.note ? ` (${v.note})` : ""}`, v] as const))(
    "%s",
    (_, vector) => {
      const parsed = parseEcrHost(vector.host);
      expect(parsed?.kind === "private").toBe(vector.match);
      if (vector.match) {
        expect(parsed).toMatchObject({ host: vector.host, account: vector.host.slice(0, 12) });
        if (vector.note?.includes("fips")) expect(parsed).toMatchObject({ fips: true });
        if (vector.note?.includes("dual-stack")) expect(parsed).toMatchObject({ dualStack: true });
      }
    },
  );
});

describe("ecr.json region", () => {
  it.each(vectors.region.map((v) => [v.host, v] as const))("%s", (_, vector) => {
    expect(parseEcrHost(vector.host)).toMatchObject({
      kind: "private",
      region: vector.region,
      fips: vector.fips ?? false,
      dualStack: vector.dualStack ?? vector.host.includes(".dkr-ecr"),
    });
  });
});

describe("ecr.json publicHosts", () => {
  it.each(vectors.publicHosts)("%s is ECR Public, token from us-east-1", (host) => {
    expect(parseEcrHost(host)).toEqual({ kind: "public", host, region: "us-east-1" });
    expect(ECR_PUBLIC_HOSTS).toContain(host);
  });
});

describe("ecr.json eksMatchImages", () => {
  it("are the provider's defaultMatchImages, in order", () => {
    expect([...ECR_MATCH_IMAGES]).toEqual(vectors.eksMatchImages);
  });

  it.each(vectors.eksMatchImages)("%s parses as the kubelet parses it", (pattern) => {
    expect(parseSchemelessUrl(pattern)).toMatchObject({ port: "", path: "" });
  });

  const examples = [
    ...vectors.privateHostMatch.filter((v) => v.match).map((v) => v.host),
    ...vectors.region.map((v) => v.host),
  ];
  it.each(examples)("%s is matched by an EKS pattern and parsed as ECR", (host) => {
    const image = `${host}/team/app`;
    const matching = vectors.eksMatchImages.filter((pattern) => urlsMatch(pattern, image));
    // Made-up regions (lala-land-1) and every partition are covered by the EKS patterns, except
    // FIPS in the European Sovereign Cloud, which EKS does not list (we still accept it).
    const listed = !/dkr\.ecr-fips\.[^.]+\.(amazonaws\.eu)$/.test(host);
    expect(matching.length > 0).toBe(listed);
    expect(parseEcrHost(host)?.kind).toBe("private");
  });

  it.each(vectors.publicHosts)("%s is matched by its own pattern", (host) => {
    expect(vectors.eksMatchImages.filter((pattern) => urlsMatch(pattern, `${host}/library/nginx`))).toEqual([
      host,
    ]);
  });

  // The kubelet only runs us for images a pattern matches; a spoof either is no valid image (the
  // harness refuses it: a trailing dot, userinfo, an underscore) or no EKS pattern matches it.
  it.each(spoofed)("%j: no valid image, or matched by no EKS pattern", (host) => {
    const image = `${host}/app`;
    const parsed = safeParseImage(image);
    const matched = vectors.eksMatchImages.filter((pattern) => urlsMatch(pattern, image));
    expect(!parsed.ok || parsed.image.registry !== host || matched.length === 0).toBe(true);
  });

  it("an image with userinfo in its registry is refused before any provider runs", () => {
    for (const host of spoofed.filter((h) => h.includes("@"))) {
      expect(safeParseImage(`${host}/app`).ok).toBe(false);
    }
  });
});

const spoofed = [
  "123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example",
  "123456789012.dkr.ecr.us-west-2.amazonaws.com:443",
  "123456789012.dkr.ecr.us-west-2.amazonaws.com:8443",
  "123456789012.dkr.ecr.us-west-2.amazonaws.com.",
  "user@123456789012.dkr.ecr.us-west-2.amazonaws.com",
  "user:pw@123456789012.dkr.ecr.us-west-2.amazonaws.com",
  "evil.example/123456789012.dkr.ecr.us-west-2.amazonaws.com",
  "x.123456789012.dkr.ecr.us-west-2.amazonaws.com",
  "123456789012.dkr.ecr.us-west-2.amazonaws.com/app",
  " 123456789012.dkr.ecr.us-west-2.amazonaws.com",
  "123456789012.dkr.ecr.us_west-2.amazonaws.com",
  "123456789012.dkr-ecr.us-west-2.amazonaws.com",
  "123456789012.dkr.ecr.us-west-2.on.aws",
  "123456789012.dkr.ecr.us-west-2.amazonaws.com\n",
  "public.ecr.aws.evil.example",
  "public.ecr.aws:443",
  "public.ecr.aws.",
  "xpublic.ecr.aws",
  "ecr-public.aws.com.evil.example",
  "",
];

describe("spoofing", () => {
  it.each(spoofed)("%j is not ECR", (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });

  it("upper case is normalised to the lower-case host", () => {
    expect(parseEcrHost("123456789012.DKR.ECR-FIPS.US-West-2.AMAZONAWS.COM")).toEqual({
      kind: "private",
      host: "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com",
      account: "123456789012",
      region: "us-west-2",
      fips: true,
      dualStack: false,
      partition: "aws",
      dnsSuffix: "amazonaws.com",
    });
    expect(parseEcrHost("Public.ECR.aws")).toEqual({
      kind: "public",
      host: "public.ecr.aws",
      region: "us-east-1",
    });
  });

  it("refuses what is not a string, and very long input", () => {
    expect(parseEcrHost(undefined as unknown as string)).toBeUndefined();
    expect(parseEcrHost(`123456789012.dkr.ecr.${"a".repeat(300)}.amazonaws.com`)).toBeUndefined();
  });
});

describe("partitions", () => {
  it.each([
    ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "aws", "amazonaws.com"],
    ["123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "aws-us-gov", "amazonaws.com"],
    ["123456789012.dkr-ecr-fips.us-gov-east-1.on.aws", "aws-us-gov", "on.aws"],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn", "amazonaws.com.cn"],
    ["123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "aws-cn", "on.amazonwebservices.com.cn"],
    ["123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc", "amazonaws.eu"],
    ["123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso", "c2s.ic.gov"],
    ["123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "aws-iso-b", "sc2s.sgov.gov"],
    ["123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "aws-iso-e", "cloud.adc-e.uk"],
    ["123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov", "aws-iso-f", "csp.hci.ic.gov"],
  ])("%s is in %s", (host, partition, dnsSuffix) => {
    expect(parseEcrHost(host)).toMatchObject({ partition, dnsSuffix });
  });

  it("describes a host in one line", () => {
    const fips = parseEcrHost("123456789012.dkr-ecr-fips.us-west-2.on.aws");
    const pub = parseEcrHost("public.ecr.aws");
    if (!fips || !pub) throw new Error("unparsed");
    expect(describeEcrHost(fips)).toBe(
      "private ECR registry 123456789012.dkr-ecr-fips.us-west-2.on.aws: account 123456789012, region us-west-2, partition aws, FIPS, dual-stack endpoint",
    );
    expect(describeEcrHost(pub)).toBe(
      "ECR Public registry public.ecr.aws (token from ECR Public in us-east-1)",
    );
  });
});

describe("the host's DNS suffix and its region are in the same partition (the AWS SDK's table)", () => {
  // This test's own facts, checked against the SDK's table below: one region of each partition,
  // how its other regions are named, and which partitions each registry suffix serves.
  const regions: Record<string, { region: string; prefixes: string[] }> = {
    aws: { region: "us-west-2", prefixes: ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"] },
    "aws-cn": { region: "cn-north-1", prefixes: ["cn"] },
    "aws-us-gov": { region: "us-gov-west-1", prefixes: ["us-gov"] },
    "aws-eusc": { region: "eusc-de-east-1", prefixes: ["eusc-de"] },
    "aws-iso": { region: "us-iso-east-1", prefixes: ["us-iso"] },
    "aws-iso-b": { region: "us-isob-east-1", prefixes: ["us-isob"] },
    "aws-iso-e": { region: "eu-isoe-west-1", prefixes: ["eu-isoe"] },
    "aws-iso-f": { region: "us-isof-south-1", prefixes: ["us-isof"] },
  };
  const suffixes: Array<{ suffix: string; dualStack: boolean; partitions: string[] }> = [
    { suffix: "amazonaws.com", dualStack: false, partitions: ["aws", "aws-us-gov"] },
    { suffix: "amazonaws.com.cn", dualStack: false, partitions: ["aws-cn"] },
    { suffix: "amazonaws.eu", dualStack: false, partitions: ["aws-eusc"] },
    { suffix: "c2s.ic.gov", dualStack: false, partitions: ["aws-iso"] },
    { suffix: "sc2s.sgov.gov", dualStack: false, partitions: ["aws-iso-b"] },
    { suffix: "cloud.adc-e.uk", dualStack: false, partitions: ["aws-iso-e"] },
    { suffix: "csp.hci.ic.gov", dualStack: false, partitions: ["aws-iso-f"] },
    { suffix: "on.aws", dualStack: true, partitions: ["aws", "aws-us-gov"] },
    { suffix: "on.amazonwebservices.com.cn", dualStack: true, partitions: ["aws-cn"] },
  ];
  const host = (region: string, suffix: string, dualStack: boolean, fips: boolean) =>
    `123456789012.${dualStack ? "dkr-ecr" : "dkr.ecr"}${fips ? "-fips" : ""}.${region}.${suffix}`;
  const parsed = (name: string): PrivateEcrHost => {
    const ecr = parseEcrHost(name);
    if (ecr?.kind !== "private") throw new Error(`${name} does not parse`);
    return ecr;
  };

  it.each(Object.entries(regions))("the SDK places %s's regions where this test does", (name, { region }) => {
    expect(partition(region).name).toBe(name);
  });

  const table = Object.entries(regions).flatMap(([name, { region }]) =>
    suffixes.flatMap(({ suffix, dualStack, partitions }) =>
      [false, true].map((fips) => ({
        host: host(region, suffix, dualStack, fips),
        accepted: partitions.includes(name),
      })),
    ),
  );
  it.each(table)("$host: accepted $accepted", ({ host: name, accepted }) => {
    const why = partitionMismatch(parsed(name), partition);
    expect(why === undefined).toBe(accepted);
    if (!accepted)
      expect(why).toMatch(
        /^region \S+ is in the AWS partition aws[a-z-]*, whose (dual-stack )?registries end in \.\S+, not \.\S+$/,
      );
  });

  it("property: any region name of a partition, with any suffix, FIPS or not", () => {
    const partitionArb = fc.constantFrom(...Object.keys(regions));
    fc.assert(
      fc.property(
        partitionArb.chain((name) =>
          fc.record({
            name: fc.constant(name),
            prefix: fc.constantFrom(...(regions[name]?.prefixes ?? [])),
          }),
        ),
        fc.constantFrom("east", "west", "north", "south", "central", "northeast", "southwest"),
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom(...suffixes),
        fc.boolean(),
        ({ name, prefix }, direction, n, { suffix, dualStack, partitions }, fips) => {
          const ecr = parsed(host(`${prefix}-${direction}-${n}`, suffix, dualStack, fips));
          expect(partitionMismatch(ecr, partition) === undefined).toBe(partitions.includes(name));
        },
      ),
    );
  });

  it.each([
    [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
      "region us-east-1 is in the AWS partition aws, whose registries end in .amazonaws.com, not .amazonaws.com.cn",
    ],
    [
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
      "region cn-north-1 is in the AWS partition aws-cn, whose registries end in .amazonaws.com.cn, not .amazonaws.com",
    ],
    [
      "123456789012.dkr.ecr.us-east-1.c2s.ic.gov",
      "region us-east-1 is in the AWS partition aws, whose registries end in .amazonaws.com, not .c2s.ic.gov",
    ],
    [
      "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com.cn",
      "region us-gov-west-1 is in the AWS partition aws-us-gov, whose registries end in .amazonaws.com, not .amazonaws.com.cn",
    ],
    [
      "123456789012.dkr-ecr.cn-north-1.on.aws",
      "region cn-north-1 is in the AWS partition aws-cn, whose dual-stack registries end in .on.amazonwebservices.com.cn, not .on.aws",
    ],
    // A region the SDK does not know is in aws, as the SDK resolves its endpoint: not a China host.
    [
      "123456789012.dkr.ecr.lala-land-1.amazonaws.com.cn",
      "region lala-land-1 is in the AWS partition aws, whose registries end in .amazonaws.com, not .amazonaws.com.cn",
    ],
  ])("%s: %s", (name, why) => {
    expect(partitionMismatch(parsed(name), partition)).toBe(why);
  });

  it("FIPS or dual-stack in a partition without them is refused", () => {
    const ecr = parsed("123456789012.dkr-ecr-fips.us-west-2.on.aws");
    const without = { ...partition("us-west-2"), supportsFIPS: false };
    expect(partitionMismatch(ecr, () => without)).toBe("the AWS partition aws has no FIPS endpoints");
    expect(partitionMismatch(ecr, () => ({ ...partition("us-west-2"), supportsDualStack: false }))).toBe(
      "the AWS partition aws has no dual-stack endpoints",
    );
  });
});
