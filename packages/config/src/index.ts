/**
 * @kubelet-credential-provider/config: the kubelet's `CredentialProviderConfig` (kubelet.config.k8s.io v1, v1beta1, v1alpha1): schema,
 * loading and validation, kept exact to the kubelet 1.34 (`readCredentialProviderConfig`, `decode`
 * and `validateCredentialProviderConfig` in k8s.io/kubernetes pkg/credentialprovider/plugin).
 *
 * - {@link parseConfig} decodes one document as strictly as the kubelet's codec: JSON when the text
 *   starts with `{` (after whitespace), otherwise YAML 1.1 as go-yaml reads it; unknown fields,
 *   duplicate keys and wrong types are errors.
 * - {@link validateConfig} applies every validation rule and collects all issues, worded as the
 *   kubelet words them.
 * - {@link loadConfig} reads a file or a directory of files and merges them as the kubelet does.
 *
 * Required-ness (name, matchImages, defaultCacheDuration, tokenAttributes fields) is checked by
 * validation rather than decoding, so a missing field reads like the kubelet's validation error.
 *
 * One module per concern; this one lists the package's public names (see index.test.ts's export
 * check). The simulator (kubelet-credential-sim) is built on it; so can be any tool that checks a
 * node's config before the kubelet reads it.
 */

export { parseConfig } from "./decode.ts";
export type { ConfigIssue, FormatConfigIssueOptions } from "./issues.ts";
export { assertNoConfigIssues, formatConfigIssue, formatConfigIssues } from "./issues.ts";
export type { LoadedConfig } from "./load.ts";
export { loadConfig } from "./load.ts";
export type {
  ConfigApiVersion,
  CredentialProvider,
  CredentialProviderConfig,
  ExecEnvVar,
  ServiceAccountTokenAttributes,
  ServiceAccountTokenCacheType,
} from "./schema.ts";
export { configApiVersions } from "./schema.ts";
export { validateConfig } from "./validate.ts";
