import { describe, expect, it } from "vitest";
import { patternWarnings, whyNoMatch } from "./patterns.ts";

const one = (...matchImages: string[]) => patternWarnings([{ name: "p", matchImages }]);

describe("patternWarnings: patterns the kubelet accepts that will not match as meant", () => {
  it.each([
    ["", "an empty pattern matches no image"],
    ["https://registry.example.com", "starts with a scheme, which no image has"],
    ["...amazonaws.com:443", 'the host "...amazonaws.com" has an empty DNS label'],
    ["registry.example.com.", 'the host "registry.example.com." has an empty DNS label'],
    [
      "registry.example.com/team/*",
      'the path "/team/*" is compared as a plain prefix, not a glob: it matches only images whose path has a literal "*", and no repository does (for the repositories under it, write "registry.example.com/team/")',
    ],
    ["**.amazonaws.com", '"**" is "*": a "*" matches within one DNS label, never across dots'],
    [
      "*.amazonaws.com",
      '"*" matches one DNS label: this does not match an Amazon ECR registry (<account>.dkr.ecr.<region>.amazonaws.com); write "*.dkr.ecr.*.amazonaws.com"',
    ],
    ["*.ecr.*.amazonaws.com.cn", 'write "*.dkr.ecr.*.amazonaws.com.cn"'],
  ])("%j", (pattern, message) => {
    const warnings = one("registry.ok.example", pattern);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe("providers[0].matchImages[1]");
    expect(warnings[0]?.pattern).toBe(pattern);
    expect(warnings[0]?.message).toContain(message);
  });

  it("says nothing of patterns that match real images", () => {
    expect(
      one(
        "*.dkr.ecr.*.amazonaws.com",
        "*.dkr.ecr.*.amazonaws.com.cn",
        "public.ecr.aws",
        "*.azurecr.io",
        "*-docker.pkg.dev",
        "gcr.io",
        "registry.example.com:5000/team/",
        "*.registry.example.com",
      ),
    ).toEqual([]);
  });

  it("names each provider whose patterns overlap an earlier provider's, with both field paths", () => {
    const warnings = patternWarnings([
      { name: "ecr-credential-provider", matchImages: ["*.dkr.ecr.*.amazonaws.com"] },
      { name: "acr-credential-provider", matchImages: ["*.azurecr.io"] },
      {
        name: "mirror",
        matchImages: ["registry.example.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team"],
      },
      { name: "catch-all", matchImages: ["*.*.*.*.*.com", "*.azurecr.io:443"] },
    ]);
    expect(warnings.map((w) => [w.path, w.message.split(":")[0]])).toEqual([
      [
        "providers[2].matchImages[1]",
        'overlaps providers[0].matchImages[0] ("*.dkr.ecr.*.amazonaws.com" of "ecr-credential-provider")',
      ],
      [
        "providers[3].matchImages[0]",
        'overlaps providers[0].matchImages[0] ("*.dkr.ecr.*.amazonaws.com" of "ecr-credential-provider")',
      ],
    ]);
    expect(warnings[0]?.message).toContain(
      "the kubelet runs both providers and tries the credentials of each",
    );
  });
});

describe("whyNoMatch: the first difference, as the kubelet compares", () => {
  it.each([
    [
      "*.amazonaws.com",
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
      '3 DNS labels; the image\'s host 123456789012.dkr.ecr.eu-west-1.amazonaws.com has 6 ("*" matches within one label)',
    ],
    [
      "registry.example.com",
      "registry.example.com:5000/app",
      "the image names port 5000; the pattern has no port",
    ],
    [
      "registry.example.com:443",
      "registry.example.com/app",
      "the pattern's port is 443; the image names none",
    ],
    ["*.azurecr.io", "myregistry.azurecr.cn/app", 'label 3, "io", does not match "cn"'],
    [
      "registry.example.com/team/",
      "registry.example.com/other/app",
      'the path "/other/app" does not start with "/team/"',
    ],
  ])("%j against %j", (pattern, image, reason) => {
    expect(whyNoMatch(pattern, image)).toBe(reason);
  });

  it("is undefined when the pattern matches", () => {
    expect(
      whyNoMatch("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"),
    ).toBeUndefined();
  });
});
