/**
 * `kubelet-credential-sim validate` agrees with the kubelet on every configValidation rule of
 * testdata/vectors/protocol.json (acceptance 1), and reads config directories as the kubelet 1.34+
 * does (the default is the newest kubelet; kubelet-versions.test.ts has what differs by minor). Run as a process, from source; fixtures in testdata/config.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIGS, runSim } from "../testdata/harness.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/protocol.json", import.meta.url), "utf8"),
) as { configValidation: { rules: string[] } };

const fixture = (name: string) => join(CONFIGS, name);

interface _Validated {
  code: number | null;
  lines: string[];
  stderr: string;
}

const runs = new Map<string, Promise<_Validated>>();

/** Runs validate on a fixture (once per kubelet version) and returns its exit status and stdout lines. */
function validate(name: string, kubeletVersion?: string): Promise<_Validated> {
  const key = `${name}@${kubeletVersion ?? ""}`;
  let run = runs.get(key);
  if (run === undefined) {
    const flags = kubeletVersion === undefined ? [] : ["--kubelet-version", kubeletVersion];
    run = runSim(["validate", ...flags, fixture(name)]).then((result) => ({
      code: result.code,
      lines: result.stdout.split("\n").filter((line) => line !== ""),
      stderr: result.stderr,
    }));
    runs.set(key, run);
  }
  return run;
}

// Every fixture's run starts at once; the tests then read the results.
beforeAll(() => {
  for (const name of readdirSync(CONFIGS, { recursive: true, withFileTypes: true })) {
    const path = join(name.parentPath, name.name).slice(CONFIGS.length);
    if (/^(rules|invalid|valid)\/[^/]+$/.test(path) || /^dir-[^/]+$/.test(path)) void validate(path);
  }
  void validate("nope.yaml");
  void validate("rules/names.yaml", "1.33");
});

/**
 * Expects the issues, each prefixed with the file, exit status 1, and on stderr the kubelet's own
 * error: the same issues without list indices, in its aggregate.
 */
async function expectIssues(name: string, issues: string[], kubeletVersion?: string): Promise<void> {
  const result = await validate(name, kubeletVersion);
  expect(result.lines).toEqual(issues.map((issue) => `${fixture(name)}: ${issue}`));
  expect(result.code).toBe(1);
  const kubelet = [
    ...new Set(issues.map((issue) => issue.replace(/^([^:]*)/, (path) => path.replace(/\[\d+\]/g, "")))),
  ];
  const aggregate = kubelet.length === 1 ? kubelet[0] : `[${kubelet.join(", ")}]`;
  expect(result.stderr).toBe(
    `kubelet-credential-sim: the kubelet ${kubeletVersion ?? "1.37"} would not start: failed to validate credential provider config: ${aggregate}\n`,
  );
}

const SUPPORTED_VERSIONS =
  '"credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"';
const NAME_PART =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

// One test per rule listed in protocol.json; a rule added there fails the coverage test below.
const ruleTests: Record<string, () => Promise<void>> = {
  "at least one provider": () =>
    expectIssues("rules/no-providers.yaml", [
      "providers: Required value: at least 1 item in plugins is required",
    ]),

  "provider name: not empty, no '/', no spaces, not '.' or '..', unique across all files": async () => {
    // Kubelet 1.33 finds a repeated name in validation, with the other issues.
    await expectIssues(
      "rules/names.yaml",
      [
        "providers[0].name: Required value: name is required",
        `providers[1].name: Invalid value: "foo/../bar": provider name cannot contain '/'`,
        `providers[2].name: Invalid value: "foo bar": provider name cannot contain spaces`,
        `providers[3].name: Invalid value: ".": provider name cannot be '.'`,
        `providers[4].name: Invalid value: "..": provider name cannot be '..'`,
        // "..." is a fine name, once.
        `providers[6].name: Duplicate value: "..."`,
      ],
      "1.33",
    );
    // Kubelet 1.34+ stops at it while merging the files, before validating.
    const duplicate = 'duplicate provider name "..." found in configuration file(s)';
    expect(await validate("rules/names.yaml")).toEqual({
      code: 1,
      lines: [duplicate],
      stderr: `kubelet-credential-sim: the kubelet 1.37 would not start: ${duplicate}\n`,
    });
    // Also across the files of a directory.
    const across = await validate("dir-duplicate");
    expect(across.lines).toEqual(['duplicate provider name "shared" found in configuration file(s)']);
    expect(across.code).toBe(1);
  },

  "apiVersion required, one of the three credentialprovider versions": () =>
    expectIssues("rules/api-versions.yaml", [
      "providers[0].apiVersion: Required value",
      `providers[1].apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v2": supported values: ${SUPPORTED_VERSIONS}`,
    ]),

  "matchImages: at least one; each must parse as a URL after 'https://' is prefixed": () =>
    expectIssues("rules/match-images.yaml", [
      "providers[0].matchImages: Required value: at least 1 item in matchImages is required",
      `providers[1].matchImages[1]: Invalid value: "%zz": match image is invalid: parse "https://%zz": invalid URL escape "%zz"`,
      `providers[1].matchImages[2]: Invalid value: "a b": match image is invalid: parse "https://a b": invalid character " " in host name`,
    ]),

  "defaultCacheDuration required and >= 0": () =>
    expectIssues("rules/default-cache-duration.yaml", [
      "providers[0].defaultCacheDuration: Required value",
      "providers[1].defaultCacheDuration: Invalid value: -1m30s: defaultCacheDuration must be greater than or equal to 0",
    ]),

  "tokenAttributes.serviceAccountTokenAudience required; requireServiceAccount required (true or false); cacheType required, ServiceAccount or Token":
    () =>
      expectIssues("rules/token-attributes.yaml", [
        "providers[0].tokenAttributes.serviceAccountTokenAudience: Required value",
        "providers[0].tokenAttributes.requireServiceAccount: Required value",
        "providers[0].tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
        `providers[1].tokenAttributes.cacheType: Unsupported value: "token": supported values: "ServiceAccount", "Token"`,
        "providers[2].tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version",
      ]),

  "requiredServiceAccountAnnotationKeys set requires requireServiceAccount true": () =>
    expectIssues("rules/required-keys.yaml", [
      "providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
    ]),

  "annotation keys are qualified names (lowercased), no duplicates, never both required and optional": () =>
    // "Example.COM/Role" is fine (lower-cased first); "z" and "Z" are different keys.
    expectIssues("rules/annotation-keys.yaml", [
      `providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys[1]: Invalid value: "cantendwithadash-": name part ${NAME_PART}`,
      `providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys[4]: Duplicate value: "z"`,
      `providers[0].tokenAttributes.optionalServiceAccountAnnotationKeys[1]: Invalid value: "a/b/c": a qualified name ${NAME_PART} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      `providers[0].tokenAttributes: Invalid value: []string{"y"}: annotation keys cannot be both required and optional`,
    ]),
};

describe("validate: every configValidation rule of protocol.json (acceptance 1)", () => {
  it("has a test for every rule and none for a rule it does not list", () => {
    expect(Object.keys(ruleTests).sort()).toEqual([...vectors.configValidation.rules].sort());
  });

  for (const rule of vectors.configValidation.rules) {
    it(rule, async () => {
      const test = ruleTests[rule];
      if (test === undefined) throw new Error(`no test for rule ${JSON.stringify(rule)}`);
      await test();
      // The first waits for every fixture's process, started together in beforeAll.
    }, 30_000);
  }
});

describe("validate: decoding is strict", () => {
  it.each([
    ["invalid/unknown-field.yaml", 'strict decoding error: unknown field "providers[0].timeout"'],
    [
      "invalid/duplicate-key.yaml",
      'strict decoding error: error converting YAML to JSON: yaml: unmarshal errors: line 5: key "name" already set in map',
    ],
    [
      "invalid/token-attributes-v1beta1.yaml",
      'strict decoding error: unknown field "providers[0].tokenAttributes"',
    ],
    ["invalid/bad-duration.yaml", 'time: unknown unit "d" in duration "1d"'],
  ])("%s", async (name, message) => {
    const result = await validate(name);
    expect(result.lines).toEqual([`error decoding config ${JSON.stringify(fixture(name))}: ${message}`]);
    expect(result.code).toBe(1);
  });
});

describe("validate: files and directories", () => {
  it("prints a summary for a valid file", async () => {
    expect(await validate("valid/node.yaml")).toEqual({
      code: 0,
      lines: ["valid: 2 providers from 1 file"],
      stderr: "",
    });
    expect(await validate("valid/one.json")).toEqual({
      code: 0,
      lines: ["valid: 1 provider from 1 file"],
      stderr: "",
    });
  });

  it("reads every *.json, *.yaml and *.yml file of a directory", async () => {
    expect(await validate("dir-two")).toEqual({
      code: 0,
      lines: ["valid: 2 providers from 2 files"],
      stderr: "",
    });
  });

  it("ignores other files and subdirectories", async () => {
    expect(await validate("dir-ignored")).toEqual({
      code: 0,
      lines: ["valid: 1 provider from 1 file"],
      stderr: "",
    });
  });

  it("refuses a directory without config files, and a path that does not exist", async () => {
    expect(await validate("dir-empty")).toMatchObject({
      code: 1,
      lines: [`no configuration files found in directory ${JSON.stringify(fixture("dir-empty"))}`],
    });
    const missing = await validate("nope.yaml");
    expect(missing.code).toBe(1);
    expect(missing.lines[0]).toMatch(/^unable to access path ".*nope\.yaml": /);
  });

  it("takes exactly one CONFIG", async () => {
    const none = await runSim(["validate"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      "kubelet-credential-sim: missing argument CONFIG (see kubelet-credential-sim validate --help)\n",
    );
    const two = await runSim(["validate", fixture("dir-two"), fixture("dir-empty")]);
    expect(two.code).toBe(2);
  });
});

describe("validate warns of patterns the kubelet accepts but that will not match as meant (exit 0)", () => {
  it("names each one with its field path and why, then says the config is valid", async () => {
    const name = "warnings/silent.yaml";
    const result = await validate(name);
    const at = (path: string, pattern: string) =>
      `warning: ${fixture(name)}: ${path}: ${JSON.stringify(pattern)}: `;
    expect(result.code).toBe(0);
    const warnings = result.lines.slice(0, -1);
    expect(warnings.map((line) => line.slice(0, line.indexOf(": ", line.indexOf('": ')) + 2))).toEqual([
      at("providers[0].matchImages[0]", "*.amazonaws.com"),
      at("providers[0].matchImages[1]", "**.amazonaws.com"),
      at("providers[0].matchImages[2]", "...amazonaws.com:443"),
      at("providers[0].matchImages[3]", ""),
      at("providers[1].matchImages[0]", "registry.example.com/team/*"),
      at("providers[2].matchImages[0]", "*.example.com"),
    ]);
    expect(result.lines.at(-1)).toBe("valid: 3 providers from 1 file");
    expect(result.lines[0]).toContain(
      '"*" matches one DNS label: this does not match an Amazon ECR registry',
    );
    expect(result.lines[3]).toContain("an empty pattern matches no image");
    expect(result.lines[4]).toContain('write "registry.example.com/team/"');
    expect(result.lines[5]).toContain(
      'overlaps providers[1].matchImages[0] ("registry.example.com/team/*" of "mirror")',
    );
    expect(result.stderr).toBe("");
  });
});
