/**
 * The exec-plugin protocol between the kubelet and a credential provider
 * (credentialprovider.kubelet.k8s.io v1, v1beta1, v1alpha1), as zod schemas.
 *
 * Requests are decoded leniently about unknown fields (a newer kubelet may add some; the v1
 * service account fields arrived without a version bump) but strictly about types. Responses are
 * decoded exactly as strictly as the kubelet decodes them, so a response that passes here is one
 * the kubelet accepts.
 */
import * as z from "zod/mini";
import { isValidDuration } from "./duration.ts";

/** The kubelet's current protocol version, `credentialprovider.kubelet.k8s.io/v1`. */
export const API_VERSION_V1 = "credentialprovider.kubelet.k8s.io/v1";
export const API_VERSION_V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1";
export const API_VERSION_V1ALPHA1 = "credentialprovider.kubelet.k8s.io/v1alpha1";

/** Every apiVersion a provider answers in, newest first. */
export const apiVersions = [API_VERSION_V1, API_VERSION_V1BETA1, API_VERSION_V1ALPHA1] as const;
/** A protocol version the harness serves: v1, v1beta1 or v1alpha1. */
export type ApiVersion = (typeof apiVersions)[number];

/** The values of a response's `cacheKeyType`: how the kubelet keys the cached answer. */
export const cacheKeyTypes = ["Image", "Registry", "Global"] as const;
/** How the kubelet keys the cached answer: per image, per registry host, or for every image. */
export type CacheKeyType = (typeof cacheKeyTypes)[number];

export function isApiVersion(value: unknown): value is ApiVersion {
  return typeof value === "string" && (apiVersions as readonly string[]).includes(value);
}

/** `CredentialProviderRequest`. Only v1 carries the service account fields. */
export const credentialProviderRequestSchema = z.object({
  kind: z.literal("CredentialProviderRequest"),
  apiVersion: z.enum(apiVersions),
  image: z.string().check(z.minLength(1, "image must not be empty")),
  serviceAccountToken: z.optional(z.string()),
  serviceAccountAnnotations: z.optional(z.record(z.string(), z.string())),
});
/**
 * What the kubelet writes to a provider's stdin: the image, and in service-account mode the pod's
 * service account token and annotations.
 */
export type CredentialProviderRequest = z.infer<typeof credentialProviderRequestSchema>;

/** One credential, as the kubelet decodes `AuthConfig`: no other field (not even `email`). */
export const authConfigSchema = z.strictObject({
  username: z.string(),
  password: z.string(),
});
/** One registry credential in a response: `username` and `password`. */
export type AuthConfig = z.infer<typeof authConfigSchema>;

const goDuration = z
  .string()
  .check(z.refine(isValidDuration, { message: "cacheDuration must be a Go duration such as 10m0s" }));

/** `CredentialProviderResponse`, decoded as strictly as the kubelet decodes it. */
export const credentialProviderResponseSchema = z.strictObject({
  kind: z.literal("CredentialProviderResponse"),
  apiVersion: z.enum(apiVersions),
  cacheKeyType: z.enum(cacheKeyTypes),
  cacheDuration: z.optional(goDuration),
  auth: z.optional(z.record(z.string(), authConfigSchema)),
});
/**
 * What a provider answers on stdout: the credentials by registry or image key, and how long the
 * kubelet may cache them.
 */
export type CredentialProviderResponse = z.infer<typeof credentialProviderResponseSchema>;

/**
 * What a provider returns: the response without `kind` and `apiVersion`, which the harness fills
 * in from the request so that the answer is always in the version that was asked.
 */
export type CredentialProviderResult = Omit<CredentialProviderResponse, "kind" | "apiVersion">;

/** Renders zod issues as one line: `auth.x.password: expected string`. */
export function formatSchemaIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map(_formatIssue).join("; ");
}

function _formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
  switch (issue.code) {
    case "unrecognized_keys":
      return `${path}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_type":
      return `${path}: expected ${issue.expected}`;
    case "invalid_value":
      return `${path}: must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
    default:
      return `${path}: ${issue.message || issue.code}`;
  }
}
