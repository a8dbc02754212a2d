import { readFileSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import {
  assertNoConfigIssues,
  type ConfigIssue,
  type CredentialProvider,
  type CredentialProviderConfig,
  formatConfigIssue,
  formatConfigIssues,
  loadConfig,
  parseConfig,
  type ServiceAccountTokenAttributes,
  validateConfig,
} from "./index.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/protocol.json", import.meta.url), "utf8"),
) as { configValidation: { rules: string[] } };

const fixtures = fileURLToPath(new URL("../testdata/config/", import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const readFixture = (name: string) => readFileSync(fixture(name), "utf8");

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1";

function provider(overrides: Partial<CredentialProvider> = {}): CredentialProvider {
  return {
    name: "test",
    matchImages: ["registry.io"],
    defaultCacheDuration: "10m",
    apiVersion: V1,
    ...overrides,
  };
}

function tokenAttributes(
  overrides: Partial<ServiceAccountTokenAttributes> = {},
): ServiceAccountTokenAttributes {
  return {
    serviceAccountTokenAudience: "audience",
    cacheType: "Token",
    requireServiceAccount: true,
    ...overrides,
  };
}

function config(...providers: CredentialProvider[]): CredentialProviderConfig {
  return { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers };
}

/** The issues as [path, type], the part every rule test pins. */
function found(issues: readonly ConfigIssue[]): [string, string][] {
  return issues.map((issue) => [issue.path, issue.type]);
}

function validate(...providers: CredentialProvider[]): [string, string][] {
  return found(validateConfig(config(...providers)));
}

async function decodeError(text: string, file?: string): Promise<CredentialProviderError> {
  const error = await parseConfig(text, file === undefined ? {} : { file }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CredentialProviderError);
  const typed = error as CredentialProviderError;
  expect(typed.code).toBe("CONFIG_INVALID");
  expect(typed.message).not.toContain("\n");
  return typed;
}

async function loadError(path: string): Promise<CredentialProviderError> {
  const error = await loadConfig(path).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CredentialProviderError);
  expect((error as CredentialProviderError).code).toBe("CONFIG_INVALID");
  return error as CredentialProviderError;
}

// One test per rule listed in protocol.json; a new rule there fails the coverage test below.
const ruleTests: Record<string, () => void | Promise<void>> = {
  "at least one provider": async () => {
    expect(validate()).toEqual([["providers", "Required"]]);
    expect(formatConfigIssue(validateConfig(config())[0] as ConfigIssue)).toBe(
      "providers: Required value: at least 1 item in plugins is required",
    );
    const loaded = await loadConfig(fixture("invalid/no-providers.yaml"));
    expect(loaded.issues).toEqual([
      {
        path: "providers",
        type: "Required",
        message: "at least 1 item in plugins is required",
        file: fixture("invalid/no-providers.yaml"),
      },
    ]);
  },

  "provider name: not empty, no '/', no spaces, not '.' or '..', unique across all files": async () => {
    expect(validate(provider({ name: "" }))).toEqual([["providers[0].name", "Required"]]);
    expect(validate(provider({ name: "foo/../bar" }))).toEqual([["providers[0].name", "Invalid"]]);
    expect(validate(provider({ name: "foo bar" }))).toEqual([["providers[0].name", "Invalid"]]);
    expect(validate(provider({ name: "." }))).toEqual([["providers[0].name", "Invalid"]]);
    expect(validate(provider({ name: ".." }))).toEqual([["providers[0].name", "Invalid"]]);
    expect(validate(provider({ name: "a/ b" }))).toEqual([
      ["providers[0].name", "Invalid"],
      ["providers[0].name", "Invalid"],
    ]);
    expect(validate(provider({ name: "p" }), provider({ name: "q" }), provider({ name: "p" }))).toEqual([
      ["providers[2].name", "Duplicate"],
    ]);
    expect(validate(provider({ name: "..." }), provider({ name: "a.b-c_d" }))).toEqual([]);

    const loaded = await loadConfig(fixture("dir-duplicate"));
    expect(loaded.issues).toEqual([
      {
        path: "providers[1].name",
        type: "Duplicate",
        value: "shared",
        message: "",
        file: fixture("dir-duplicate/b.json"),
      },
    ]);
  },

  "apiVersion required, one of the three credentialprovider versions": () => {
    expect(validate(provider({ apiVersion: "" }))).toEqual([["providers[0].apiVersion", "Required"]]);
    expect(validate(provider({ apiVersion: "credentialprovider.kubelet.k8s.io/v1alpha0" }))).toEqual([
      ["providers[0].apiVersion", "NotSupported"],
    ]);
    for (const apiVersion of [V1, V1BETA1, "credentialprovider.kubelet.k8s.io/v1alpha1"]) {
      expect(validate(provider({ apiVersion }))).toEqual([]);
    }
  },

  "matchImages: at least one; each must parse as a URL after 'https://' is prefixed": () => {
    expect(validate(provider({ matchImages: [] }))).toEqual([["providers[0].matchImages", "Required"]]);
    const issues = validateConfig(
      config(provider({ matchImages: ["registry.io", "%zz", "a b", "*.io:1/x"] })),
    );
    expect(found(issues)).toEqual([
      ["providers[0].matchImages[1]", "Invalid"],
      ["providers[0].matchImages[2]", "Invalid"],
    ]);
    expect(issues.map((issue) => formatConfigIssue(issue))).toEqual([
      'providers[0].matchImages[1]: Invalid value: "%zz": match image is invalid: parse "https://%zz": invalid URL escape "%zz"',
      'providers[0].matchImages[2]: Invalid value: "a b": match image is invalid: parse "https://a b": invalid character " " in host name',
    ]);
  },

  "defaultCacheDuration required and >= 0": () => {
    expect(validate(provider({ defaultCacheDuration: undefined }))).toEqual([
      ["providers[0].defaultCacheDuration", "Required"],
    ]);
    expect(validate(provider({ defaultCacheDuration: "-1ns" }))).toEqual([
      ["providers[0].defaultCacheDuration", "Invalid"],
    ]);
    expect(
      validate(provider({ defaultCacheDuration: "0s" }), provider({ name: "b", defaultCacheDuration: "0" })),
    ).toEqual([]);
    // A config built in code can hold text that decoding would have refused.
    expect(validate(provider({ defaultCacheDuration: "1d" }))).toEqual([
      ["providers[0].defaultCacheDuration", "Invalid"],
    ]);
  },

  "tokenAttributes.serviceAccountTokenAudience required; requireServiceAccount required (true or false); cacheType required, ServiceAccount or Token":
    () => {
      expect(validate(provider({ tokenAttributes: tokenAttributes() }))).toEqual([]);
      expect(
        validate(
          provider({
            tokenAttributes: tokenAttributes({ cacheType: "ServiceAccount", requireServiceAccount: false }),
          }),
        ),
      ).toEqual([]);
      expect(
        validate(
          provider({
            tokenAttributes: { serviceAccountTokenAudience: "", cacheType: "" },
          }),
        ),
      ).toEqual([
        ["providers[0].tokenAttributes.serviceAccountTokenAudience", "Required"],
        ["providers[0].tokenAttributes.requireServiceAccount", "Required"],
        ["providers[0].tokenAttributes.cacheType", "Required"],
      ]);
      expect(validate(provider({ tokenAttributes: tokenAttributes({ cacheType: "token" }) }))).toEqual([
        ["providers[0].tokenAttributes.cacheType", "NotSupported"],
      ]);
      // tokenAttributes needs the v1 request/response version.
      expect(validate(provider({ apiVersion: V1BETA1, tokenAttributes: tokenAttributes() }))).toEqual([
        ["providers[0].tokenAttributes", "Forbidden"],
      ]);
    },

  "requiredServiceAccountAnnotationKeys set requires requireServiceAccount true": () => {
    const keys = ["example.com/role"];
    expect(
      validate(
        provider({
          tokenAttributes: tokenAttributes({
            requireServiceAccount: false,
            requiredServiceAccountAnnotationKeys: keys,
          }),
        }),
      ),
    ).toEqual([["providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys", "Forbidden"]]);
    expect(
      validate(
        provider({
          tokenAttributes: tokenAttributes({
            requireServiceAccount: false,
            requiredServiceAccountAnnotationKeys: [],
          }),
        }),
      ),
    ).toEqual([]);
    expect(
      validate(
        provider({
          tokenAttributes: tokenAttributes({
            requireServiceAccount: false,
            optionalServiceAccountAnnotationKeys: keys,
          }),
        }),
      ),
    ).toEqual([]);
  },

  "annotation keys are qualified names (lowercased), no duplicates, never both required and optional": () => {
    const path = "providers[0].tokenAttributes";
    const check = (attributes: Partial<ServiceAccountTokenAttributes>) =>
      validate(provider({ tokenAttributes: tokenAttributes(attributes) }));
    // Upper case is fine: keys are lowercased before the (otherwise case-sensitive) prefix check.
    expect(
      check({ requiredServiceAccountAnnotationKeys: ["Example.COM/Role", "simple", "a_b.c-d"] }),
    ).toEqual([]);
    expect(check({ requiredServiceAccountAnnotationKeys: ["ok", "cantendwithadash-"] })).toEqual([
      [`${path}.requiredServiceAccountAnnotationKeys[1]`, "Invalid"],
    ]);
    expect(check({ optionalServiceAccountAnnotationKeys: ["a/b/c", "/name", "bad_prefix.com/x"] })).toEqual([
      [`${path}.optionalServiceAccountAnnotationKeys[0]`, "Invalid"],
      [`${path}.optionalServiceAccountAnnotationKeys[1]`, "Invalid"],
      [`${path}.optionalServiceAccountAnnotationKeys[2]`, "Invalid"],
    ]);
    expect(check({ requiredServiceAccountAnnotationKeys: ["a/b", "c", "a/b"] })).toEqual([
      [`${path}.requiredServiceAccountAnnotationKeys[2]`, "Duplicate"],
    ]);
    // Duplicates are compared as written, so a change of case is not one.
    expect(check({ optionalServiceAccountAnnotationKeys: ["a/b", "A/B"] })).toEqual([]);
    expect(
      check({
        requiredServiceAccountAnnotationKeys: ["x", "y", "z"],
        optionalServiceAccountAnnotationKeys: ["z", "y"],
      }),
    ).toEqual([[path, "Invalid"]]);
    const both = validateConfig(
      config(
        provider({
          tokenAttributes: tokenAttributes({
            requiredServiceAccountAnnotationKeys: ["x", "z", "y"],
            optionalServiceAccountAnnotationKeys: ["z", "y"],
          }),
        }),
      ),
    );
    expect(both[0]?.value).toEqual(["y", "z"]);
  },
};

describe("configValidation rules (testdata/vectors/protocol.json)", () => {
  it("has a test for every rule and no test for a rule it does not list", () => {
    expect(Object.keys(ruleTests).sort()).toEqual([...vectors.configValidation.rules].sort());
  });

  for (const rule of vectors.configValidation.rules) {
    it(rule, async () => {
      const test = ruleTests[rule];
      if (test === undefined) throw new Error(`no test for rule ${JSON.stringify(rule)}`);
      await test();
    });
  }
});

describe("validateConfig: the kubelet's texts", () => {
  // Cases and expected strings from the kubelet's own Test_validateCredentialProviderConfig.
  const cases: [string, CredentialProviderConfig, string][] = [
    ["no providers", config(), "providers: Required value: at least 1 item in plugins is required"],
    [
      "no matchImages",
      config(provider({ matchImages: [] })),
      "providers.matchImages: Required value: at least 1 item in matchImages is required",
    ],
    [
      "no defaultCacheDuration",
      config(provider({ defaultCacheDuration: undefined })),
      "providers.defaultCacheDuration: Required value",
    ],
    [
      "name contains '/'",
      config(provider({ name: "foo/../bar" })),
      `providers.name: Invalid value: "foo/../bar": provider name cannot contain '/'`,
    ],
    [
      "name is '.'",
      config(provider({ name: "." })),
      `providers.name: Invalid value: ".": provider name cannot be '.'`,
    ],
    [
      "name is '..'",
      config(provider({ name: ".." })),
      `providers.name: Invalid value: "..": provider name cannot be '..'`,
    ],
    [
      "name contains spaces",
      config(provider({ name: "foo bar" })),
      `providers.name: Invalid value: "foo bar": provider name cannot contain spaces`,
    ],
    [
      "duplicate names",
      config(provider({ name: "foobar" }), provider({ name: "foobar" })),
      `providers.name: Duplicate value: "foobar"`,
    ],
    ["no apiVersion", config(provider({ apiVersion: "" })), "providers.apiVersion: Required value"],
    [
      "invalid apiVersion",
      config(provider({ apiVersion: "credentialprovider.kubelet.k8s.io/v1alpha0" })),
      `providers.apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v1alpha0": supported values: "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"`,
    ],
    [
      "negative defaultCacheDuration",
      config(provider({ defaultCacheDuration: "-60s" })),
      "providers.defaultCacheDuration: Invalid value: -1m0s: defaultCacheDuration must be greater than or equal to 0",
    ],
    [
      "invalid match image",
      config(provider({ matchImages: ["%invalid%"] })),
      `providers.matchImages: Invalid value: "%invalid%": match image is invalid: parse "https://%invalid%": invalid URL escape "%in"`,
    ],
    [
      "empty serviceAccountTokenAudience",
      config(
        provider({
          tokenAttributes: tokenAttributes({
            serviceAccountTokenAudience: "",
            requiredServiceAccountAnnotationKeys: ["prefix.io/annotation-1", "prefix.io/annotation-2"],
          }),
        }),
      ),
      "providers.tokenAttributes.serviceAccountTokenAudience: Required value",
    ],
    [
      "no requireServiceAccount",
      config(provider({ tokenAttributes: tokenAttributes({ requireServiceAccount: undefined }) })),
      "providers.tokenAttributes.requireServiceAccount: Required value",
    ],
    [
      "required key not a qualified name",
      config(
        provider({
          tokenAttributes: tokenAttributes({
            requiredServiceAccountAnnotationKeys: ["cantendwithadash-", "now-with-dashes/simple"],
          }),
        }),
      ),
      `providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Invalid value: "cantendwithadash-": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ],
    [
      "duplicate optional keys",
      config(
        provider({
          tokenAttributes: tokenAttributes({
            optionalServiceAccountAnnotationKeys: ["now-with-dashes/simple", "now-with-dashes/simple"],
          }),
        }),
      ),
      `providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Duplicate value: "now-with-dashes/simple"`,
    ],
    [
      "key both required and optional",
      config(
        provider({
          tokenAttributes: tokenAttributes({
            requiredServiceAccountAnnotationKeys: ["now-with-dashes/simple-1", "now-with-dashes/simple-2"],
            optionalServiceAccountAnnotationKeys: ["now-with-dashes/simple-2", "now-with-dashes/simple-3"],
          }),
        }),
      ),
      `providers.tokenAttributes: Invalid value: []string{"now-with-dashes/simple-2"}: annotation keys cannot be both required and optional`,
    ],
    [
      "required keys with requireServiceAccount false",
      config(
        provider({
          tokenAttributes: tokenAttributes({
            requireServiceAccount: false,
            requiredServiceAccountAnnotationKeys: ["now-with-dashes/simple-1", "now-with-dashes/simple-2"],
          }),
        }),
      ),
      "providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
    ],
    [
      "tokenAttributes with a v1beta1 provider",
      config(provider({ apiVersion: V1BETA1, tokenAttributes: tokenAttributes() })),
      "providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version",
    ],
    [
      "no cacheType",
      config(provider({ tokenAttributes: tokenAttributes({ cacheType: "" }) })),
      "providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
    ],
    [
      "unsupported cacheType",
      config(provider({ tokenAttributes: tokenAttributes({ cacheType: "Pod" }) })),
      `providers.tokenAttributes.cacheType: Unsupported value: "Pod": supported values: "ServiceAccount", "Token"`,
    ],
  ];

  it.each(cases)("%s", (_name, input, expected) => {
    expect(formatConfigIssues(validateConfig(input), { kubelet: true })).toBe(expected);
  });

  it("formats issues with list indices by default, as the brief's examples", () => {
    const issues = validateConfig(
      config(
        provider({ name: "" }),
        provider({ name: "a/b", apiVersion: "x" }),
        provider({ name: "p", tokenAttributes: tokenAttributes(), apiVersion: V1BETA1 }),
        provider({ name: "p" }),
      ),
    );
    expect(issues.map((issue) => formatConfigIssue(issue))).toEqual([
      "providers[0].name: Required value: name is required",
      `providers[1].name: Invalid value: "a/b": provider name cannot contain '/'`,
      `providers[1].apiVersion: Unsupported value: "x": supported values: "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"`,
      "providers[2].tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version",
      `providers[3].name: Duplicate value: "p"`,
    ]);
  });

  it("words qualified-name failures as apimachinery does", () => {
    const messages = (key: string) =>
      validateConfig(
        config(
          provider({ tokenAttributes: tokenAttributes({ optionalServiceAccountAnnotationKeys: [key] }) }),
        ),
      ).map((issue) => issue.message);
    const nameRegex =
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    expect(messages("a/b/c")).toEqual([
      `a qualified name ${nameRegex} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]);
    expect(messages("/x")).toEqual(["prefix part must be non-empty"]);
    expect(messages("x/")).toEqual(["name part must be non-empty", `name part ${nameRegex}`]);
    expect(messages("-x.com/y")).toEqual([
      "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(messages(`${"a".repeat(254)}/x`)).toEqual(["prefix part must be no more than 253 characters"]);
    expect(messages("x".repeat(64))).toEqual(["name part must be no more than 63 characters"]);
    expect(messages("x".repeat(63))).toEqual([]);
  });

  it("quotes values as Go's %q does", () => {
    const issue: ConfigIssue = {
      path: "providers[0].name",
      type: "Invalid",
      value: 'a "b"\n\u0001é\u200b',
      message: "m",
    };
    expect(formatConfigIssue(issue)).toBe('providers[0].name: Invalid value: "a \\"b\\"\\n\\x01é\\u200b": m');
  });

  it("aggregates several issues as the kubelet does, dropping repeats", () => {
    const issues = validateConfig(
      config(
        provider({ defaultCacheDuration: undefined }),
        provider({ name: "b", defaultCacheDuration: undefined }),
      ),
    );
    expect(formatConfigIssues(issues, { kubelet: true })).toBe(
      "providers.defaultCacheDuration: Required value",
    );
    expect(formatConfigIssues(issues)).toBe(
      "[providers[0].defaultCacheDuration: Required value, providers[1].defaultCacheDuration: Required value]",
    );
    expect(() => assertNoConfigIssues(issues)).toThrow(
      "failed to validate credential provider config: [providers[0].defaultCacheDuration: Required value, providers[1].defaultCacheDuration: Required value]",
    );
    expect(() => assertNoConfigIssues([])).not.toThrow();
    expect(formatConfigIssues([])).toBe("");
  });

  it("collects every issue of a broken file, with paths and types", async () => {
    const parsed = await parseConfig(readFixture("invalid/validation-issues.yaml"));
    const issues = validateConfig(parsed);
    expect(found(issues)).toEqual([
      ["providers[0].name", "Invalid"],
      ["providers[0].apiVersion", "NotSupported"],
      ["providers[0].matchImages", "Required"],
      ["providers[0].defaultCacheDuration", "Required"],
      ["providers[1].matchImages[1]", "Invalid"],
      ["providers[1].defaultCacheDuration", "Invalid"],
      ["providers[1].tokenAttributes.serviceAccountTokenAudience", "Required"],
      ["providers[1].tokenAttributes", "Forbidden"],
      ["providers[1].tokenAttributes.requiredServiceAccountAnnotationKeys", "Forbidden"],
      ["providers[1].tokenAttributes.requiredServiceAccountAnnotationKeys[1]", "Invalid"],
      ["providers[1].tokenAttributes", "Invalid"],
      ["providers[1].tokenAttributes.cacheType", "NotSupported"],
    ]);
    expect(formatConfigIssue(issues[5] as ConfigIssue)).toBe(
      "providers[1].defaultCacheDuration: Invalid value: -5m0s: defaultCacheDuration must be greater than or equal to 0",
    );
  });
});

describe("parseConfig", () => {
  it("reads the EKS-style YAML config", async () => {
    const parsed = await parseConfig(readFixture("valid/eks.yaml"));
    expect(parsed.apiVersion).toBe("kubelet.config.k8s.io/v1");
    expect(parsed.providers).toHaveLength(1);
    expect(parsed.providers[0]).toMatchObject({
      name: "ecr-credential-provider",
      defaultCacheDuration: "12h",
      apiVersion: V1,
    });
    expect(parsed.providers[0]?.matchImages).toContain("*.dkr.ecr.*.amazonaws.com");
    expect(validateConfig(parsed)).toEqual([]);
  });

  it("reads the AKS-style YAML config with tokenAttributes", async () => {
    const parsed = await parseConfig(readFixture("valid/aks.yaml"));
    expect(parsed.providers[0]).toEqual({
      name: "acr-credential-provider",
      matchImages: ["*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us", "*.*.geo.azurecr.io"],
      defaultCacheDuration: "10m",
      apiVersion: V1,
      args: ["/etc/kubernetes/azure.json"],
      env: [{ name: "AZURE_ENVIRONMENT_FILEPATH", value: "/etc/kubernetes/akscustom.json" }],
      tokenAttributes: {
        serviceAccountTokenAudience: "api://AzureADTokenExchange",
        cacheType: "ServiceAccount",
        requireServiceAccount: true,
        requiredServiceAccountAnnotationKeys: ["kubernetes.azure.com/acr-client-id"],
        optionalServiceAccountAnnotationKeys: ["kubernetes.azure.com/acr-tenant-id"],
      },
    });
    expect(validateConfig(parsed)).toEqual([]);
  });

  it("reads the GKE-style JSON config", async () => {
    const parsed = await parseConfig(readFixture("valid/gke.json"));
    expect(parsed).toEqual({
      kind: "CredentialProviderConfig",
      apiVersion: "kubelet.config.k8s.io/v1",
      providers: [
        {
          name: "auth-provider-gcp",
          apiVersion: V1,
          matchImages: ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"],
          args: ["get-credentials", "--v=3"],
          defaultCacheDuration: "1m",
        },
      ],
    });
    expect(validateConfig(parsed)).toEqual([]);
  });

  it("reads v1beta1 JSON and v1alpha1 YAML", async () => {
    const beta = await parseConfig(readFixture("valid/v1beta1.json"));
    expect(beta.apiVersion).toBe("kubelet.config.k8s.io/v1beta1");
    expect(validateConfig(beta)).toEqual([]);
    const alpha = await parseConfig(readFixture("valid/v1alpha1.yml"));
    expect(alpha.apiVersion).toBe("kubelet.config.k8s.io/v1alpha1");
    expect(alpha.providers[0]?.env).toEqual([{ name: "FOO", value: "BAR" }]);
    expect(validateConfig(alpha)).toEqual([]);
  });

  it("fills absent fields with Go's zero values and treats null as absent", async () => {
    const parsed = await parseConfig(
      '{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[{"name":null,"tokenAttributes":{}}]}',
    );
    expect(parsed.providers).toEqual([
      {
        name: "",
        matchImages: [],
        apiVersion: "",
        tokenAttributes: { serviceAccountTokenAudience: "", cacheType: "" },
      },
    ]);
    const empty = await parseConfig(
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n",
    );
    expect(empty.providers).toEqual([]);
    // A null list element is the element's zero value, as in Go.
    const elements = await parseConfig(
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  -\n  - matchImages: [~]\n    env: [null]\n",
    );
    expect(elements.providers).toEqual([
      { name: "", matchImages: [], apiVersion: "" },
      { name: "", matchImages: [""], apiVersion: "", env: [{ name: "", value: "" }] },
    ]);
  });

  it("rejects an unknown top-level field", async () => {
    const error = await decodeError(readFixture("invalid/unknown-top-level.json"), "cfg.json");
    expect(error.message).toBe(
      'error decoding config "cfg.json": strict decoding error: unknown field "plugins"',
    );
  });

  it("rejects unknown provider and env fields, all of them", async () => {
    const error = await decodeError(readFixture("invalid/unknown-provider-field.yaml"));
    expect(error.message).toContain('unknown field "providers[0].unknownField"');
    expect(error.message).toContain('unknown field "providers[0].env[0].valueFrom"');
    expect(error.message).toMatch(/^error decoding config: strict decoding error: /);
  });

  it("rejects tokenAttributes in v1beta1 and v1alpha1 configs", async () => {
    const text = readFixture("invalid/token-attributes-v1beta1.yaml");
    expect((await decodeError(text)).message).toBe(
      'error decoding config: strict decoding error: unknown field "providers[0].tokenAttributes"',
    );
    const alpha = text.replaceAll("v1beta1", "v1alpha1");
    expect((await decodeError(alpha)).message).toContain('unknown field "providers[0].tokenAttributes"');
    const v1 = text.replaceAll("v1beta1", "v1");
    expect((await parseConfig(v1)).providers[0]?.tokenAttributes?.serviceAccountTokenAudience).toBe(
      "audience",
    );
  });

  // The deliberately broken JSON and YAML fixtures end in .txt so the repository's biome check
  // does not lint them; parseConfig looks at the text, never at the name.
  it("rejects duplicate keys in YAML and in JSON", async () => {
    expect((await decodeError(readFixture("invalid/duplicate-key.yaml"))).message).toBe(
      'error decoding config: strict decoding error: error converting YAML to JSON: yaml: unmarshal errors: line 5: key "name" already set in map',
    );
    expect((await decodeError(readFixture("invalid/duplicate-key.json.txt"))).message).toBe(
      'error decoding config: strict decoding error: duplicate field "providers[0].name"',
    );
  });

  it("rejects wrong types with Go's unmarshal text", async () => {
    expect((await decodeError(readFixture("invalid/wrong-type.json"))).message).toBe(
      "error decoding config: json: cannot unmarshal string into Go struct field CredentialProvider.providers.matchImages of type []string",
    );
    const base = "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1beta1\nproviders:\n";
    expect((await decodeError(`${base}  - name: 5\n`)).message).toContain(
      "cannot unmarshal number into Go struct field CredentialProvider.providers.name of type string",
    );
    expect((await decodeError(`${base}  - matchImages: [a, [b]]\n`)).message).toContain(
      "cannot unmarshal array into Go struct field CredentialProvider.providers.matchImages of type string",
    );
    expect((await decodeError(`${base}  - env: [{name: a, value: true}]\n`)).message).toContain(
      "cannot unmarshal bool into Go struct field ExecEnvVar.providers.env.value of type string",
    );
    expect((await decodeError(`${base}  - defaultCacheDuration: 60\n`)).message).toContain(
      "json: cannot unmarshal number into Go value of type string",
    );
    expect((await decodeError(`${base}  - x\n`)).message).toContain(
      "cannot unmarshal string into Go struct field CredentialProviderConfig.providers of type v1beta1.CredentialProvider",
    );
    const v1 = base.replace("v1beta1", "v1");
    expect(
      (await decodeError(`${v1}  - tokenAttributes: {requireServiceAccount: "true"}\n`)).message,
    ).toContain(
      "cannot unmarshal string into Go struct field ServiceAccountTokenAttributes.providers.tokenAttributes.requireServiceAccount of type bool",
    );
  });

  it("reads YAML as YAML 1.1, as the kubelet's go-yaml does", async () => {
    const parsed = await parseConfig(
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: 2024-01-01\n    tokenAttributes:\n      requireServiceAccount: yes\n",
    );
    expect(parsed.providers[0]?.name).toBe("2024-01-01");
    expect(parsed.providers[0]?.tokenAttributes?.requireServiceAccount).toBe(true);
  });

  it("rejects a bad Go duration with Go's text", async () => {
    expect((await decodeError(readFixture("invalid/bad-duration.yaml"))).message).toBe(
      'error decoding config: time: unknown unit "d" in duration "1d"',
    );
  });

  it("rejects a wrong kind or apiVersion, or a missing one, as the kubelet's codec does", async () => {
    expect((await decodeError(readFixture("invalid/wrong-kind.yaml"))).message).toBe(
      'error decoding config: no kind "WrongKind" is registered for version "kubelet.config.k8s.io/v1alpha1"',
    );
    expect((await decodeError("kind: CredentialProviderConfig\napiVersion: foobar/v1alpha1\n")).message).toBe(
      'error decoding config: no kind "CredentialProviderConfig" is registered for version "foobar/v1alpha1"',
    );
    expect((await decodeError("apiVersion: kubelet.config.k8s.io/v1\n")).message).toBe(
      "error decoding config: Object 'Kind' is missing",
    );
    expect((await decodeError('{"kind": "CredentialProviderConfig"}')).message).toBe(
      "error decoding config: Object 'apiVersion' is missing",
    );
    expect((await decodeError("")).message).toBe("error decoding config: Object 'Kind' is missing");
    expect((await decodeError("null")).message).toBe("error decoding config: Object 'Kind' is missing");
    expect((await decodeError("- a\n")).message).toContain("couldn't get version/kind");
  });

  it("rejects more than one YAML document", async () => {
    expect((await decodeError(readFixture("invalid/multi-document.yaml"))).message).toContain(
      "found 2 YAML documents, a config file must hold exactly one",
    );
  });

  it("rejects syntax errors on one line naming the file", async () => {
    const json = await decodeError(readFixture("invalid/syntax.json.txt"), "/etc/kubernetes/cp.json");
    expect(json.message).toMatch(/^error decoding config "\/etc\/kubernetes\/cp\.json": /);
    const yaml = await decodeError(readFixture("invalid/syntax.yaml.txt"), "cp.yaml");
    expect(yaml.message).toMatch(
      /^error decoding config "cp\.yaml": error converting YAML to JSON: yaml: line \d+: /,
    );
  });

  it("decodes as JSON only when the text starts with '{', as the kubelet's codec does", async () => {
    // YAML flow style is not JSON, so the JSON decoder refuses it.
    await decodeError("{kind: CredentialProviderConfig, apiVersion: kubelet.config.k8s.io/v1}");
    // Anything else goes to the YAML decoder, which reads JSON after a comment just fine.
    const parsed = await parseConfig(`# comment\n${readFixture("valid/gke.json")}`);
    expect(parsed.providers[0]?.name).toBe("auth-provider-gcp");
  });
});

describe("loadConfig", () => {
  it("loads a single file", async () => {
    const loaded = await loadConfig(fixture("valid/aks.yaml"));
    expect(loaded.files).toEqual([fixture("valid/aks.yaml")]);
    expect(loaded.config.providers.map((p) => p.name)).toEqual(["acr-credential-provider"]);
    expect(loaded.issues).toEqual([]);
  });

  it("keeps a single file's apiVersion", async () => {
    const loaded = await loadConfig(fixture("valid/v1beta1.json"));
    expect(loaded.config.apiVersion).toBe("kubelet.config.k8s.io/v1beta1");
  });

  it("merges a directory's files in name order, YAML and JSON alike", async () => {
    const loaded = await loadConfig(fixture("dir-two"));
    expect(loaded.files).toEqual([fixture("dir-two/10-ecr.yaml"), fixture("dir-two/20-gcp.json")]);
    expect(loaded.config).toMatchObject({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
    });
    expect(loaded.config.providers.map((p) => [p.name, p.apiVersion])).toEqual([
      ["ecr-credential-provider", V1BETA1],
      ["auth-provider-gcp", V1],
    ]);
    expect(loaded.issues).toEqual([]);
  });

  it("orders by the bytes of names and ignores other files and directories", async () => {
    const loaded = await loadConfig(fixture("dir-order"));
    expect(loaded.files.map((file) => file.slice(fixture("dir-order").length + 1))).toEqual([
      "10-ten.yaml",
      "2-two.json",
      "B-upper.yml",
      "a-lower.yaml",
    ]);
    expect(loaded.config.providers.map((p) => p.name)).toEqual(["10-ten", "2-two", "B-upper", "a-lower"]);
  });

  it("places issues in their file, with the provider's index within that file", async () => {
    const directory = await mkdtemp(join(tmpdir(), "config-test-"));
    try {
      await writeFile(join(directory, "a.yaml"), readFixture("valid/eks.yaml"));
      await writeFile(join(directory, "b.yaml"), readFixture("invalid/validation-issues.yaml"));
      const loaded = await loadConfig(directory);
      expect(loaded.issues[0]).toMatchObject({ path: "providers[0].name", file: join(directory, "b.yaml") });
      expect(loaded.issues.every((issue) => issue.file === join(directory, "b.yaml"))).toBe(true);
      expect(loaded.issues.at(-1)?.path).toBe("providers[1].tokenAttributes.cacheType");

      // A directory whose files hold no provider at all: the issue names the directory.
      await rm(join(directory, "a.yaml"));
      await writeFile(join(directory, "b.yaml"), readFixture("invalid/no-providers.yaml"));
      await writeFile(
        join(directory, ".json"),
        readFixture("invalid/no-providers.yaml").replace("[]", "null"),
      );
      const empty = await loadConfig(directory);
      // Go's filepath.Ext counts a name that is only an extension.
      expect(empty.files).toEqual([join(directory, ".json"), join(directory, "b.yaml")]);
      expect(empty.issues).toEqual([
        {
          path: "providers",
          type: "Required",
          message: "at least 1 item in plugins is required",
          file: directory,
        },
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("reads a symlink to a file like the file", async () => {
    const directory = await mkdtemp(join(tmpdir(), "config-test-"));
    try {
      await symlink(fixture("valid/gke.json"), join(directory, "gke.json"));
      expect((await loadConfig(directory)).config.providers[0]?.name).toBe("auth-provider-gcp");
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("fails on a directory without config files", async () => {
    expect((await loadError(fixture("dir-empty"))).message).toBe(
      `no configuration files found in directory ${JSON.stringify(fixture("dir-empty"))}`,
    );
  });

  it("fails on a missing path, naming it", async () => {
    const error = await loadError(fixture("nope.yaml"));
    expect(error.message).toMatch(/^unable to access path ".*nope\.yaml": .*ENOENT/);
    expect((await loadError("")).message).toBe("credential provider config path is empty");
  });

  it("fails on a file that does not decode, naming the file", async () => {
    const directory = await mkdtemp(join(tmpdir(), "config-test-"));
    try {
      await writeFile(join(directory, "a.yaml"), readFixture("valid/eks.yaml"));
      await writeFile(join(directory, "b.yaml"), readFixture("invalid/wrong-kind.yaml"));
      const error = await loadError(directory);
      expect(error.message).toBe(
        `error decoding config ${JSON.stringify(join(directory, "b.yaml"))}: no kind "WrongKind" is registered for version "kubelet.config.k8s.io/v1alpha1"`,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("YAML oddities", () => {
  it("a collection used as a map key is a decoding error, and prints no Node warning", async () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const text =
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: p\n    args: [get-credentials, {{X}}]\n";
      await expect(parseConfig(text)).rejects.toThrow(/args/);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
