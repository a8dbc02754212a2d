/**
 * The kubelet minors the simulator models, and what differs between them, as data. Everything not
 * listed here (the config apiVersions accepted, the other validation rules, response decoding and
 * validation, cache keys Image/Registry/Global, the keyring's order, singleflight) is the same in
 * every minor. The facts come from reading and running the real kubelet of each minor
 * (pkg/credentialprovider/plugin/config.go and plugin.go):
 *
 * - 1.33 reads `--image-credential-provider-config` as one file (a directory fails to read);
 *   1.34 added directories (`*.json`, `*.yaml`, `*.yml`, byte order, merged).
 * - 1.33's `tokenAttributes` has no `cacheType` (strict decoding refuses it as an unknown field);
 *   1.34 added it, required, `ServiceAccount` or `Token`, and with it the echo guard.
 * - 1.33 finds a repeated provider name in validation (`providers.name: Duplicate value`); 1.34+
 *   while merging the files, before validation (`duplicate provider name "x" found in
 *   configuration file(s)`).
 * - 1.33 names the file unquoted in a decoding error (`error decoding config FILE: ...`); 1.34+
 *   quotes it (`error decoding config "FILE": ...`).
 * - The global cache key is `global` in 1.33, `<global>` from 1.34 (internal).
 * - KubeletServiceAccountTokenForCredentialProviders is alpha (off by default) in 1.33, beta (on by
 *   default) from 1.34. The simulator takes it as on in every minor, and notes that 1.33 needs it.
 */
import { type FlagDef, UsageError } from "./args.ts";

/** What one kubelet minor does differently. */
export interface KubeletVersion {
  /** `1.34`. */
  minor: string;
  /** `--image-credential-provider-config` may name a directory of config files. */
  configDirectory: boolean;
  /** `tokenAttributes.cacheType` exists (and is then required): ServiceAccount or Token. */
  tokenCacheType: boolean;
  /** Where a repeated provider name is caught: in validation, or while merging the files. */
  duplicateProviderNames: "validation" | "merge";
  /** A returned password equal to the service account token drops the answer (cacheType not Token). */
  echoGuard: boolean;
  /** A decoding error names the file quoted (`%q`) rather than as is (`%s`). */
  quoteFileInDecodeError: boolean;
  /** The cache key of a `Global` answer. */
  globalCacheKey: string;
  /** The KubeletServiceAccountTokenForCredentialProviders feature gate's default. */
  serviceAccountTokenGate: { stage: "alpha" | "beta"; enabledByDefault: boolean };
}

const _V1_33: KubeletVersion = {
  minor: "1.33",
  configDirectory: false,
  tokenCacheType: false,
  duplicateProviderNames: "validation",
  echoGuard: false,
  quoteFileInDecodeError: false,
  globalCacheKey: "global",
  serviceAccountTokenGate: { stage: "alpha", enabledByDefault: false },
};

const _V1_34: KubeletVersion = {
  minor: "1.34",
  configDirectory: true,
  tokenCacheType: true,
  duplicateProviderNames: "merge",
  echoGuard: true,
  quoteFileInDecodeError: true,
  globalCacheKey: "<global>",
  serviceAccountTokenGate: { stage: "beta", enabledByDefault: true },
};

/** Every minor the simulator models, oldest first. 1.35 to 1.37 behave as 1.34 here. */
export const KUBELET_VERSIONS: readonly KubeletVersion[] = [
  _V1_33,
  _V1_34,
  { ..._V1_34, minor: "1.35" },
  { ..._V1_34, minor: "1.36" },
  { ..._V1_34, minor: "1.37" },
];

/** The newest minor, the default. */
export const DEFAULT_KUBELET_VERSION = KUBELET_VERSIONS[KUBELET_VERSIONS.length - 1] as KubeletVersion;

/** The feature gate that 1.33 needs for tokenAttributes. */
export const SERVICE_ACCOUNT_TOKEN_GATE = "KubeletServiceAccountTokenForCredentialProviders";

/** `1.33, 1.34, 1.35, 1.36 or 1.37`. */
export function supportedMinors(): string {
  const minors = KUBELET_VERSIONS.map((version) => version.minor);
  return `${minors.slice(0, -1).join(", ")} or ${minors.at(-1)}`;
}

/** The `--kubelet-version` flag, shared by every command that reads a config. */
export const KUBELET_VERSION_FLAG: FlagDef = {
  type: "string",
  placeholder: "MINOR",
  description: `The kubelet to agree with: ${supportedMinors()} (also v1.34, 1.34.12; default ${DEFAULT_KUBELET_VERSION.minor}).`,
};

/**
 * Reads a kubelet version: `1.34`, `v1.34` or `1.34.12` (any patch); undefined gives the default.
 *
 * @throws UsageError for anything else, or a minor the simulator does not model.
 */
export function parseKubeletVersion(text: string | undefined): KubeletVersion {
  if (text === undefined) return DEFAULT_KUBELET_VERSION;
  const match = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))?$/.exec(text);
  const version =
    match === null ? undefined : KUBELET_VERSIONS.find((known) => known.minor === `${match[1]}.${match[2]}`);
  if (version === undefined) {
    throw new UsageError(
      `flag --kubelet-version takes a kubelet minor version, ${supportedMinors()} (as 1.34, v1.34 or 1.34.12), not ${JSON.stringify(text)}`,
    );
  }
  return version;
}

/** What the minor needs that its defaults do not give, for a config using `tokenAttributes`. */
export function serviceAccountGateNote(version: KubeletVersion): string | undefined {
  if (version.serviceAccountTokenGate.enabledByDefault) return undefined;
  return (
    `note: kubelet ${version.minor} accepts tokenAttributes only with --feature-gates=${SERVICE_ACCOUNT_TOKEN_GATE}=true ` +
    `(${version.serviceAccountTokenGate.stage}, off by default; the simulator takes it as on); without it the kubelet fails with ` +
    `"providers.tokenAttributes: Forbidden: tokenAttributes is not supported when ${SERVICE_ACCOUNT_TOKEN_GATE} feature gate is disabled"`
  );
}
