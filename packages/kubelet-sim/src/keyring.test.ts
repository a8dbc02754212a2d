import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isDefaultRegistryMatch, mergeCredentials } from "./keyring.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/kubelet-match.json", import.meta.url), "utf8"),
) as {
  keyringLookup: { keys: Record<string, string>; lookups: { image: string; found: string[] }[] };
  keyNormalisation: { key: string; image: string; match: boolean }[];
};

const auth = (entries: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(entries).map(([key, username]) => [key, { username, password: `pw-${username}` }]),
  );

describe("mergeCredentials: the kubelet's keyring", () => {
  it.each(vectors.keyringLookup.lookups)("kubelet-match.json: $image", ({ image, found }) => {
    const credentials = mergeCredentials(image, [{ provider: "p", auth: auth(vectors.keyringLookup.keys) }]);
    expect(credentials.map((c) => c.username)).toEqual(found);
  });

  it.each(vectors.keyNormalisation)("kubelet-match.json: key $key, image $image", ({ key, image, match }) => {
    expect(mergeCredentials(image, [{ provider: "p", auth: auth({ [key]: "u" }) }])).toHaveLength(
      match ? 1 : 0,
    );
  });

  it("orders by key across providers, and by config order for equal keys", () => {
    const credentials = mergeCredentials("r.io/team/app", [
      { provider: "first", auth: auth({ "r.io": "first-host", "https://r.io/v2/": "first-v2" }) },
      { provider: "second", auth: auth({ "r.io/team": "second-team", "http://r.io": "second-host" }) },
    ]);
    expect(credentials.map((c) => [c.provider, c.key, c.username])).toEqual([
      ["second", "r.io/team", "second-team"],
      ["first", "r.io", "first-host"],
      ["first", "https://r.io/v2/", "first-v2"],
      ["second", "http://r.io", "second-host"],
    ]);
  });

  it("falls back to index.docker.io for Docker Hub images only, and only when nothing matched", () => {
    const hub = [{ provider: "hub", auth: auth({ "https://index.docker.io/v1/": "hub" }) }];
    expect(mergeCredentials("docker.io/library/nginx", hub).map((c) => c.username)).toEqual(["hub"]);
    expect(mergeCredentials("quay.io/app", hub)).toEqual([]);
    const both = [...hub, { provider: "docker", auth: auth({ "docker.io": "direct" }) }];
    expect(mergeCredentials("docker.io/library/nginx", both).map((c) => c.username)).toEqual(["direct"]);
  });

  it("knows Docker Hub names as the kubelet does", () => {
    expect(
      ["nginx", "library/nginx", "docker.io/x", "index.docker.io/x", "user/app"].map(isDefaultRegistryMatch),
    ).toEqual([true, true, true, true, true]);
    expect(["r.io/app", "localhost:5000/app", "/app", ""].map(isDefaultRegistryMatch)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
