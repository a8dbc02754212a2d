/**
 * The Google cloud as the GCP provider meets it through the real google-auth-library: the GCE
 * metadata server on the plain listener (GCE_METADATA_HOST), and OAuth2, STS and IAM credentials
 * under their real names (through the CONNECT proxy, which gaxios uses by itself); Container
 * Registry and Artifact Registry take any access token the emulator issued, until it expires.
 */
import { randomUUID } from "node:crypto";
import type { Emulator } from "../emulator.ts";
import { text } from "../request.ts";
import { epochSeconds, issueJwt, tokenId } from "./_azure-jwt.ts";
import type { ServiceAccountKey, ServiceAccountOptions } from "./_google-accounts.ts";
import { GoogleAccounts } from "./_google-accounts.ts";
import type { ImpersonationCall } from "./_google-iam.ts";
import { installGoogleIam } from "./_google-iam.ts";
import type { GceState, GceTokenCall } from "./_google-metadata.ts";
import { installGceMetadata } from "./_google-metadata.ts";
import type { OAuth2TokenCall } from "./_google-oauth2.ts";
import { installGoogleOAuth2 } from "./_google-oauth2.ts";
import type { StsCall, SubjectTokenOptions } from "./_google-sts.ts";
import { installGoogleSts } from "./_google-sts.ts";
import type { IssuedGoogleToken } from "./_google-tokens.ts";
import { cloudPlatformScope, GoogleTokens, googleRegistryHostPatterns } from "./_google-tokens.ts";

export type {
  ServiceAccountKey,
  ServiceAccountKeyFile,
  ServiceAccountOptions,
} from "./_google-accounts.ts";
export { googleOAuth2TokenUri } from "./_google-accounts.ts";
export type { ImpersonationCall } from "./_google-iam.ts";
export type { GceTokenCall } from "./_google-metadata.ts";
export { gceMetadataHosts } from "./_google-metadata.ts";
export type { OAuth2TokenCall } from "./_google-oauth2.ts";
export { jwtBearerGrant } from "./_google-oauth2.ts";
export type { StsCall, SubjectTokenOptions } from "./_google-sts.ts";
export { accessTokenType, subjectTokenTypes, tokenExchangeGrant } from "./_google-sts.ts";
export type { GoogleTokenSource, IssuedGoogleToken } from "./_google-tokens.ts";
export { googleRegistryHostPatterns, googleRegistryUsernames } from "./_google-tokens.ts";

export interface GoogleCloudOptions {
  /** Default `my-project`. */
  projectId?: string;
  /** Default `123456789012`. */
  projectNumber?: string;
  /** Default `us-central1-a`. */
  zone?: string;
  /** The instance's service account; default `<projectNumber>-compute@developer.gserviceaccount.com`; `null` for none. */
  nodeServiceAccount?: string | null;
  /** The instance's scopes; default cloud-platform. */
  nodeScopes?: string[];
  /** Of each metadata, OAuth2 and STS access token. Default 3599, as Google's. */
  tokenValiditySeconds?: number;
}

/** One entry of a legacy dockercfg (`google-dockercfg`): `auth` is base64(`username:password`). */
export interface DockercfgEntry {
  username: string;
  password: string;
  email: string;
  auth: string;
}

/** A token request to the metadata server or the OAuth2 endpoint. */
export type GoogleTokenCall = GceTokenCall | OAuth2TokenCall;

export interface GoogleCloud {
  projectId: string;
  projectNumber: string;
  zone: string;
  /** The instance's service account (its email); `undefined`: none, the token path answers 404. */
  nodeServiceAccount: string | undefined;
  /** The instance's scopes (`…/scopes`, and of a token asked for without `?scopes=`). */
  nodeScopes: string[];
  /** Of each metadata, OAuth2 and STS token issued from now on. */
  tokenValiditySeconds: number;
  /** `127.0.0.1:PORT`, the plain listener, for GCE_METADATA_HOST. */
  metadataHost(): string;
  /**
   * `{ GCE_METADATA_HOST, GCE_METADATA_IP, NO_PROXY }`: gcp-metadata then calls the emulator and
   * never 169.254.169.254 or metadata.google.internal; NO_PROXY keeps gaxios (which honours
   * HTTPS_PROXY by itself) from tunnelling metadata requests through the proxy, as a real node's
   * proxy settings exempt the metadata server.
   */
  metadataEnv(): Record<string, string>;
  /** Set (or, with `undefined`, remove) an instance attribute (`google-dockercfg`, `google-dockercfg-url`, …). */
  setAttribute(name: string, value: string | undefined): void;
  /** Register a service account: generateAccessToken may then impersonate it. */
  serviceAccount(email: string, options?: ServiceAccountOptions): void;
  /** A fresh key (registering the account) as a key file under `emulator.dir`, for ADC. */
  serviceAccountKey(email: string): ServiceAccountKey;
  /** STS accepts `token` as a subject token (for `audience` only, if given). */
  trustSubjectToken(token: string, audience?: string): void;
  /** A fresh service-account-like JWT (in the ledger), trusted. */
  issueSubjectToken(options?: SubjectTokenOptions): string;
  /** Token requests to the metadata server and the OAuth2 endpoint, in order; `source` filters. */
  tokenCalls(source?: "metadata" | "oauth2"): GoogleTokenCall[];
  stsCalls(): StsCall[];
  impersonationCalls(): ImpersonationCall[];
  /** What the emulator knows of an access token it issued. */
  accessToken(token: string): IssuedGoogleToken | undefined;
  /**
   * A legacy dockercfg map for `google-dockercfg`: for each registry (a host, or a URL such as
   * `https://gcr.io`), a fresh password (in the ledger, unless one is given) that the registry at
   * that host accepts with that username (default `oauth2accesstoken`), until the emulator closes.
   */
  dockercfg(
    entries: string[] | Record<string, { username?: string; password?: string; email?: string }>,
  ): Record<string, DockercfgEntry>;
  /**
   * Serve `content` (a string, or JSON of an object) at a fresh URL without the metadata header,
   * for `google-dockercfg-url`: `http://127.0.0.1:PORT/…` by default, or with `https`
   * `https://storage.googleapis.com/…` (through the proxy).
   */
  publishDockercfg(content: string | object, options?: { https?: boolean }): string;
}

export function installGoogleCloud(
  emulator: Pick<Emulator, "route" | "issueSecret" | "registry" | "httpUrl" | "dir">,
  options: GoogleCloudOptions = {},
): GoogleCloud {
  const projectId = options.projectId ?? "my-project";
  const projectNumber = options.projectNumber ?? "123456789012";
  const tokens = new GoogleTokens(emulator.registry);
  const accounts = new GoogleAccounts();
  const trusted = new Map<string, string | undefined>();
  const tokenCalls: GoogleTokenCall[] = [];
  const stsCalls: StsCall[] = [];
  const impersonationCalls: ImpersonationCall[] = [];
  const published = new Map<string, string>();
  const metadataHost = new URL(emulator.httpUrl).host;
  const state: GceState = {
    projectId,
    projectNumber,
    zone: options.zone ?? "us-central1-a",
    nodeServiceAccount:
      options.nodeServiceAccount === null
        ? undefined
        : (options.nodeServiceAccount ?? `${projectNumber}-compute@developer.gserviceaccount.com`),
    nodeScopes: [...(options.nodeScopes ?? [cloudPlatformScope])],
    tokenValiditySeconds: options.tokenValiditySeconds ?? 3599,
    attributes: new Map(),
  };
  if (state.nodeServiceAccount !== undefined) accounts.add(state.nodeServiceAccount);

  const cloud: GoogleCloud = {
    get projectId() {
      return state.projectId;
    },
    set projectId(value) {
      state.projectId = value;
    },
    get projectNumber() {
      return state.projectNumber;
    },
    set projectNumber(value) {
      state.projectNumber = value;
    },
    get zone() {
      return state.zone;
    },
    set zone(value) {
      state.zone = value;
    },
    get nodeServiceAccount() {
      return state.nodeServiceAccount;
    },
    set nodeServiceAccount(value) {
      state.nodeServiceAccount = value;
      if (value !== undefined) accounts.add(value);
    },
    get nodeScopes() {
      return state.nodeScopes;
    },
    set nodeScopes(value) {
      state.nodeScopes = [...value];
    },
    get tokenValiditySeconds() {
      return state.tokenValiditySeconds;
    },
    set tokenValiditySeconds(value) {
      state.tokenValiditySeconds = value;
    },
    metadataHost: () => metadataHost,
    metadataEnv: () => ({
      GCE_METADATA_HOST: metadataHost,
      GCE_METADATA_IP: metadataHost,
      NO_PROXY: "127.0.0.1,169.254.169.254,metadata.google.internal",
    }),
    setAttribute: (name, value) => {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`${JSON.stringify(name)} is not an attribute name`);
      if (value === undefined) state.attributes.delete(name);
      else state.attributes.set(name, value);
    },
    serviceAccount: (email, account) => accounts.add(email, account),
    serviceAccountKey: (email) => accounts.createKey(email, state.projectId, emulator.dir),
    trustSubjectToken: (token, audience) => {
      if (token === "") throw new Error("a subject token cannot be empty");
      trusted.set(token, audience);
    },
    issueSubjectToken: (subject = {}) => {
      const now = epochSeconds();
      // Shaped like a projected Kubernetes service account token.
      const token = issueJwt(
        emulator.issueSecret,
        {
          aud: [subject.tokenAudience ?? subject.audience ?? "sts.googleapis.com"],
          iss:
            subject.issuer ??
            `https://container.googleapis.com/v1/projects/${state.projectId}/locations/us-central1/clusters/cluster-1`,
          sub: subject.subject ?? "system:serviceaccount:default:default",
          iat: now,
          nbf: now,
          exp: now + (subject.validitySeconds ?? 3600),
          jti: tokenId(),
        },
        "cloud-emulator",
      );
      trusted.set(token, subject.audience);
      return token;
    },
    tokenCalls: (source) =>
      tokenCalls
        .filter((call) => source === undefined || call.source === source)
        .map((call) => ({ ...call })),
    stsCalls: () => stsCalls.map((call) => ({ ...call })),
    impersonationCalls: () => impersonationCalls.map((call) => ({ ...call })),
    accessToken: (token) => tokens.find(token),
    dockercfg: (entries) => {
      const list: Record<string, { username?: string; password?: string; email?: string }> = Array.isArray(
        entries,
      )
        ? Object.fromEntries(entries.map((registry) => [registry, {}]))
        : entries;
      const cfg: Record<string, DockercfgEntry> = {};
      for (const [registry, entry] of Object.entries(list)) {
        const host = new URL(/^[a-z]+:\/\//i.test(registry) ? registry : `https://${registry}`).hostname;
        const username = entry.username ?? "oauth2accesstoken";
        const password = entry.password ?? emulator.issueSecret("ya29.dockercfg-");
        emulator.registry.accept(host, username, password);
        cfg[registry] = {
          username,
          password,
          email: entry.email ?? "not@val.id",
          auth: Buffer.from(`${username}:${password}`).toString("base64"),
        };
      }
      return cfg;
    },
    publishDockercfg: (content, publish = {}) => {
      const id = randomUUID();
      published.set(id, typeof content === "string" ? content : JSON.stringify(content));
      return publish.https
        ? `https://storage.googleapis.com/cloud-emulator-dockercfg/${id}`
        : `${emulator.httpUrl}/cloud-emulator/google-dockercfg/${id}`;
    },
  };

  installGceMetadata({ emulator, tokens, state, calls: tokenCalls as GceTokenCall[] });
  installGoogleOAuth2({
    emulator,
    accounts,
    tokens,
    calls: tokenCalls as OAuth2TokenCall[],
    validitySeconds: () => state.tokenValiditySeconds,
  });
  installGoogleSts({
    emulator,
    tokens,
    trusted,
    calls: stsCalls,
    validitySeconds: () => state.tokenValiditySeconds,
  });
  installGoogleIam({ emulator, accounts, tokens, calls: impersonationCalls });

  const serveDockercfg = (id: string | undefined) => {
    const content = id === undefined ? undefined : published.get(id);
    return content === undefined
      ? text(404, "Not Found")
      : { status: 200, headers: { "content-type": "application/json" }, body: content };
  };
  emulator.route(
    {
      id: "google.dockercfg",
      host: "127.0.0.1",
      method: "GET",
      path: /^\/cloud-emulator\/google-dockercfg\/(?<id>[0-9a-f-]+)$/,
      scheme: "http",
    },
    (_req, ctx) => serveDockercfg(ctx.params.id),
  );
  emulator.route(
    {
      id: "google.dockercfg",
      host: "storage.googleapis.com",
      method: "GET",
      path: /^\/cloud-emulator-dockercfg\/(?<id>[0-9a-f-]+)$/,
    },
    (_req, ctx) => serveDockercfg(ctx.params.id),
  );

  // Google's registries point the challenge at `/v2/token` on the registry's own name.
  for (const host of googleRegistryHostPatterns) {
    emulator.registry.serve(host, { scheme: "bearer", tokenPath: "/v2/token" });
  }
  return cloud;
}
