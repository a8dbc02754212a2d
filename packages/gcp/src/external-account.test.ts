/** external_account credentials files: their fields, their subject token, and the STS + IAM flow. */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import type { Answer } from "../testdata/fake-http.ts";
import { answer, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import type { ExternalAccount } from "./external-account.ts";
import { externalAccountToken, parseExternalAccount, readSubjectToken } from "./external-account.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/pool/providers/oidc";
const SUBJECT = "eyJhbGciOiJSUzI1NiJ9.ZXh0ZXJuYWw.c2lnbmF0dXJl";
const FEDERATED = "ya29.federated-0123456789";
const IMPERSONATED = "ya29.impersonated-0123456789";
const EMAIL = "pool-sa@p.iam.gserviceaccount.com";
const IAM_URL = `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${EMAIL}:generateAccessToken`;
const fail = (what: string) => new CredentialProviderError("CONFIG_INVALID", `F: ${what}`);

const base = {
  type: "external_account",
  audience: POOL,
  subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  token_url: "https://sts.googleapis.com/v1/token",
  credential_source: { file: "/var/run/token" },
};

function setup(
  routes: Record<string, Answer> = {},
  files: Record<string, string> = { "/var/run/token": `${SUBJECT}\n` },
) {
  const { http, calls } = recordingHttp({
    "https://sts.googleapis.com/v1/token": answer(200, { access_token: FEDERATED, expires_in: 3600 }),
    [IAM_URL]: answer(200, { accessToken: IMPERSONATED, expireTime: "2025-06-01T01:00:00Z" }),
    ...routes,
  });
  const { log, secrets } = quietLog();
  const readFile = async (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return text;
  };
  return { calls, secrets, context: { http, log, secrets, now: () => NOW, readFile } };
}

describe("parseExternalAccount", () => {
  it("a file source, the defaults", () => {
    const { token_url: _, ...json } = base;
    expect(parseExternalAccount(json, fail)).toEqual({
      audience: POOL,
      subjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
      tokenUrl: "https://sts.googleapis.com/v1/token",
      source: { kind: "file", path: "/var/run/token", format: { type: "text" } },
    });
  });

  it("a url source with headers and a json format; impersonation, client and workforce project", () => {
    const json = {
      ...base,
      credential_source: {
        url: "http://169.254.169.254/metadata/identity/oauth2/token?resource=x",
        headers: { Metadata: "True" },
        format: { type: "json", subject_token_field_name: "access_token" },
      },
      service_account_impersonation_url: IAM_URL,
      service_account_impersonation: { token_lifetime_seconds: 1800 },
      client_id: "cid",
      client_secret: "csecret",
      workforce_pool_user_project: "proj",
    };
    expect(parseExternalAccount(json, fail)).toEqual({
      audience: POOL,
      subjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
      tokenUrl: "https://sts.googleapis.com/v1/token",
      source: {
        kind: "url",
        url: "http://169.254.169.254/metadata/identity/oauth2/token?resource=x",
        headers: { Metadata: "True" },
        format: { type: "json", field: "access_token" },
      },
      impersonation: { url: IAM_URL, email: EMAIL, lifetimeSeconds: 1800 },
      client: { id: "cid", secret: "csecret" },
      userProject: "proj",
    });
  });

  it.each([
    [
      { credential_source: { environment_id: "aws1", region_url: "http://x" } },
      "has an AWS credential_source (environment_id), which this provider does not support (file and url sources are)",
    ],
    [{ credential_source: { executable: { command: "/bin/x" } } }, "has an executable credential_source"],
    [
      { credential_source: { certificate: { use_default_certificate_config: true } } },
      "has a certificate credential_source (X.509)",
    ],
    [{ credential_source: {} }, "credential_source has neither a file nor a url"],
    [{ credential_source: undefined }, "has no credential_source object"],
    [{ credential_source: { url: "ftp://x/y" } }, "credential_source.url is not an http or https URL"],
    [
      { credential_source: { file: "/t", format: { type: "json" } } },
      "credential_source.format of type json has no subject_token_field_name",
    ],
    [{ audience: undefined }, "has no audience"],
    [{ token_url: "http://sts.example/v1/token" }, "token_url is not an https URL"],
    [{ universe_domain: "example.com" }, "universe_domain other than googleapis.com is not supported"],
    [
      {
        service_account_impersonation_url: IAM_URL,
        service_account_impersonation: { token_lifetime_seconds: 5 },
      },
      "service_account_impersonation.token_lifetime_seconds must be whole seconds from 600 to 43200",
    ],
  ])("%j: refused naming what", (override, message) => {
    expect(() => parseExternalAccount({ ...base, ...override }, fail)).toThrow(`F: ${message}`);
  });
});

describe("readSubjectToken", () => {
  it("a text file, trimmed, registered as a secret", async () => {
    const { context, secrets } = setup();
    expect(
      await readSubjectToken({ kind: "file", path: "/var/run/token", format: { type: "text" } }, context),
    ).toBe(SUBJECT);
    expect(secrets.reveals(SUBJECT)).toBe(true);
  });

  it("a JSON file's field", async () => {
    const { context } = setup({}, { "/t.json": JSON.stringify({ id_token: SUBJECT }) });
    expect(
      await readSubjectToken(
        { kind: "file", path: "/t.json", format: { type: "json", field: "id_token" } },
        context,
      ),
    ).toBe(SUBJECT);
  });

  it.each([
    [{}, "/t", { type: "text" as const }, "the credential_source file /t does not exist"],
    [
      { "/t": "  \n" },
      "/t",
      { type: "text" as const },
      "the credential_source file /t holds no subject token",
    ],
    [
      { "/t": `{"id_token":"${SUBJECT}"` },
      "/t",
      { type: "json" as const, field: "id_token" },
      "the credential_source file /t is not JSON",
    ],
    [
      { "/t": "{}" },
      "/t",
      { type: "json" as const, field: "id_token" },
      "the credential_source file /t has no subject token in id_token",
    ],
  ])("file %j: CONFIG_INVALID %s", async (files, path, format, message) => {
    const { context } = setup({}, files);
    const error = await readSubjectToken({ kind: "file", path, format }, context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID", message });
    expect((error as Error).message).not.toContain(SUBJECT);
  });

  it("a URL: GET with the file's headers through core, endpoint naming the URL without its query", async () => {
    const url = "http://169.254.169.254/metadata/identity/oauth2/token?resource=api%3A%2F%2Fx";
    const { calls, context, secrets } = setup({ [url]: answer(200, { access_token: SUBJECT }) });
    const token = await readSubjectToken(
      { kind: "url", url, headers: { Metadata: "True" }, format: { type: "json", field: "access_token" } },
      context,
    );
    expect(token).toBe(SUBJECT);
    expect(calls[0]).toMatchObject({
      url,
      method: "GET",
      headers: { Metadata: "True" },
      endpoint: "external account subject token (http://169.254.169.254/metadata/identity/oauth2/token)",
    });
    expect(secrets.reveals(SUBJECT)).toBe(true);
  });

  it.each([
    [
      answer(200, `{"access_token":"${SUBJECT}"`),
      "INVALID_RESPONSE",
      "answered HTTP 200 with a body that is not JSON",
    ],
    [
      answer(200, { other: 1 }),
      "INVALID_RESPONSE",
      "answered HTTP 200 with a body that has no subject token in access_token",
    ],
    [answer(403, "no"), "CLOUD_AUTH_FAILED", "refused the request (HTTP 403)"],
  ])("a URL answering %#: %s, never quoting it", async (reply, code, detail) => {
    const url = "http://127.0.0.1:1/token";
    const { context } = setup({ [url]: reply });
    const error = await readSubjectToken(
      { kind: "url", url, headers: {}, format: { type: "json", field: "access_token" } },
      context,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code,
      message: `external account subject token (http://127.0.0.1:1/token) ${detail}`,
    });
  });
});

describe("externalAccountToken", () => {
  const account: ExternalAccount = {
    audience: POOL,
    subjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
    tokenUrl: "https://sts.googleapis.com/v1/token",
    source: { kind: "file", path: "/var/run/token", format: { type: "text" } },
  };

  it("the subject token at STS as a form: the federated token", async () => {
    const { calls, context } = setup();
    expect(await externalAccountToken(account, context)).toEqual({
      token: FEDERATED,
      expiresAt: new Date(NOW + 3600_000),
    });
    expect(calls.map((c) => c.endpoint)).toEqual(["Google STS token exchange"]);
    const form = new URLSearchParams(calls[0]?.body);
    expect(form.get("subject_token")).toBe(SUBJECT);
    expect(form.get("audience")).toBe(POOL);
  });

  it("then the service account's token, with the federated token as the bearer", async () => {
    const { calls, context } = setup();
    const token = await externalAccountToken(
      { ...account, impersonation: { url: IAM_URL, email: EMAIL, lifetimeSeconds: 1800 } },
      context,
    );
    expect(token.token).toBe(IMPERSONATED);
    expect(calls.map((c) => c.endpoint)).toEqual([
      "Google STS token exchange",
      `IAM generateAccessToken (${EMAIL})`,
    ]);
    expect(calls[1]?.headers.authorization).toBe(`Bearer ${FEDERATED}`);
    expect(JSON.parse(String(calls[1]?.body)).lifetime).toBe("1800s");
  });

  it("an STS token that has expired stops the flow before IAM", async () => {
    const { calls, context } = setup({
      "https://sts.googleapis.com/v1/token": answer(200, { access_token: FEDERATED, expires_in: 0 }),
    });
    await expect(
      externalAccountToken({ ...account, impersonation: { url: IAM_URL, email: EMAIL } }, context),
    ).rejects.toMatchObject({ fault: "expired", endpoint: "Google STS token exchange" });
    expect(calls).toHaveLength(1);
  });
});
