/**
 * @kubelet-credential-provider/kubelet-sim: the kubelet's side of image credential provider
 * plugins, as a library. The executable `kubelet-credential-sim` is {@link runCli} on the process's
 * streams.
 *
 * ```ts
 * import { loadConfig } from "@kubelet-credential-provider/config";
 * import { createKubeletSimulator } from "@kubelet-credential-provider/kubelet-sim";
 * const { config } = await loadConfig("/etc/kubernetes/credential-providers.yaml");
 * const kubelet = createKubeletSimulator({ config, binDir: "/usr/libexec/kubernetes/kubelet-plugins" });
 * const report = await kubelet.lookup("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.0");
 * ```
 */
export type { FlagDef, FlagDefs, ParsedArgs } from "./args.ts";
export { parseArgs, UsageError } from "./args.ts";
export { cacheBaseKey, cacheLifetimeNanos, GLOBAL_CACHE_KEY, PluginCache, registryOf } from "./cache.ts";
export type { CliIo } from "./commands.ts";
export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from "./commands.ts";
export type { ConfigEdit, ConfigFormat, EditedConfig, EntryChange, ProviderEntry } from "./config-edit.ts";
export { editConfigText, isJsonText, outputFormat } from "./config-edit.ts";
export type { DecodeResult, PluginAuth, PluginResponse } from "./decode.ts";
export { DECODE_ERROR, decodePluginResponse, invalidCacheKeyTypeError } from "./decode.ts";
export { unifiedDiff } from "./diff.ts";
export type { PluginRun, PluginRunResult } from "./exec.ts";
export {
  checkPluginBinaries,
  KUBELET_PLUGIN_TIMEOUT_MS,
  killRunningPlugins,
  MAX_PLUGIN_OUTPUT_BYTES,
  runFailure,
  runPluginProcess,
} from "./exec.ts";
export type { JsonScan } from "./json-scan.ts";
export { scanJson } from "./json-scan.ts";
export type { MatchedCredential, ProviderAuth } from "./keyring.ts";
export { isDefaultRegistryMatch, mergeCredentials } from "./keyring.ts";
export type { KubeletVersion } from "./kubelet-versions.ts";
export {
  DEFAULT_KUBELET_VERSION,
  KUBELET_VERSIONS,
  parseKubeletVersion,
  SERVICE_ACCOUNT_TOKEN_GATE,
} from "./kubelet-versions.ts";
export type {
  CredentialReport,
  ImageReport,
  KubeletSimulator,
  KubeletSimulatorOptions,
  LookupOptions,
  ProviderReport,
} from "./lookup.ts";
export { createKubeletSimulator } from "./lookup.ts";
export type { LookupEntry, ReportOptions } from "./report.ts";
export { execCountLines, lookupJson, lookupText, REDACTED } from "./report.ts";
export type { RequestServiceAccount } from "./request.ts";
export { encodePluginRequest } from "./request.ts";
export type { ServiceAccount, ServiceAccountDecision } from "./tokens.ts";
export { echoGuardError, serviceAccountDecision, tokenHash } from "./tokens.ts";
export type { ValidationReport } from "./validate.ts";
export { checkConfigIssues, decodeConfigText, validateConfigPath, validSummary } from "./validate.ts";
export type { Challenge, VerifyOptions, VerifyResult } from "./verify.ts";
export { parseWwwAuthenticate, verifyCredentials } from "./verify.ts";
export { NAME, VERSION } from "./version.ts";
