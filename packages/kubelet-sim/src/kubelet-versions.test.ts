/**
 * What differs between the kubelet minors the simulator models (kubelet-versions.ts), each
 * difference on both sides of the 1.33/1.34 boundary, and that the newest minor is the default.
 * Library level, with real files and (for the echo guard) real plugin processes.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CredentialProvider } from "@kubelet-credential-provider/config";
import { afterAll, describe, expect, it } from "vitest";
import { makeBinDir, provider, scratch, writeConfig } from "../testdata/harness.ts";
import { UsageError } from "./args.ts";
import { cacheBaseKey, PluginCache } from "./cache.ts";
import {
  DEFAULT_KUBELET_VERSION,
  KUBELET_VERSIONS,
  type KubeletVersion,
  parseKubeletVersion,
} from "./kubelet-versions.ts";
import { createKubeletSimulator } from "./lookup.ts";
import { validateConfigPath } from "./validate.ts";

const tmp = scratch("versions");
afterAll(() => tmp.remove());

const V1_33 = parseKubeletVersion("1.33");
const V1_34 = parseKubeletVersion("1.34");
const V1_37 = parseKubeletVersion("1.37");
const SUPPORTED = "1.33, 1.34, 1.35, 1.36 or 1.37";

const saAttributes = (extra: Record<string, unknown> = {}) => ({
  tokenAttributes: {
    serviceAccountTokenAudience: "registry.example",
    requireServiceAccount: false,
    ...extra,
  },
});

describe("--kubelet-version values", () => {
  it("takes 1.34, v1.34 and 1.34.12 for every modelled minor; none gives the newest, 1.37", () => {
    expect(KUBELET_VERSIONS.map((version) => version.minor)).toEqual([
      "1.33",
      "1.34",
      "1.35",
      "1.36",
      "1.37",
    ]);
    for (const minor of ["1.33", "1.34", "1.35", "1.36", "1.37"]) {
      for (const text of [minor, `v${minor}`, `${minor}.0`, `${minor}.12`, `v${minor}.3`]) {
        expect(parseKubeletVersion(text).minor).toBe(minor);
      }
    }
    expect(parseKubeletVersion(undefined)).toBe(DEFAULT_KUBELET_VERSION);
    expect(DEFAULT_KUBELET_VERSION.minor).toBe("1.37");
  });

  it.each([
    "1.32",
    "1.38",
    "2.0",
    "1",
    "v1",
    "",
    "1.34.",
    "1.34.x",
    "1.034",
    "1.34.012",
    "V1.34",
    "vv1.34",
    " 1.34",
    "1.34.1-rc.1",
    "1.34.1+k3s1",
    "1.34.1.2",
    "latest",
  ])("refuses %j, naming the supported minors", (text) => {
    expect(() => parseKubeletVersion(text)).toThrow(UsageError);
    expect(() => parseKubeletVersion(text)).toThrow(
      `flag --kubelet-version takes a kubelet minor version, ${SUPPORTED} (as 1.34, v1.34 or 1.34.12), not ${JSON.stringify(text)}`,
    );
  });

  it("1.35 to 1.37 behave as 1.34", () => {
    for (const version of KUBELET_VERSIONS.slice(1)) expect({ ...version, minor: "1.34" }).toEqual(V1_34);
  });
});

describe("1. the config as a directory", () => {
  const dir = tmp.path("dir");
  mkdirSync(join(dir, "sub.json"), { recursive: true });
  writeConfig(join(dir, "sub.json", "nested.json"), [provider("nested", ["nested.io"])]);
  writeConfig(join(dir, "b.yaml"), [provider("b", ["b.io"])]);
  writeConfig(join(dir, "a.json"), [provider("a", ["a.io"])]);
  writeConfig(join(dir, "B.yml"), [provider("upper", ["upper.io"])]);
  writeConfig(join(dir, "c.JSON"), [provider("caps", ["caps.io"])]);
  writeFileSync(join(dir, "notes.txt"), "not a config");
  writeConfig(tmp.path("elsewhere.conf"), [provider("linked", ["linked.io"])]);
  symlinkSync(tmp.path("elsewhere.conf"), join(dir, "d.yaml"));
  const empty = tmp.path("empty");
  mkdirSync(join(empty, "only.yaml"), { recursive: true });
  writeFileSync(join(empty, "x.YAML"), "");

  it("1.33 refuses a directory, with its read error", async () => {
    for (const path of [dir, empty]) {
      const report = await validateConfigPath(path, V1_33);
      const error = `unable to read external registry credential provider configuration from ${JSON.stringify(path)}: read ${path}: is a directory`;
      expect(report).toMatchObject({ valid: false, files: [], issues: [error], kubeletError: error });
    }
  });

  it.each([
    ["1.34", V1_34],
    ["1.37 (the default)", undefined],
  ])(
    "%s reads its *.json, *.yaml, *.yml files (case-sensitive, not recursive, symlinks followed) in byte order",
    async (_name, version?: KubeletVersion) => {
      const report = await validateConfigPath(dir, version);
      expect(report.issues).toEqual([]);
      expect(report.valid).toBe(true);
      expect(report.files).toEqual(["B.yml", "a.json", "b.yaml", "d.yaml"].map((name) => join(dir, name)));
      expect(report.config?.providers.map((entry) => entry.name)).toEqual(["upper", "a", "b", "linked"]);
    },
  );

  it("1.34+ refuses a directory without a config file", async () => {
    for (const version of [V1_34, undefined]) {
      const report = await validateConfigPath(empty, version);
      expect(report.issues).toEqual([`no configuration files found in directory ${JSON.stringify(empty)}`]);
      expect(report.kubeletError).toBe(report.issues[0]);
    }
  });

  it("1.33 reads a file as 1.34 does, and says a missing one its way", async () => {
    expect(await validateConfigPath(join(dir, "a.json"), V1_33)).toMatchObject({
      valid: true,
      files: [join(dir, "a.json")],
    });
    const missing = tmp.path("missing.yaml");
    expect((await validateConfigPath(missing, V1_33)).issues).toEqual([
      `unable to read external registry credential provider configuration from ${JSON.stringify(missing)}: open ${missing}: no such file or directory`,
    ]);
    expect((await validateConfigPath("", V1_33)).issues).toEqual([
      "credential provider config path is empty",
    ]);
  });
});

describe("2. tokenAttributes.cacheType", () => {
  const withCacheType = writeConfig(tmp.path("with-cache-type.json"), [
    provider("sa", ["sa.io"], saAttributes({ cacheType: "ServiceAccount" })),
  ]);
  const withoutCacheType = writeConfig(tmp.path("without-cache-type.json"), [
    provider("sa", ["sa.io"], saAttributes()),
  ]);
  const GATE_NOTE =
    'note: kubelet 1.33 accepts tokenAttributes only with --feature-gates=KubeletServiceAccountTokenForCredentialProviders=true (alpha, off by default; the simulator takes it as on); without it the kubelet fails with "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"';

  it("1.33: cacheType is an unknown field under strict decoding (the file named unquoted)", async () => {
    const error = `error decoding config ${withCacheType}: strict decoding error: unknown field "providers[0].tokenAttributes.cacheType"`;
    expect(await validateConfigPath(withCacheType, V1_33)).toMatchObject({
      valid: false,
      issues: [error],
      kubeletError: error,
    });
  });

  it("1.33: also in YAML, with a null value, and after the other strict errors", async () => {
    const yaml = tmp.path("cache-type.yaml");
    writeFileSync(
      yaml,
      [
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  - name: plain",
        "    matchImages: [plain.io]",
        "    defaultCacheDuration: 1m",
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
        "  - name: sa",
        "    matchImages: [sa.io]",
        "    defaultCacheDuration: 1m",
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
        "    timeout: 5s",
        "    tokenAttributes:",
        "      serviceAccountTokenAudience: registry.example",
        "      requireServiceAccount: false",
        "      cacheType: null",
        "",
      ].join("\n"),
    );
    expect((await validateConfigPath(yaml, V1_33)).issues).toEqual([
      `error decoding config ${yaml}: strict decoding error: unknown field "providers[1].timeout", unknown field "providers[1].tokenAttributes.cacheType"`,
    ]);
    // A cacheType that is not a string is still only an unknown field: Go skips its value.
    const numeric = writeConfig(tmp.path("numeric-cache-type.json"), [
      provider("sa", ["sa.io"], saAttributes({ cacheType: 5 })),
    ]);
    expect((await validateConfigPath(numeric, V1_33)).issues).toEqual([
      `error decoding config ${numeric}: strict decoding error: unknown field "providers[0].tokenAttributes.cacheType"`,
    ]);
  });

  it("1.33: tokenAttributes without cacheType are valid, with a note that 1.33 needs the feature gate", async () => {
    expect(await validateConfigPath(withoutCacheType, V1_33)).toMatchObject({
      valid: true,
      issues: [],
      notes: [GATE_NOTE],
    });
  });

  it("1.34+: cacheType is required; the kubelet's text names it without list indices", async () => {
    for (const version of [V1_34, undefined]) {
      const report = await validateConfigPath(withoutCacheType, version);
      expect(report.valid).toBe(false);
      expect(report.issues).toEqual([
        `${withoutCacheType}: providers[0].tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token`,
      ]);
      expect(report.kubeletError).toBe(
        "failed to validate credential provider config: providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
      );
      expect(report.notes).toEqual([]);
    }
  });

  it("1.34+: with cacheType the config is valid, no note; a decoding error names the file quoted", async () => {
    for (const version of [V1_34, V1_37]) {
      expect(await validateConfigPath(withCacheType, version)).toMatchObject({ valid: true, notes: [] });
    }
    const unknown = writeConfig(tmp.path("unknown.json"), [provider("x", ["x.io"], { timeout: "5s" })]);
    for (const [version, file] of [
      [V1_33, unknown],
      [V1_34, JSON.stringify(unknown)],
    ] as const) {
      expect((await validateConfigPath(unknown, version)).issues).toEqual([
        `error decoding config ${file}: strict decoding error: unknown field "providers[0].timeout"`,
      ]);
    }
  });
});

describe("4. duplicate provider names", () => {
  const oneFile = writeConfig(tmp.path("duplicate.json"), [
    provider("p1", ["a.io"]),
    provider("p1", ["b.io"]),
    provider("bad name", ["c.io"]),
  ]);

  it("1.33: a validation issue, with the others", async () => {
    const report = await validateConfigPath(oneFile, V1_33);
    expect(report.issues).toEqual([
      `${oneFile}: providers[1].name: Duplicate value: "p1"`,
      `${oneFile}: providers[2].name: Invalid value: "bad name": provider name cannot contain spaces`,
    ]);
    expect(report.kubeletError).toBe(
      'failed to validate credential provider config: [providers.name: Duplicate value: "p1", providers.name: Invalid value: "bad name": provider name cannot contain spaces]',
    );
    const alone = writeConfig(tmp.path("duplicate-alone.json"), [
      provider("p1", ["a.io"]),
      provider("p1", ["b.io"]),
    ]);
    expect((await validateConfigPath(alone, V1_33)).kubeletError).toBe(
      'failed to validate credential provider config: providers.name: Duplicate value: "p1"',
    );
  });

  it("1.34+: found while merging, before validation, in one file or across files", async () => {
    const error = 'duplicate provider name "p1" found in configuration file(s)';
    for (const version of [V1_34, undefined]) {
      expect(await validateConfigPath(oneFile, version)).toMatchObject({
        valid: false,
        issues: [error],
        kubeletError: error,
      });
    }
    const dir = tmp.path("duplicate-dir");
    mkdirSync(dir);
    writeConfig(join(dir, "1.json"), [provider("p1", ["a.io"])]);
    writeConfig(join(dir, "2.yaml"), [
      provider("p2", ["b.io"]),
      provider("p1", ["c.io"], { apiVersion: "" }),
    ]);
    for (const version of [V1_34, V1_37]) {
      expect((await validateConfigPath(dir, version)).issues).toEqual([error]);
    }
  });
});

describe("5. the global cache key", () => {
  it("is `global` in 1.33, `<global>` from 1.34", () => {
    expect(V1_33.globalCacheKey).toBe("global");
    expect(V1_34.globalCacheKey).toBe("<global>");
    expect(DEFAULT_KUBELET_VERSION.globalCacheKey).toBe("<global>");
    expect(cacheBaseKey("Global", "r.io/a", V1_33.globalCacheKey)).toBe("global");
    expect(cacheBaseKey("Global", "r.io/a")).toBe("<global>");
    const cache = new PluginCache(() => 0, V1_33.globalCacheKey);
    const info = {
      keyType: "Global",
      key: "global",
      duration: "1s",
      durationFrom: "cacheDuration",
      expiresAt: null,
    } as const;
    cache.add("global", "", { any: { username: "u", password: "p" } }, 1_000_000_000n, info);
    expect(cache.get("other.io/x", "")?.auth).toEqual({ any: { username: "u", password: "p" } });
  });
});

describe("2 and 3 at lookup: the echo guard, and the order of credentials", () => {
  const binDir = makeBinDir(tmp.path("bin"), { echo: "counting", first: "counting", second: "counting" });
  const TOKEN = "header.payload.signature";
  const entry = (name: string, env: Record<string, string>, extra: Partial<CredentialProvider> = {}) =>
    ({
      name,
      matchImages: ["*.v.test"],
      defaultCacheDuration: "10m",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
      ...extra,
    }) as CredentialProvider;
  const simulate = (providers: CredentialProvider[], kubeletVersion?: KubeletVersion) =>
    createKubeletSimulator({
      config: { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers },
      binDir,
      env: { PATH: process.env.PATH },
      serviceAccount: { namespace: "ns", name: "sa", token: TOKEN, annotations: {} },
      ...(kubeletVersion === undefined ? {} : { kubeletVersion }),
    });

  it("1.33 keeps a password that is the service account token (no cacheType, no echo guard)", async () => {
    const echo = entry(
      "echo",
      { PASSWORD: "token" },
      saAttributes({ cacheType: "" }) as Partial<CredentialProvider>,
    );
    const report = await simulate([echo], V1_33).lookup("a.v.test/app");
    expect(report.providers).toEqual([
      {
        name: "echo",
        executed: true,
        cached: false,
        cache: expect.objectContaining({ keyType: "Registry" }),
      },
    ]);
    expect(report.credentials).toEqual([
      { provider: "echo", key: "a.v.test", username: "user", password: TOKEN },
    ]);
  });

  it("1.34+ drops it unless cacheType is Token", async () => {
    for (const version of [V1_34, undefined]) {
      const echo = entry(
        "echo",
        { PASSWORD: "token" },
        saAttributes({ cacheType: "ServiceAccount" }) as Partial<CredentialProvider>,
      );
      const report = await simulate([echo], version).lookup("a.v.test/app");
      expect(report.credentials).toEqual([]);
      expect(report.providers[0]?.error).toBe(
        `Credential provider plugin returned the service account token as the password for image "a.v.test/app", which is not allowed when service account cache type is not set to 'Token'`,
      );
      const byToken = entry(
        "echo",
        { PASSWORD: "token" },
        saAttributes({ cacheType: "Token" }) as Partial<CredentialProvider>,
      );
      expect((await simulate([byToken], version).lookup("a.v.test/app")).credentials).toHaveLength(1);
    }
  });

  it("orders credentials the same in every minor: reverse byte order of keys, config order for a key", async () => {
    const auth = (keys: string[], password: string) =>
      JSON.stringify(Object.fromEntries(keys.map((key) => [key, { username: password, password }])));
    const providers = [
      entry("first", { AUTH_JSON: auth(["*.v.test", "a.v.test/app"], "first") }),
      entry("second", { AUTH_JSON: auth(["a.v.test", "*.v.test"], "second") }),
    ];
    const orders = [];
    for (const version of KUBELET_VERSIONS) {
      const report = await simulate(providers, version).lookup("a.v.test/app");
      orders.push(report.credentials.map((credential) => `${credential.key} from ${credential.provider}`));
    }
    const expected = [
      "a.v.test/app from first",
      "a.v.test from second",
      "*.v.test from first",
      "*.v.test from second",
    ];
    for (const order of orders) expect(order).toEqual(expected);
  });
});
