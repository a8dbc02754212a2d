/**
 * Every vector of testdata/vectors/ecr.json, one named case each, plus the spoofing cases: hosts
 * that look like ECR and must not be treated as ECR.
 */
import { readFileSync } from "node:fs";
import { parseSchemelessUrl, safeParseImage, urlsMatch } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { describeEcrHost, ECR_PUBLIC_HOSTS, parseEcrHost } from "./hosts.ts";
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
