/** Application Default Credentials files: read, secrets registered, checked by type. */
import { generateKeyPairSync } from "node:crypto";
import { SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { parseCredentials, readCredentialsFile } from "./adc.ts";

const FILE = "/etc/gcp/adc.json";
// Made at run time: no private key lives in the repository.
const KEY = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;
const SA = {
  type: "service_account",
  client_email: "puller@my-project.iam.gserviceaccount.com",
  private_key: KEY,
  private_key_id: "abc",
  token_uri: "https://oauth2.googleapis.com/token",
};
const USER = {
  type: "authorized_user",
  client_id: "1234.apps.googleusercontent.com",
  client_secret: "client-secret-0123456789",
  refresh_token: "1//refresh-0123456789",
};
const IMPERSONATION_URL =
  "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/target@p.iam.gserviceaccount.com:generateAccessToken";

describe("readCredentialsFile", () => {
  it("registers the private key, client secret and refresh token, nested ones too", async () => {
    const secrets = new SecretRegistry();
    const json = {
      type: "impersonated_service_account",
      source_credentials: USER,
      client_secret: "outer-secret-0123",
    };
    await readCredentialsFile(FILE, { secrets }, async () => JSON.stringify(json));
    expect(secrets.reveals(USER.refresh_token)).toBe(true);
    expect(secrets.reveals(USER.client_secret)).toBe(true);
    expect(secrets.reveals("outer-secret-0123")).toBe(true);
    await readCredentialsFile(FILE, { secrets }, async () => JSON.stringify(SA));
    expect(secrets.reveals(KEY)).toBe(true);
  });

  it.each([
    ["{", /adc.json: is not JSON$/],
    ["[]", /is not a JSON object$/],
    [
      "{}",
      /has no type \(service_account, authorized_user, external_account, impersonated_service_account\)$/,
    ],
  ])("%j: CONFIG_INVALID", async (text, message) => {
    const error = await readCredentialsFile(FILE, { secrets: new SecretRegistry() }, async () => text).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "CONFIG_INVALID", message: expect.stringMatching(message) });
    expect((error as Error).message.startsWith(`GOOGLE_APPLICATION_CREDENTIALS ${FILE}: `)).toBe(true);
  });

  it("a missing file", async () => {
    const missing = Object.assign(new Error("nope"), { code: "ENOENT" });
    await expect(
      readCredentialsFile(FILE, { secrets: new SecretRegistry() }, async () => {
        throw missing;
      }),
    ).rejects.toThrow(/no such file/);
  });
});

describe("parseCredentials", () => {
  it("service_account", () => {
    expect(parseCredentials(SA, FILE)).toEqual({
      type: "service_account",
      key: { clientEmail: SA.client_email, privateKey: KEY, privateKeyId: "abc", tokenUri: SA.token_uri },
    });
  });

  it("authorized_user, with Google's token endpoint by default", () => {
    expect(parseCredentials(USER, FILE)).toEqual({
      type: "authorized_user",
      user: {
        clientId: USER.client_id,
        clientSecret: USER.client_secret,
        refreshToken: USER.refresh_token,
        tokenUri: "https://oauth2.googleapis.com/token",
      },
    });
  });

  it("impersonated_service_account over a service account key", () => {
    const json = {
      type: "impersonated_service_account",
      service_account_impersonation_url: IMPERSONATION_URL,
      source_credentials: SA,
      delegates: ["d@p.iam.gserviceaccount.com"],
    };
    expect(parseCredentials(json, FILE)).toMatchObject({
      type: "impersonated_service_account",
      email: "target@p.iam.gserviceaccount.com",
      url: IMPERSONATION_URL,
      delegates: ["d@p.iam.gserviceaccount.com"],
      source: { type: "service_account" },
    });
  });

  it.each([
    [{ ...SA, client_email: undefined }, "has no client_email"],
    [{ ...SA, private_key: "" }, "has no private_key"],
    [{ ...SA, token_uri: "http://oauth2.example/token" }, "token_uri is not an https URL"],
    [{ ...USER, refresh_token: undefined }, "has no refresh_token"],
    [
      { type: "impersonated_service_account", service_account_impersonation_url: IMPERSONATION_URL },
      "has no source_credentials object",
    ],
    [
      {
        type: "impersonated_service_account",
        service_account_impersonation_url: "https://evil.example/x",
        source_credentials: SA,
      },
      "service_account_impersonation_url is not https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<email>:generateAccessToken",
    ],
    [
      { type: "external_account_authorized_user", refresh_token: "x" },
      'credentials of type "external_account_authorized_user" are not supported (supported: service_account, authorized_user, external_account, impersonated_service_account)',
    ],
    [{ type: "gdch_service_account" }, 'credentials of type "gdch_service_account" are not supported'],
  ])("%j: CONFIG_INVALID naming the field or type, no value", (json, message) => {
    let error: unknown;
    try {
      parseCredentials(json as Record<string, unknown>, FILE);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain("MIIsecret");
  });
});
