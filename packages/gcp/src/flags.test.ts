/**
 * The Go plugin's flag rules (cmd/auth-provider-gcp/app getcredentials_test.go: TestValidateAuthFlow,
 * TestFlagError) and gcp.json's `flags`, plus this provider's own flags, through the harness's parser.
 */
import { readFileSync } from "node:fs";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import type { RawGcpOptions } from "./flags.ts";
import { validateOptions } from "./flags.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/gcp.json", import.meta.url), "utf8"),
) as { flags: string; configArgs: string[] };

const IDP =
  "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster";
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";

const usage = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialProviderError);
    expect((error as CredentialProviderError).code).toBe("USAGE");
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
};

describe("upstream TestValidateAuthFlow", () => {
  const ok: Array<[string, RawGcpOptions]> = [
    ["validate gcr auth flow", { authFlow: "gcr" }],
    ["validate docker-cfg auth flow option", { authFlow: "dockercfg" }],
    ["validate docker-cfg-url auth flow option", { authFlow: "dockercfg-url" }],
    [
      "identity-provider and project-id with gcr flow",
      { authFlow: "gcr", "identity-provider": IDP, "project-id": "my-project" },
    ],
    [
      "identity-provider and project-id with dockercfg flow",
      { authFlow: "dockercfg", "identity-provider": IDP, "project-id": "my-project" },
    ],
    [
      "identity-provider and project-id with dockercfg-url flow",
      { authFlow: "dockercfg-url", "identity-provider": IDP, "project-id": "my-project" },
    ],
  ];
  it.each(ok)("%s", (_, raw) => {
    expect(validateOptions(raw).authFlow).toBe(raw.authFlow);
  });

  const bad: Array<[string, RawGcpOptions, RegExp]> = [
    ["bad auth flow option", { authFlow: "bad-flow" }, /invalid value "bad-flow" for authFlow/],
    ["empty auth flow option", { authFlow: "" }, /invalid value "" for authFlow/],
    ["case-sensitive auth flow", { authFlow: "Gcrauthflow" }, /invalid value "Gcrauthflow"/],
    ["case-sensitive auth flow (GCR)", { authFlow: "GCR" }, /invalid value "GCR"/],
    [
      "identity-provider without project-id with gcr flow",
      { authFlow: "gcr", "identity-provider": IDP },
      /needs --project-id/,
    ],
    [
      "identity-provider without project-id with dockercfg flow",
      { authFlow: "dockercfg", "identity-provider": IDP },
      /needs --project-id/,
    ],
    [
      "identity-provider without project-id with dockercfg-url flow",
      { authFlow: "dockercfg-url", "identity-provider": IDP },
      /needs --project-id/,
    ],
  ];
  it.each(bad)("%s", (_, raw, message) => {
    expect(usage(() => validateOptions(raw))).toMatch(message);
  });

  it("the error message names the rejected value and the valid ones (TestFlagError)", () => {
    expect(usage(() => validateOptions({ authFlow: "bad-flow" }))).toMatch(
      /"bad-flow".*"gcr", "dockercfg", "dockercfg-url"/,
    );
  });
});

describe("gcp.json flags", () => {
  it("documents the rules tested here", () => {
    expect(vectors.flags).toMatch(/default gcr, case-sensitive/);
    expect(vectors.flags).toMatch(/--identity-provider without --project-id is an error/);
  });

  it("the GKE configArgs are valid: get-credentials, and --v from the harness", () => {
    expect(vectors.configArgs[0]).toBe("get-credentials");
    expect(validateOptions({}, vectors.configArgs.slice(0, 1)).authFlow).toBe("gcr");
  });
});

describe("the verb", () => {
  it("is required, as upstream's cobra subcommand", () => {
    expect(usage(() => validateOptions({}, []))).toMatch(/missing command/);
    expect(usage(() => validateOptions({}, ["get-credential"]))).toMatch(/unknown command "get-credential"/);
    expect(usage(() => validateOptions({}, ["Get-Credentials"]))).toMatch(/unknown command/);
  });

  it("extra arguments after it are tolerated, as cobra does", () => {
    expect(validateOptions({}, ["get-credentials", "extra"]).authFlow).toBe("gcr");
  });
});

describe("this provider's flags", () => {
  it("--project-id must be a project id", () => {
    expect(
      validateOptions({ "identity-provider": IDP, "project-id": "example.com:my-project" }).projectId,
    ).toBe("example.com:my-project");
    for (const bad of ["My Project", "my/project", "-x", ""]) {
      expect(usage(() => validateOptions({ "identity-provider": IDP, "project-id": bad }))).toMatch(
        /project/,
      );
    }
  });

  it("--identity-provider must not be empty", () => {
    expect(usage(() => validateOptions({ "identity-provider": "", "project-id": "p1" }))).toMatch(
      /identity provider URL/,
    );
  });

  it("--workload-identity-provider: the pool provider resource, with the gcr flow, not with --identity-provider", () => {
    expect(validateOptions({ "workload-identity-provider": POOL }).workloadIdentityProvider).toBe(POOL);
    for (const bad of [
      "projects/1/locations/global/workloadIdentityPools/p/providers/r",
      "//iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/p/providers/r",
      "//iam.googleapis.com/projects/1/locations/us/workloadIdentityPools/p/providers/r",
      "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p",
      `${POOL}/x`,
      "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r",
    ]) {
      expect(usage(() => validateOptions({ "workload-identity-provider": bad }))).toMatch(/must be \/\/iam/);
    }
    expect(
      usage(() =>
        validateOptions({ "workload-identity-provider": POOL, "identity-provider": IDP, "project-id": "p1" }),
      ),
    ).toMatch(/exclude each other/);
    expect(
      usage(() => validateOptions({ "workload-identity-provider": POOL, authFlow: "dockercfg" })),
    ).toMatch(/needs --authFlow gcr/);
  });

  it("--impersonate-service-account: an email, with the gcr flow", () => {
    const email = "puller@my-project.iam.gserviceaccount.com";
    expect(validateOptions({ "impersonate-service-account": email }).impersonateServiceAccount).toBe(email);
    expect(usage(() => validateOptions({ "impersonate-service-account": "puller" }))).toMatch(
      /not a service account email/,
    );
    expect(
      usage(() => validateOptions({ "impersonate-service-account": email, authFlow: "dockercfg-url" })),
    ).toMatch(/needs --authFlow gcr/);
  });
});
