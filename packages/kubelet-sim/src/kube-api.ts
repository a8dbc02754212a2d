/**
 * The two questions `doctor` asks the API server, as the identity of a kubeconfig: who am I
 * (SelfSubjectReview), and may I request service account tokens for an audience
 * (SelfSubjectAccessReview). The second asks exactly what the NodeRestriction admission plugin
 * asks the authorizer when a kubelet requests a token for an audience no volume of the pod names
 * (ServiceAccountNodeAudienceRestriction, beta and on from Kubernetes 1.33): verb
 * `request-serviceaccounts-token-audience`, the core group, version v1, the audience as the
 * resource, the service account's name and namespace. conformance/ checks that against the
 * plugin's own code.
 */
import type { HttpClient, HttpRequestOptions } from "@kubelet-credential-provider/core";
import type { ApiServerAccess } from "./kubeconfig.ts";

/** The verb RBAC grants for a node to request tokens for an audience. */
export const AUDIENCE_VERB = "request-serviceaccounts-token-audience";

/** Who the API server says the kubeconfig's identity is. */
export interface ApiIdentity {
  username: string;
  groups: string[];
}

/** The API server's answer to an access review. */
export interface AccessDecision {
  allowed: boolean;
  reason?: string;
  evaluationError?: string;
}

/** Whom to ask about: every service account (the defaults), or one. */
export interface AudienceSubject {
  audience: string;
  /** "" for every namespace. */
  namespace?: string;
  /** "" for every service account. */
  serviceAccount?: string;
}

/** The SelfSubjectAccessReview `doctor` sends for `subject`. */
export function audienceAccessReview(subject: AudienceSubject) {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: {
      resourceAttributes: {
        namespace: subject.namespace ?? "",
        verb: AUDIENCE_VERB,
        group: "",
        version: "v1",
        resource: subject.audience,
        name: subject.serviceAccount ?? "",
      },
    },
  };
}

export interface KubeApi {
  whoAmI(): Promise<ApiIdentity>;
  canRequestAudience(subject: AudienceSubject): Promise<AccessDecision>;
}

/** An API client for `access`, over `http` (core's client: timeouts, retries, proxies). */
export function createKubeApi(access: ApiServerAccess, http: HttpClient, timeoutMs: number): KubeApi {
  // tls-server-name: the URL names the certificate's host; connectTo dials the server's address.
  const base = new URL(access.server);
  if (access.tlsServerName) base.hostname = access.tlsServerName;
  const post = async (path: string, body: unknown, endpoint: string) => {
    const options: HttpRequestOptions = {
      method: "POST",
      endpoint: `${endpoint} (${access.server.host})`,
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        ...(access.token !== undefined && { authorization: `Bearer ${access.token}` }),
      },
      body: JSON.stringify(body),
      timeoutMs,
      maxAttempts: 3,
      ...(access.ca !== undefined && { ca: access.ca }),
      ...(access.clientCertificate !== undefined && { clientCertificate: access.clientCertificate }),
      ...(access.tlsServerName && { connectTo: access.server.hostname.replace(/^\[|\]$/g, "") }),
    };
    const response = await http.request(new URL(path, base), options);
    if (response.status === 401)
      throw new KubeApiError(`${options.endpoint} did not accept the kubeconfig's credentials (HTTP 401)`);
    if (response.status === 403)
      throw new KubeApiError(`${options.endpoint} forbade it (HTTP 403): ${_statusMessage(response.json())}`);
    if (response.status < 200 || response.status > 299) {
      throw new KubeApiError(
        `${options.endpoint} answered HTTP ${response.status}: ${_statusMessage(response.json())}`,
      );
    }
    const status = (response.json() as { status?: unknown }).status;
    if (typeof status !== "object" || status === null)
      throw new KubeApiError(`${options.endpoint} answered with no status`);
    return status as Record<string, unknown>;
  };
  return {
    async whoAmI() {
      const status = await post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        "SelfSubjectReview",
      );
      const info = (status.userInfo ?? {}) as { username?: unknown; groups?: unknown };
      return {
        username: typeof info.username === "string" ? info.username : "",
        groups: Array.isArray(info.groups)
          ? info.groups.filter((g): g is string => typeof g === "string")
          : [],
      };
    },
    async canRequestAudience(subject) {
      const status = await post(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        audienceAccessReview(subject),
        "SelfSubjectAccessReview",
      );
      return {
        allowed: status.allowed === true,
        ...(typeof status.reason === "string" && status.reason !== "" && { reason: status.reason }),
        ...(typeof status.evaluationError === "string" &&
          status.evaluationError !== "" && { evaluationError: status.evaluationError }),
      };
    },
  };
}

/** The API server refused or failed a call; the message names the call. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
}

function _statusMessage(body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === "string" ? (message.split("\n")[0] ?? "") : "no message";
}
