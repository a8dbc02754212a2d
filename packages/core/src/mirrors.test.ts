import { describe, expect, it } from "vitest";
import { parseRegistryMirrors } from "./mirrors.ts";

// A stand-in provider whose registries are *.cloud.example.
const options = {
  parseTarget: (host: string) =>
    /^[a-z0-9-]+\.cloud\.example$/.test(host.toLowerCase()) ? { host: host.toLowerCase() } : undefined,
  targetKind: "a Cloud registry host",
  example: "mirror.example.com:acme.cloud.example",
};
const parse = (...values: string[]) => parseRegistryMirrors(values, options);

describe("parseRegistryMirrors", () => {
  it("maps each SOURCE to its TARGET, lower-cased, across commas and repeated flags", () => {
    const mirrors = parse(
      "Mirror.Example.com:acme.cloud.example, registry.local:5000:Other.cloud.example",
      "docker.io:acme.cloud.example",
    );
    expect([...mirrors]).toEqual([
      ["mirror.example.com", { host: "acme.cloud.example" }],
      ["registry.local:5000", { host: "other.cloud.example" }],
      ["docker.io", { host: "acme.cloud.example" }],
    ]);
  });

  it("ignores empty entries and white space", () => {
    expect(parse("", " , ").size).toBe(0);
    expect([...parse(" m.example : acme.cloud.example ").keys()]).toEqual(["m.example"]);
  });

  it.each([
    ["m.example", "missing SOURCE or TARGET"],
    [":acme.cloud.example", "missing SOURCE or TARGET"],
    ["m.example:", "missing SOURCE or TARGET"],
    ["m.example:acme.elsewhere.example", 'TARGET "acme.elsewhere.example" is not a Cloud registry host'],
    ["m_x.example:acme.cloud.example", 'SOURCE "m_x.example" is not a registry host[:port]'],
    ["m.example:99999:acme.cloud.example", "SOURCE port 99999 is out of range"],
    ["b.cloud.example:acme.cloud.example", "SOURCE b.cloud.example is itself a Cloud registry host"],
  ])("refuses %j: %s", (entry, reason) => {
    expect(() => parse(entry)).toThrow(reason);
    expect(() => parse(entry)).toThrow(/^--registry-mirror entry .*\(expected SOURCE:TARGET, e\.g\. /);
  });

  it("refuses one SOURCE mapped to two TARGETs", () => {
    expect(() => parse("m.example:a.cloud.example,m.example:b.cloud.example")).toThrow(
      "SOURCE m.example is already mapped to a.cloud.example",
    );
  });
});
