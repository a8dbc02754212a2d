/**
 * The `CredentialProviderConfig` types and their strict zod schemas, one per config apiVersion.
 * Decoding fills absent fields with Go's zero values; whether a field is required is left to
 * validation (validate.ts), so that a missing field reads like the kubelet's validation error.
 */
import * as z from "zod/mini";
import { _durationError } from "./_error-text.ts";

/** `kubelet.config.k8s.io/v1`, the only config version that has `tokenAttributes`. */
export const CONFIG_API_VERSION_V1 = "kubelet.config.k8s.io/v1";
/** `kubelet.config.k8s.io/v1beta1`. */
export const CONFIG_API_VERSION_V1BETA1 = "kubelet.config.k8s.io/v1beta1";
/** `kubelet.config.k8s.io/v1alpha1`. */
export const CONFIG_API_VERSION_V1ALPHA1 = "kubelet.config.k8s.io/v1alpha1";

/** Every apiVersion a `CredentialProviderConfig` document may have, newest first. */
export const configApiVersions = [
  CONFIG_API_VERSION_V1,
  CONFIG_API_VERSION_V1BETA1,
  CONFIG_API_VERSION_V1ALPHA1,
] as const;
/** The apiVersion of a `CredentialProviderConfig` document. */
export type ConfigApiVersion = (typeof configApiVersions)[number];

/** The values `tokenAttributes.cacheType` accepts, in the kubelet's (sorted) order. */
export const serviceAccountTokenCacheTypes = ["ServiceAccount", "Token"] as const;
/** How the kubelet keys credentials obtained with a service account token. */
export type ServiceAccountTokenCacheType = (typeof serviceAccountTokenCacheTypes)[number];

/** The kubelet's configuration of its image credential provider plugins. */
export interface CredentialProviderConfig {
  /** The document's version. A merged directory (see `loadConfig`) reports v1. */
  apiVersion: ConfigApiVersion;
  kind: "CredentialProviderConfig";
  /** The plugins, in order: for an image several match, earlier providers' keys are tried first. */
  providers: CredentialProvider[];
}

/** One exec plugin. Decoding fills absent strings and lists with Go's zero values ("" and []). */
export interface CredentialProvider {
  /** The executable's name in the kubelet's `--image-credential-provider-bin-dir`; unique. */
  name: string;
  /** Image patterns (`*.dkr.ecr.*.amazonaws.com`, `registry.io:8080/path`) that invoke the plugin. */
  matchImages: string[];
  /** Go duration (`12h`, `10m0s`) the kubelet caches credentials for when a response names none. */
  defaultCacheDuration?: string;
  /** The request/response version, one of the `credentialprovider.kubelet.k8s.io` versions. */
  apiVersion: string;
  /** Arguments the plugin runs with (no shell). */
  args?: string[];
  /** Environment added to the kubelet's own when the plugin runs. */
  env?: ExecEnvVar[];
  /** Service account token mode; kubelet.config.k8s.io/v1 only. */
  tokenAttributes?: ServiceAccountTokenAttributes;
}

/** An environment variable for the plugin. */
export interface ExecEnvVar {
  name: string;
  value: string;
}

/** How the kubelet hands the pod's service account token to the plugin (config v1 only). */
export interface ServiceAccountTokenAttributes {
  /** Audience of the projected service account token. Required (validation). */
  serviceAccountTokenAudience: string;
  /**
   * A {@link ServiceAccountTokenCacheType}. Typed `string` because decoding accepts any string, as
   * the kubelet's does; validation reports other values as NotSupported.
   */
  cacheType: string;
  /** Whether the plugin runs only for pods with a service account. Required (validation). */
  requireServiceAccount?: boolean;
  /** Annotation keys that must be on the service account (requires requireServiceAccount true). */
  requiredServiceAccountAnnotationKeys?: string[];
  /** Annotation keys passed to the plugin when present. */
  optionalServiceAccountAnnotationKeys?: string[];
}

/** The `kind` of every config document. */
export const _KIND = "CredentialProviderConfig";

// Go durations are checked while decoding, as metav1.Duration's UnmarshalJSON does, with Go's text.
const _goDuration = z.string().check(
  z.refine((text: string) => _durationError(text) === undefined, {
    error: (issue) => _durationError(String(issue.input)) ?? "invalid duration",
  }),
);

// Go decodes a null list element as the element's zero value; null fields are dropped beforehand.
function _nullAs<S extends z.ZodMiniType>(zero: unknown, schema: S) {
  return z.pipe(
    z.transform((value: unknown) => value ?? zero),
    schema,
  );
}

const _strings = z.array(_nullAs("", z.string()));

/** `ExecEnvVar`, strict. */
export const execEnvVarSchema = z.strictObject({
  name: z._default(z.string(), ""),
  value: z._default(z.string(), ""),
});

/** `ServiceAccountTokenAttributes`, strict; required-ness is left to `validateConfig`. */
export const serviceAccountTokenAttributesSchema = z.strictObject({
  serviceAccountTokenAudience: z._default(z.string(), ""),
  cacheType: z._default(z.string(), ""),
  requireServiceAccount: z.optional(z.boolean()),
  requiredServiceAccountAnnotationKeys: z.optional(_strings),
  optionalServiceAccountAnnotationKeys: z.optional(_strings),
});

const _legacyProviderShape = {
  name: z._default(z.string(), ""),
  matchImages: z._default(_strings, () => []),
  defaultCacheDuration: z.optional(_goDuration),
  apiVersion: z._default(z.string(), ""),
  args: z.optional(_strings),
  env: z.optional(z.array(_nullAs({}, execEnvVarSchema))),
};

/** A v1 `CredentialProvider`, strict; required-ness is left to `validateConfig`. */
export const credentialProviderSchema = z.strictObject({
  ..._legacyProviderShape,
  tokenAttributes: z.optional(serviceAccountTokenAttributesSchema),
});

/** A v1beta1 or v1alpha1 `CredentialProvider`: no `tokenAttributes`. */
export const legacyCredentialProviderSchema = z.strictObject(_legacyProviderShape);

function _configSchema<V extends ConfigApiVersion, P extends z.ZodMiniType>(apiVersion: V, provider: P) {
  return z.strictObject({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(_KIND),
    providers: z._default(z.array(_nullAs({}, provider)), () => []),
  });
}

/**
 * The strict schema of a whole document, per config apiVersion. Fields whose value is `null` must
 * be removed first (Go decodes them as absent), as `parseConfig` does; null list elements
 * become the element's zero value here.
 */
export const credentialProviderConfigSchemas = {
  [CONFIG_API_VERSION_V1]: _configSchema(CONFIG_API_VERSION_V1, credentialProviderSchema),
  [CONFIG_API_VERSION_V1BETA1]: _configSchema(CONFIG_API_VERSION_V1BETA1, legacyCredentialProviderSchema),
  [CONFIG_API_VERSION_V1ALPHA1]: _configSchema(CONFIG_API_VERSION_V1ALPHA1, legacyCredentialProviderSchema),
} as const;
