/**
 * The Google cloud as google-auth-library meets it: the GCE metadata server (header required and
 * answered), the OAuth2 JWT grant checked against registered keys, STS token exchange of trusted
 * subject tokens, IAM credentials impersonation by emulator-issued tokens, and registries that take
 * any issued access token through the Bearer flow until it expires.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ClientResponse, Emulator } from "../index.ts";
import { googleOAuth2TokenUri, startEmulator } from "../index.ts";
import { basicAuth } from "../testdata/helpers.ts";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

const cloudPlatform = "https://www.googleapis.com/auth/cloud-platform";
const flavor = { "metadata-flavor": "Google" };
const md = (path: string) => `${emulator.httpUrl}/computeMetadata/v1/${path}`;
const tokenPath = "instance/service-accounts/default/token";

async function metadataToken(query = ""): Promise<{ access_token: string; expires_in: number }> {
  const response = await emulator.request(md(`${tokenPath}${query}`), { headers: flavor });
  expect(response.status).toBe(200);
  return response.json() as { access_token: string; expires_in: number };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT bearer assertion as google-auth-library (gtoken) builds it: RS256, no kid. */
function assertion(
  privateKeyPem: string,
  claims: Record<string, unknown>,
  header: object = { alg: "RS256" },
) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), privateKeyPem).toString("base64url")}`;
}

function jwtGrant(
  jwt: string,
  grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer",
): Promise<ClientResponse> {
  return emulator.request(googleOAuth2TokenUri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: grantType, assertion: jwt }).toString(),
  });
}

const now = () => Math.floor(Date.now() / 1000);
const gkeAudience =
  "identitynamespace:my-project.svc.id.goog:https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster";
const poolAudience =
  "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov";

function sts(fields: Record<string, string>, asJson = false): Promise<ClientResponse> {
  const body = {
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    scope: cloudPlatform,
    audience: gkeAudience,
    ...fields,
  };
  return emulator.request("https://sts.googleapis.com/v1/token", {
    method: "POST",
    headers: { "content-type": asJson ? "application/json" : "application/x-www-form-urlencoded" },
    body: asJson ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });
}

function generate(email: string, bearer: string | undefined, body: unknown = { scope: [cloudPlatform] }) {
  return emulator.request(
    `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    },
  );
}

/** What `kubelet-credential-sim verify` does: challenge, realm with Basic, `/v2/` with the Bearer. */
async function pull(host: string, password: string, username = "oauth2accesstoken"): Promise<number> {
  const challenge = await emulator.request(`https://${host}/v2/`);
  expect(challenge.status).toBe(401);
  const m = /^Bearer realm="([^"]+)",service="([^"]+)"$/.exec(String(challenge.headers["www-authenticate"]));
  expect(m?.[1]).toBe(`https://${host}/v2/token`);
  const realm = new URL(m?.[1] as string);
  realm.searchParams.set("service", m?.[2] as string);
  realm.searchParams.set("scope", "repository:my-project/app:pull");
  const token = await emulator.request(realm, { headers: { authorization: basicAuth(username, password) } });
  if (token.status !== 200) return token.status;
  const bearer = (token.json() as { token: string }).token;
  return (await emulator.request(`https://${host}/v2/`, { headers: { authorization: `Bearer ${bearer}` } }))
    .status;
}

describe("GCE metadata server", () => {
  it("hands out the node's token with Metadata-Flavor: Google, records it, and puts it in the ledger", async () => {
    const response = await emulator.request(md(`${tokenPath}?scopes=${encodeURIComponent(cloudPlatform)}`), {
      headers: flavor,
    });
    expect(response.status).toBe(200);
    expect(response.headers["metadata-flavor"]).toBe("Google");
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
    expect(String(body.access_token)).toMatch(/^ya29\.gce-[0-9a-f]{24}$/);
    expect(emulator.issued()).toContain(body.access_token);
    expect(emulator.google.tokenCalls("metadata").at(-1)).toMatchObject({
      source: "metadata",
      account: "default",
      email: emulator.google.nodeServiceAccount,
      requestedScopes: [cloudPlatform],
      scopes: [cloudPlatform],
      outcome: "ok",
      accessToken: body.access_token,
    });
    expect(emulator.google.accessToken(String(body.access_token))).toMatchObject({
      source: "metadata",
      principal: emulator.google.nodeServiceAccount,
    });
  });

  it("refuses requests without the header, or forwarded, with 403 that still carries Metadata-Flavor", async () => {
    const calls = emulator.google.tokenCalls().length;
    const variants: Record<string, string>[] = [
      {},
      { "metadata-flavor": "google" },
      { ...flavor, "x-forwarded-for": "10.0.0.1" },
    ];
    for (const headers of variants) {
      const response = await emulator.request(md(tokenPath), { headers });
      expect(response.status).toBe(403);
      expect(response.headers["metadata-flavor"]).toBe("Google");
    }
    expect((await emulator.request(md("project/project-id"))).status).toBe(403);
    expect(emulator.google.tokenCalls()).toHaveLength(calls);
  });

  it("answers the library's ping, email, scopes and project id, under its own names too", async () => {
    const get = (url: string) => emulator.request(url, { headers: flavor });
    const ping = await get(md("instance"));
    expect(ping.status).toBe(200);
    expect(ping.headers["metadata-flavor"]).toBe("Google");
    expect(ping.body).toContain("service-accounts/");
    expect((await get(md("instance/service-accounts/default/email"))).body).toBe(
      "123456789012-compute@developer.gserviceaccount.com",
    );
    expect((await get(md("instance/service-accounts/default/scopes"))).body).toBe(`${cloudPlatform}\n`);
    expect((await get(md("project/project-id"))).body).toBe("my-project");
    expect((await get(md("project/numeric-project-id"))).body).toBe("123456789012");
    expect((await get(`${emulator.httpUrl}/`)).status).toBe(200);
    const byName = await get("http://metadata.google.internal/computeMetadata/v1/project/project-id");
    expect(byName.body).toBe("my-project");
    // Fully qualified, as Google's Go plugin asks for it.
    const rooted = await get("http://metadata.google.internal./computeMetadata/v1/project/project-id");
    expect(rooted.body).toBe("my-project");
    const byEmail = await get(md(`instance/service-accounts/${emulator.google.nodeServiceAccount}/token`));
    expect(byEmail.status).toBe(200);
    const unknown = await get(md("instance/service-accounts/other@x.iam.gserviceaccount.com/token"));
    expect(unknown.status).toBe(404);
    expect(unknown.headers["metadata-flavor"]).toBe("Google");
    expect((await get(md("instance/nothing-here"))).status).toBe(404);
  });

  it("serves attributes only once set, and 404 again once removed", async () => {
    const get = (name: string) => emulator.request(md(`instance/attributes/${name}`), { headers: flavor });
    expect((await get("google-dockercfg")).status).toBe(404);
    expect((await get("google-dockercfg-url")).status).toBe(404);
    emulator.google.setAttribute("google-dockercfg", '{"gcr.io":{}}');
    emulator.google.setAttribute("google-dockercfg-url", "http://example.invalid/cfg");
    const set = await get("google-dockercfg");
    expect(set.status).toBe(200);
    expect(set.body).toBe('{"gcr.io":{}}');
    expect(set.headers["metadata-flavor"]).toBe("Google");
    expect((await get("")).body).toBe("google-dockercfg\ngoogle-dockercfg-url\n");
    emulator.google.setAttribute("google-dockercfg", undefined);
    emulator.google.setAttribute("google-dockercfg-url", undefined);
    expect((await get("google-dockercfg")).status).toBe(404);
    expect(emulator.requests("gce.attributes").length).toBe(5);
  });

  it("has no token for an instance without a service account", async () => {
    const saved = emulator.google.nodeServiceAccount;
    emulator.google.nodeServiceAccount = undefined;
    try {
      expect((await emulator.request(md(tokenPath), { headers: flavor })).status).toBe(404);
      expect(emulator.google.tokenCalls("metadata").at(-1)).toMatchObject({ outcome: "not_found" });
    } finally {
      emulator.google.nodeServiceAccount = saved;
    }
  });

  it("points google-auth-library at the plain listener and keeps it off the proxy", () => {
    const host = new URL(emulator.httpUrl).host;
    expect(emulator.google.metadataHost()).toBe(host);
    expect(emulator.google.metadataEnv()).toEqual({
      GCE_METADATA_HOST: host,
      GCE_METADATA_IP: host,
      NO_PROXY: "127.0.0.1,169.254.169.254,metadata.google.internal",
    });
  });
});

describe("OAuth2 JWT grant (service account keys)", () => {
  const email = "puller@my-project.iam.gserviceaccount.com";
  let key: ReturnType<Emulator["google"]["serviceAccountKey"]>;
  beforeAll(() => {
    key = emulator.google.serviceAccountKey(email);
  });
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: email,
    scope: cloudPlatform,
    aud: googleOAuth2TokenUri,
    iat: now(),
    exp: now() + 3600,
    ...extra,
  });

  it("writes a key file as gcloud does, mode 0600", () => {
    expect(statSync(key.path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(key.path, "utf8"))).toEqual(key.json);
    expect(key.json).toMatchObject({
      type: "service_account",
      client_email: email,
      project_id: "my-project",
      token_uri: "https://oauth2.googleapis.com/token",
    });
    expect(key.json.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(key.json.private_key_id).toMatch(/^[0-9a-f]{40}$/);
  });

  it("grants a token for a JWT signed by the registered key, with or without its kid", async () => {
    for (const header of [{ alg: "RS256" }, { alg: "RS256", typ: "JWT", kid: key.json.private_key_id }]) {
      const response = await jwtGrant(assertion(key.json.private_key, claims(), header));
      expect(response.status).toBe(200);
      const body = response.json() as { access_token: string; expires_in: number; token_type: string };
      expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
      expect(emulator.issued()).toContain(body.access_token);
      expect(emulator.google.accessToken(body.access_token)).toMatchObject({
        source: "oauth2",
        principal: email,
      });
    }
    expect(emulator.google.tokenCalls("oauth2").at(-1)).toMatchObject({
      source: "oauth2",
      email,
      aud: googleOAuth2TokenUri,
      scopes: [cloudPlatform],
      outcome: "ok",
    });
  });

  it("refuses bad signatures, unknown accounts, wrong audiences, stale tokens, no scope, other grants", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string;
    const cases: [string, string, string | undefined, string][] = [
      [assertion(other, claims()), "invalid_grant", undefined, "Invalid JWT Signature."],
      [
        assertion(key.json.private_key, claims(), { alg: "RS256", kid: "0".repeat(40) }),
        "invalid_grant",
        undefined,
        "Invalid JWT Signature.",
      ],
      [
        assertion(key.json.private_key, claims({ iss: "nobody@x.iam.gserviceaccount.com" })),
        "invalid_grant",
        undefined,
        "account not found",
      ],
      [
        assertion(key.json.private_key, claims({ aud: "https://www.googleapis.com/oauth2/v4/token" })),
        "invalid_grant",
        undefined,
        "audience",
      ],
      [
        assertion(key.json.private_key, claims({ iat: now() - 7200, exp: now() - 3600 })),
        "invalid_grant",
        undefined,
        "short-lived",
      ],
      [
        assertion(key.json.private_key, claims({ exp: now() + 7200 })),
        "invalid_grant",
        undefined,
        "short-lived",
      ],
      [assertion(key.json.private_key, claims({ scope: undefined })), "invalid_scope", undefined, "scope"],
      ["not.a-jwt", "invalid_grant", undefined, "malformed"],
      [
        assertion(key.json.private_key, claims()),
        "unsupported_grant_type",
        "client_credentials",
        "grant_type",
      ],
    ];
    for (const [jwt, error, grant, message] of cases) {
      const response = await jwtGrant(jwt, grant);
      expect(response.status, message).toBe(400);
      const body = response.json() as { error: string; error_description: string };
      expect(body.error, message).toBe(error);
      expect(body.error_description).toContain(message);
      expect(emulator.google.tokenCalls("oauth2").at(-1)).toMatchObject({ outcome: error });
    }
  });
});

describe("STS token exchange", () => {
  it("exchanges a trusted subject token, recording the GKE audience and the federated principal", async () => {
    const subject = emulator.google.issueSubjectToken({ subject: "system:serviceaccount:apps:puller" });
    expect(emulator.issued()).toContain(subject);
    const response = await sts({ subject_token: subject });
    expect(response.status).toBe(200);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer",
      expires_in: 3599,
    });
    expect(String(body.access_token)).toMatch(/^ya29\.sts-/);
    expect(emulator.issued()).toContain(body.access_token);
    expect(emulator.google.stsCalls().at(-1)).toMatchObject({
      audience: gkeAudience,
      audienceKind: "gke",
      project: "my-project",
      identityProvider:
        "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster",
      subjectTokenType: "urn:ietf:params:oauth:token-type:jwt",
      scopes: [cloudPlatform],
      subject: "system:serviceaccount:apps:puller",
      principal: "serviceAccount:my-project.svc.id.goog[apps/puller]",
      outcome: "ok",
      accessToken: body.access_token,
    });
  });

  it("takes a JSON body, an id_token subject and a pool audience; a token bound to an audience only there", async () => {
    const token = "opaque-subject-token-for-pool";
    emulator.google.trustSubjectToken(token, poolAudience);
    const ok = await sts(
      {
        subject_token: token,
        audience: poolAudience,
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      },
      true,
    );
    expect(ok.status).toBe(200);
    expect(emulator.google.stsCalls().at(-1)).toMatchObject({ audienceKind: "pool", audience: poolAudience });
    const elsewhere = await sts({ subject_token: token });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses untrusted or expired tokens and wrong grant, token types, audience or scope, as Google does", async () => {
    const trusted = emulator.google.issueSubjectToken();
    const expired = emulator.google.issueSubjectToken({ validitySeconds: -60 });
    const cases: [Record<string, string>, string][] = [
      [{ subject_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }, "invalid_grant"],
      [{ subject_token: expired }, "invalid_grant"],
      [{ subject_token: trusted, grant_type: "client_credentials" }, "unsupported_grant_type"],
      [
        { subject_token: trusted, subject_token_type: "urn:ietf:params:oauth:token-type:saml2" },
        "invalid_request",
      ],
      [
        { subject_token: trusted, requested_token_type: "urn:ietf:params:oauth:token-type:id_token" },
        "invalid_request",
      ],
      [{ subject_token: trusted, audience: "my-project.svc.id.goog" }, "invalid_request"],
      [{ subject_token: trusted, scope: "" }, "invalid_scope"],
    ];
    for (const [fields, error] of cases) {
      const response = await sts(fields);
      expect(response.status, JSON.stringify(fields)).toBe(400);
      expect((response.json() as { error: string }).error, JSON.stringify(fields)).toBe(error);
      expect(emulator.google.stsCalls().at(-1)).toMatchObject({ outcome: error });
    }
  });
});

describe("IAM credentials generateAccessToken", () => {
  const target = "target@my-project.iam.gserviceaccount.com";
  beforeAll(() => emulator.google.serviceAccount(target));

  it("lets an emulator-issued token impersonate a registered service account", async () => {
    const caller = (await metadataToken()).access_token;
    const response = await generate(target, caller, {
      scope: [cloudPlatform],
      lifetime: "1800s",
      delegates: [],
    });
    expect(response.status).toBe(200);
    const body = response.json() as { accessToken: string; expireTime: string };
    expect(body.accessToken).toMatch(/^ya29\.iam-/);
    expect(emulator.issued()).toContain(body.accessToken);
    const expireIn = Date.parse(body.expireTime) - Date.now();
    expect(expireIn).toBeGreaterThan(1790_000);
    expect(expireIn).toBeLessThanOrEqual(1800_000);
    expect(emulator.google.impersonationCalls().at(-1)).toMatchObject({
      email: target,
      project: "-",
      callerSource: "metadata",
      caller: emulator.google.nodeServiceAccount,
      scopes: [cloudPlatform],
      lifetime: "1800s",
      outcome: "ok",
      accessToken: body.accessToken,
    });
    // An STS token may impersonate too (external workload identity with impersonation).
    const federated = (
      (await sts({ subject_token: emulator.google.issueSubjectToken() })).json() as { access_token: string }
    ).access_token;
    expect((await generate(target, federated)).status).toBe(200);
    expect(emulator.google.impersonationCalls().at(-1)).toMatchObject({ callerSource: "sts", outcome: "ok" });
  });

  it("refuses foreign, missing or expired tokens, unknown accounts, narrow scopes and long lifetimes", async () => {
    const caller = (await metadataToken()).access_token;
    emulator.fault("gce.token", { kind: "expired", times: 1 });
    const stale = await metadataToken();
    expect(stale.expires_in).toBe(0);
    const narrow = (
      await metadataToken(
        `?scopes=${encodeURIComponent("https://www.googleapis.com/auth/devstorage.read_only")}`,
      )
    ).access_token;
    const cases: [ClientResponse, number, string][] = [
      [await generate(target, "ya29.foreign-token"), 401, "UNAUTHENTICATED"],
      [await generate(target, undefined), 401, "UNAUTHENTICATED"],
      [await generate(target, stale.access_token), 401, "UNAUTHENTICATED"],
      [await generate("unknown@my-project.iam.gserviceaccount.com", caller), 403, "PERMISSION_DENIED"],
      [await generate(target, narrow), 403, "PERMISSION_DENIED"],
      [await generate(target, caller, { scope: [], lifetime: "60s" }), 400, "INVALID_ARGUMENT"],
      [
        await generate(target, caller, { scope: [cloudPlatform], lifetime: "7200s" }),
        400,
        "INVALID_ARGUMENT",
      ],
    ];
    for (const [response, status, code] of cases) {
      expect(response.status, code).toBe(status);
      expect(response.json()).toMatchObject({ error: { code: status, status: code } });
    }
  });

  it("limits impersonation to the principals a test names", async () => {
    const restricted = "restricted@my-project.iam.gserviceaccount.com";
    const key = emulator.google.serviceAccountKey("allowed@my-project.iam.gserviceaccount.com");
    emulator.google.serviceAccount(restricted, { impersonators: [key.json.client_email] });
    const response = await jwtGrant(
      assertion(key.json.private_key, {
        iss: key.json.client_email,
        scope: cloudPlatform,
        aud: googleOAuth2TokenUri,
        iat: now(),
        exp: now() + 600,
      }),
    );
    const allowed = (response.json() as { access_token: string }).access_token;
    expect((await generate(restricted, allowed)).status).toBe(200);
    expect((await generate(restricted, (await metadataToken()).access_token)).status).toBe(403);
  });
});

describe("Google registries", () => {
  it("challenge with Bearer at /v2/token on gcr.io, *.gcr.io, *.pkg.dev and container.cloud.google.com", async () => {
    for (const host of [
      "gcr.io",
      "us.gcr.io",
      "us-docker.pkg.dev",
      "europe-west1-docker.pkg.dev",
      "container.cloud.google.com",
    ]) {
      const response = await emulator.request(`https://${host}/v2/`);
      expect(response.status, host).toBe(401);
      expect(response.headers["www-authenticate"]).toBe(
        `Bearer realm="https://${host}/v2/token",service="${host}"`,
      );
    }
    expect((await emulator.request("https://pkg.dev/v2/")).status).toBe(404);
  });

  it("accept every issued access token as oauth2accesstoken or _token, at every Google registry only", async () => {
    const tokens = [
      (await metadataToken()).access_token,
      ((await sts({ subject_token: emulator.google.issueSubjectToken() })).json() as { access_token: string })
        .access_token,
    ];
    for (const token of tokens) {
      for (const host of [
        "gcr.io",
        "eu.gcr.io",
        "us-central1-docker.pkg.dev",
        "container.cloud.google.com",
      ]) {
        expect(await pull(host, token), host).toBe(200);
        expect(await pull(host, token, "_token"), host).toBe(200);
      }
      expect(await pull("gcr.io", token, "someone")).toBe(401);
      // Not at another cloud's registry.
      const acr = await emulator.request("https://myregistry.azurecr.io/oauth2/token", {
        headers: { authorization: basicAuth("oauth2accesstoken", token) },
      });
      expect(acr.status).toBe(401);
    }
  });

  it("refuse a foreign token and a token past its expiry", async () => {
    expect(await pull("gcr.io", "ya29.foreign-token")).toBe(401);
    emulator.fault("gce.token", { kind: "expired", times: 1 });
    expect(await pull("gcr.io", (await metadataToken()).access_token)).toBe(401);
    emulator.fault("google.sts", { kind: "expired", times: 1 });
    const expired = (await sts({ subject_token: emulator.google.issueSubjectToken() })).json() as {
      access_token: string;
      expires_in: number;
    };
    expect(expired.expires_in).toBe(0);
    expect(await pull("us-docker.pkg.dev", expired.access_token)).toBe(401);
  });

  it("accept legacy dockercfg passwords at their registry, served as an attribute or at a URL", async () => {
    const cfg = emulator.google.dockercfg(["https://gcr.io", "us-docker.pkg.dev"]);
    const entry = cfg["https://gcr.io"];
    expect(entry).toMatchObject({ username: "oauth2accesstoken", email: "not@val.id" });
    expect(Buffer.from(entry?.auth as string, "base64").toString()).toBe(
      `oauth2accesstoken:${entry?.password}`,
    );
    expect(emulator.issued()).toContain(entry?.password);
    expect(await pull("gcr.io", entry?.password as string)).toBe(200);
    expect(await pull("us-docker.pkg.dev", entry?.password as string)).toBe(401);
    expect(await pull("us-docker.pkg.dev", cfg["us-docker.pkg.dev"]?.password as string)).toBe(200);

    const url = emulator.google.publishDockercfg(cfg);
    expect(url).toMatch(new RegExp(`^${emulator.httpUrl}/`));
    const fetched = await emulator.request(url);
    expect(fetched.status).toBe(200);
    expect(fetched.json()).toEqual(cfg);
    const https = emulator.google.publishDockercfg("{}", { https: true });
    expect(https).toMatch(/^https:\/\/storage\.googleapis\.com\//);
    expect((await emulator.request(https)).body).toBe("{}");
    expect((await emulator.request(`${emulator.httpUrl}/cloud-emulator/google-dockercfg/0000`)).status).toBe(
      404,
    );
    expect(emulator.calls("google.dockercfg")).toBe(3);
  });
});

describe("faults", () => {
  it("apply per endpoint id, and count", async () => {
    const subject = emulator.google.issueSubjectToken();
    const caller = (await metadataToken()).access_token;
    const calls: [string, () => Promise<ClientResponse>][] = [
      ["gce.token", () => emulator.request(md(tokenPath), { headers: flavor })],
      ["gce.metadata", () => emulator.request(md("project/project-id"), { headers: flavor })],
      [
        "gce.attributes",
        () => emulator.request(md("instance/attributes/google-dockercfg"), { headers: flavor }),
      ],
      ["google.oauth2", () => jwtGrant("x.y.z")],
      ["google.sts", () => sts({ subject_token: subject })],
      ["google.iamcredentials", () => generate("target@my-project.iam.gserviceaccount.com", caller)],
    ];
    for (const [id, call] of calls) {
      const before = emulator.calls(id);
      emulator.fault(id, { kind: "status", status: 503, retryAfter: 1, times: 1 });
      const faulted = await call();
      expect(faulted.status, id).toBe(503);
      expect(faulted.headers["retry-after"]).toBe("1");
      emulator.fault(id, { kind: "malformed", times: 1 });
      expect((await call()).body, id).toBe('{"emulator": malformed');
      expect((await call()).status, id).not.toBe(503);
      expect(emulator.calls(id) - before, id).toBe(3);
      expect(emulator.requests(id).at(-3)?.fault).toBe("status");
    }
  });

  it("expired: oauth2 and iamcredentials hand out tokens IAM and the registries refuse", async () => {
    const key = emulator.google.serviceAccountKey("faulty@my-project.iam.gserviceaccount.com");
    emulator.fault("google.oauth2", { kind: "expired", times: 1 });
    const jwt = assertion(key.json.private_key, {
      iss: key.json.client_email,
      scope: cloudPlatform,
      aud: googleOAuth2TokenUri,
      iat: now(),
      exp: now() + 600,
    });
    const stale = (await jwtGrant(jwt)).json() as { access_token: string; expires_in: number };
    expect(stale.expires_in).toBe(0);
    expect(await pull("gcr.io", stale.access_token)).toBe(401);
    expect((await generate("target@my-project.iam.gserviceaccount.com", stale.access_token)).status).toBe(
      401,
    );

    emulator.fault("google.iamcredentials", { kind: "expired", times: 1 });
    const fresh = ((await jwtGrant(jwt)).json() as { access_token: string }).access_token;
    const impersonated = (await generate("target@my-project.iam.gserviceaccount.com", fresh)).json() as {
      accessToken: string;
    };
    expect(await pull("gcr.io", impersonated.accessToken)).toBe(401);
  });
});
