import { isCredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { lookupMirror, parseRegistryMirrors } from "./mirrors.ts";

const ECR = "123456789012.dkr.ecr.us-west-2.amazonaws.com";

function usageError(entries: string[]): string {
  try {
    parseRegistryMirrors(entries);
  } catch (error) {
    if (isCredentialProviderError(error) && error.code === "USAGE") return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(entries)}`);
}

describe("--registry-mirror", () => {
  it("maps hosts, with or without a port, to ECR registries; case and blanks ignored", () => {
    const mirrors = parseRegistryMirrors([
      `Mirror.Example.com:${ECR.toUpperCase()}`,
      ` registry.local:5000:${ECR} `,
      "docker.io:public.ecr.aws",
      "[fd00::1]:5000:123456789012.dkr-ecr-fips.us-west-2.on.aws",
      "",
    ]);
    expect([...mirrors.keys()]).toEqual([
      "mirror.example.com",
      "registry.local:5000",
      "docker.io",
      "[fd00::1]:5000",
    ]);
    expect(lookupMirror(mirrors, "MIRROR.example.com")).toMatchObject({
      kind: "private",
      host: ECR,
      region: "us-west-2",
    });
    expect(lookupMirror(mirrors, "registry.local:5000")?.host).toBe(ECR);
    expect(lookupMirror(mirrors, "registry.local")).toBeUndefined();
    expect(lookupMirror(mirrors, "docker.io")).toEqual({
      kind: "public",
      host: "public.ecr.aws",
      region: "us-east-1",
    });
    expect(lookupMirror(mirrors, "[fd00::1]:5000")).toMatchObject({ fips: true, dualStack: true });
  });

  it("accepts the same mapping twice", () => {
    expect(parseRegistryMirrors([`a.example:${ECR}`, `A.example:${ECR}`]).size).toBe(1);
  });

  it("an empty flag maps nothing", () => {
    expect(parseRegistryMirrors([]).size).toBe(0);
  });

  it.each([
    ["mirror.example.com", "missing SOURCE or TARGET"],
    [`:${ECR}`, "missing SOURCE or TARGET"],
    ["mirror.example.com:", "missing SOURCE or TARGET"],
    [
      "mirror.example.com:registry.example.com",
      'TARGET "registry.example.com" is not an Amazon ECR registry host',
    ],
    [`mirror.example.com:${ECR}:443`, 'TARGET "443" is not an Amazon ECR registry host'],
    [
      `${ECR}.evil.example:mirror.example.com`,
      'TARGET "mirror.example.com" is not an Amazon ECR registry host',
    ],
    [
      `https://mirror.example.com:${ECR}`,
      'SOURCE "https://mirror.example.com" is not a registry host[:port]',
    ],
    [`mirror.example.com/v2:${ECR}`, "is not a registry host[:port]"],
    [`user@mirror.example.com:${ECR}`, "is not a registry host[:port]"],
    [`mirror.example.com:99999:${ECR}`, "SOURCE port 99999 is out of range"],
    [`public.ecr.aws:${ECR}`, "SOURCE public.ecr.aws is itself an Amazon ECR registry host"],
  ])("refuses %j: %s", (entry, reason) => {
    const message = usageError([entry]);
    expect(message).toContain(`--registry-mirror entry ${JSON.stringify(entry)}`);
    expect(message).toContain(reason);
    expect(message).toContain("expected SOURCE:TARGET");
  });

  it("refuses one source mapped to two registries", () => {
    expect(usageError([`m.example:${ECR}`, "m.example:public.ecr.aws"])).toContain(
      `SOURCE m.example is already mapped to ${ECR}`,
    );
  });
});
