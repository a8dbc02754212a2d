import type { CredentialProviderRequest } from "@kubelet-credential-provider/core";
import { API_VERSION_V1, CredentialProviderError, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { loadAzureConfig, parseAzureConfig } from "./azure-config.ts";
import { AZURE_CLOUDS, resolveCloud } from "./clouds.ts";
import {
  CLIENT_ID_ANNOTATION,
  describeIdentity,
  selectIdentity,
  TENANT_ID_ANNOTATION,
  tenantOf,
} from "./identity.ts";

const FILE = "/etc/kubernetes/azure.json";
const SECRET = "sp-secret~Q8Q~not.a.real.secret";
const parse = (value: unknown) => parseAzureConfig(JSON.stringify(value), FILE);

function failure(run: () => unknown): CredentialProviderError {
  try {
    run();
  } catch (error) {
    if (error instanceof CredentialProviderError) return error;
    throw error;
  }
  throw new Error("no error");
}

const request = (extra: Partial<CredentialProviderRequest> = {}): CredentialProviderRequest => ({
  kind: "CredentialProviderRequest",
  apiVersion: API_VERSION_V1,
  image: "foo.azurecr.io/app",
  ...extra,
});

describe("parseAzureConfig", () => {
  it("reads the fields it uses, names matched case-insensitively, the rest ignored", () => {
    const config = parse({
      Cloud: "AzurePublicCloud",
      tenantID: "tenant-1",
      AADClientID: "client-1",
      aadclientsecret: SECRET,
      UseManagedIdentityExtension: true,
      userAssignedIdentityId: "mi-client",
      subscriptionId: "sub",
      resourceGroup: "rg",
      vmType: "vmss",
    });
    expect(config).toEqual({
      file: FILE,
      cloud: AZURE_CLOUDS.AzurePublicCloud,
      tenantId: "tenant-1",
      aadClientId: "client-1",
      aadClientSecret: SECRET,
      useManagedIdentityExtension: true,
      userAssignedIdentityID: "mi-client",
      useFederatedWorkloadIdentityExtension: false,
    });
  });

  it("lets a later field win over an earlier one of the same name, as Go does", () => {
    const config = parseAzureConfig('{"tenantId":"a","TENANTID":"b"}', FILE);
    expect(config.tenantId).toBe("b");
  });

  it("treats empty strings and null as absent, trims ids but not secrets", () => {
    const config = parse({
      tenantId: " t ",
      aadClientId: "",
      aadClientSecret: " s ",
      userAssignedIdentityID: null,
    });
    expect(config).toMatchObject({ tenantId: "t", aadClientSecret: " s " });
    expect(config).not.toHaveProperty("aadClientId");
    expect(config).not.toHaveProperty("userAssignedIdentityID");
  });

  it.each([
    [undefined, "AzurePublicCloud"],
    ["", "AzurePublicCloud"],
    ["azurepubliccloud", "AzurePublicCloud"],
    ["AzureCloud", "AzurePublicCloud"],
    ["AzureChinaCloud", "AzureChinaCloud"],
    ["AZURECHINACLOUD", "AzureChinaCloud"],
    ["AzureUSGovernmentCloud", "AzureUSGovernmentCloud"],
    ["azureusgovernment", "AzureUSGovernmentCloud"],
  ])("cloud %j is %s", (cloud, name) => {
    expect(parse(cloud === undefined ? {} : { cloud }).cloud.name).toBe(name);
  });

  it("each cloud has its Entra authority, login server suffix and ACR scope", () => {
    expect(resolveCloud("AzurePublicCloud")).toEqual({
      name: "AzurePublicCloud",
      authorityHost: "https://login.microsoftonline.com",
      loginServerSuffix: "azurecr.io",
      acrScope: "https://containerregistry.azure.net/.default",
    });
    expect(resolveCloud("AzureChinaCloud")).toMatchObject({
      authorityHost: "https://login.chinacloudapi.cn",
      loginServerSuffix: "azurecr.cn",
      acrScope: "https://containerregistry.azure.net/.default",
    });
    expect(resolveCloud("AzureUSGovernmentCloud")).toMatchObject({
      authorityHost: "https://login.microsoftonline.us",
      loginServerSuffix: "azurecr.us",
      acrScope: "https://containerregistry.azure.net/.default",
    });
  });

  it.each([
    ["an unknown cloud", { cloud: "AzureStackCloud" }, 'cloud "AzureStackCloud" is not supported'],
    ["a non-string field", { tenantId: 42 }, "tenantId must be a string"],
    [
      "a non-boolean flag",
      { useManagedIdentityExtension: "true" },
      "useManagedIdentityExtension must be true or false",
    ],
    ["an array", [], "not a JSON object"],
  ])("refuses %s", (_name, value, reason) => {
    const error = failure(() => parse(value));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      `${FILE}: ${reason}${reason.endsWith("supported") ? " (AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud)" : ""}`,
    );
  });

  it("says where invalid JSON is, never what is there (it may be the secret)", () => {
    const text = `{\n  "aadClientSecret": "${SECRET}"\n  "tenantId": "t"\n}`;
    const error = failure(() => parseAzureConfig(text, FILE));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(/^\/etc\/kubernetes\/azure.json: not valid JSON \(line 3 column \d+\)$/);
    expect(error.message).not.toContain(SECRET.slice(0, 6));
    expect(failure(() => parseAzureConfig("", FILE)).message).toContain("not valid JSON");
  });

  it("registers the client secret and the certificate password as soon as it has them", () => {
    const secrets = new SecretRegistry();
    parseAzureConfig(
      JSON.stringify({ aadClientSecret: SECRET, aadClientCertPassword: "cert-pass-123" }),
      FILE,
      secrets,
    );
    expect(secrets.redact(`${SECRET} cert-pass-123`)).toBe("[REDACTED] [REDACTED]");
    // ...even when a later field makes the file invalid.
    const early = new SecretRegistry();
    failure(() => parseAzureConfig(JSON.stringify({ aadClientSecret: SECRET, cloud: "Mars" }), FILE, early));
    expect(early.redact(SECRET)).toBe("[REDACTED]");
  });
});

describe("loadAzureConfig", () => {
  it("reads the file", async () => {
    const config = await loadAzureConfig(FILE, {
      readFile: async () =>
        new TextEncoder().encode('\uFEFF{"cloud":"AzureChinaCloud","useManagedIdentityExtension":true}'),
    });
    expect(config.cloud.name).toBe("AzureChinaCloud");
  });

  it.each([
    ["ENOENT", "no such file"],
    ["EACCES", "permission denied"],
    ["EISDIR", "is a directory"],
  ])("a missing or unreadable file (%s) is CONFIG_INVALID naming it", async (code, reason) => {
    const error = await loadAzureConfig(FILE, {
      readFile: async () => {
        throw Object.assign(new Error(`${code}: x`), { code });
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect((error as Error).message).toBe(
      `cannot read the Azure cloud config ${FILE}: ${reason} (the first argument is the path of azure.json)`,
    );
  });

  it("refuses a file that is not UTF-8, or too large", async () => {
    await expect(
      loadAzureConfig(FILE, { readFile: async () => new Uint8Array([0xff, 0xfe, 0x00]) }),
    ).rejects.toThrow("not UTF-8 text");
    await expect(
      loadAzureConfig(FILE, { readFile: async () => new Uint8Array(2 * 1024 * 1024) }),
    ).rejects.toThrow("larger than");
  });
});

describe("selectIdentity", () => {
  const base = { tenantId: "tenant-1", aadClientId: "client-1" };

  it("workload identity: the token file with the extension flag", () => {
    const config = parse({
      ...base,
      aadFederatedTokenFile: "/var/run/token",
      useFederatedWorkloadIdentityExtension: true,
      useManagedIdentityExtension: true,
    });
    expect(selectIdentity(request(), config)).toEqual({
      kind: "workloadIdentity",
      tenantId: "tenant-1",
      clientId: "client-1",
      tokenFilePath: "/var/run/token",
    });
  });

  it("a token file without the extension flag is not workload identity", () => {
    const config = parse({
      ...base,
      aadFederatedTokenFile: "/var/run/token",
      useManagedIdentityExtension: true,
    });
    expect(selectIdentity(request(), config).kind).toBe("managedIdentity");
  });

  it("managed identity: system-assigned, user-assigned by client id or by resource id", () => {
    expect(selectIdentity(request(), parse({ useManagedIdentityExtension: true }))).toEqual({
      kind: "managedIdentity",
    });
    expect(
      selectIdentity(
        request(),
        parse({
          useManagedIdentityExtension: true,
          userAssignedIdentityID: "11111111-2222-3333-4444-555555555555",
        }),
      ),
    ).toEqual({ kind: "managedIdentity", clientId: "11111111-2222-3333-4444-555555555555" });
    const resourceId =
      "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet";
    expect(
      selectIdentity(
        request(),
        parse({ useManagedIdentityExtension: true, userAssignedIdentityID: resourceId }),
      ),
    ).toEqual({
      kind: "managedIdentity",
      resourceId,
    });
  });

  it("managed identity comes before a client secret in the same file", () => {
    expect(
      selectIdentity(
        request(),
        parse({ ...base, aadClientSecret: SECRET, useManagedIdentityExtension: true }),
      ).kind,
    ).toBe("managedIdentity");
  });

  it("service principal with a secret, else with a certificate and its password", () => {
    expect(selectIdentity(request(), parse({ ...base, aadClientSecret: SECRET }))).toEqual({
      kind: "clientSecret",
      tenantId: "tenant-1",
      clientId: "client-1",
      clientSecret: SECRET,
    });
    expect(
      selectIdentity(
        request(),
        parse({ ...base, aadClientCertPath: "/etc/sp.pem", aadClientCertPassword: "pw" }),
      ),
    ).toEqual({
      kind: "clientCertificate",
      tenantId: "tenant-1",
      clientId: "client-1",
      certificatePath: "/etc/sp.pem",
      certificatePassword: "pw",
    });
  });

  it.each([
    [{ aadClientSecret: SECRET, aadClientId: "c" }, "a service principal (aadClientSecret) needs tenantId"],
    [{ aadClientCertPath: "/p", tenantId: "t" }, "a service principal (aadClientCertPath) needs aadClientId"],
    [
      { aadFederatedTokenFile: "/t", useFederatedWorkloadIdentityExtension: true, aadClientId: "c" },
      "needs tenantId",
    ],
    [{ tenantId: "t" }, "configures no identity"],
  ])("refuses an incomplete identity %j", (value, reason) => {
    const error = failure(() => selectIdentity(request(), parse(value)));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain(SECRET);
  });

  describe("service-account mode", () => {
    const annotations = { [CLIENT_ID_ANNOTATION]: "app-1", [TENANT_ID_ANNOTATION]: "tenant-sa" };
    const config = parse({ ...base, useManagedIdentityExtension: true });

    it("uses the annotated application with the token as client assertion, whatever azure.json says", () => {
      const spec = selectIdentity(
        request({ serviceAccountToken: "sa-token", serviceAccountAnnotations: annotations }),
        config,
      );
      expect(spec).toEqual({
        kind: "serviceAccount",
        tenantId: "tenant-sa",
        clientId: "app-1",
        assertion: "sa-token",
      });
      expect(tenantOf(spec, config)).toBe("tenant-sa");
      expect(describeIdentity(spec)).not.toContain("sa-token");
    });

    it.each([
      ["missing", {}, CLIENT_ID_ANNOTATION, "missing"],
      ["empty client id", { ...annotations, [CLIENT_ID_ANNOTATION]: "" }, CLIENT_ID_ANNOTATION, "empty"],
      ["blank tenant id", { ...annotations, [TENANT_ID_ANNOTATION]: "  " }, TENANT_ID_ANNOTATION, "empty"],
      ["no tenant id", { [CLIENT_ID_ANNOTATION]: "app-1" }, TENANT_ID_ANNOTATION, "missing"],
    ])("annotation %s: a clear error naming it", (_name, value, key, state) => {
      const error = failure(() =>
        selectIdentity(
          request({ serviceAccountToken: "sa-token", serviceAccountAnnotations: value }),
          config,
        ),
      );
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toContain(`the service account annotation ${key} is ${state}`);
    });
  });

  it("describes every identity without a secret", () => {
    const specs = [
      selectIdentity(request(), parse({ useManagedIdentityExtension: true })),
      selectIdentity(request(), parse({ ...base, aadClientSecret: SECRET })),
      selectIdentity(
        request(),
        parse({ ...base, aadClientCertPath: "/p", aadClientCertPassword: "pw-secret" }),
      ),
    ];
    for (const spec of specs) {
      const text = describeIdentity(spec);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("pw-secret");
    }
    expect(describeIdentity(specs[0] as never)).toBe("system-assigned managed identity");
  });
});
