/**
 * The Azure SDK's logging, through @azure/logger's public API: every line it would print goes to
 * the run's logger instead (which redacts secrets), and only at high verbosity.
 *
 * @azure/logger reads AZURE_LOG_LEVEL (and DEBUG, for its `azure:*` namespaces) when it is first
 * loaded, and then writes to stderr itself, around the redaction. Setting its level for each run
 * overrides whatever those enabled (`setLogLevel` re-enables exactly the namespaces of the level it
 * is given, so a DEBUG-enabled namespace is switched off too), and `AzureLogger.log` is where every
 * one of its loggers writes.
 */
import type { AzureLogLevel } from "@azure/logger";
import type { Logger } from "@kubelet-credential-provider/core";

/** The -v at which the SDK's warnings and info lines are printed. */
export const AZURE_SDK_LOG_VERBOSITY = 6;
/** The -v at which its verbose lines are printed too. */
export const AZURE_SDK_VERBOSE_LOG_VERBOSITY = 8;

/** The part of @azure/logger used here. */
export interface AzureLoggerModule {
  AzureLogger: { log: (...args: unknown[]) => void };
  setLogLevel(level?: AzureLogLevel): void;
}

/** Sends the SDK's log lines to `log`, at the level `log`'s verbosity asks for (off below -v 6). */
export function routeAzureLogs(module: AzureLoggerModule, log: Logger): void {
  const { format } = process.getBuiltinModule("node:util");
  module.AzureLogger.log = (...args: unknown[]) => {
    log.v(AZURE_SDK_LOG_VERBOSITY, `azure-sdk: ${format(...args)}`);
  };
  module.setLogLevel(azureLogLevelFor(log));
}

/** The SDK's level for a run's verbosity: none (off), `info`, or `verbose`. */
export function azureLogLevelFor(log: Pick<Logger, "enabled">): AzureLogLevel | undefined {
  if (log.enabled(AZURE_SDK_VERBOSE_LOG_VERBOSITY)) return "verbose";
  if (log.enabled(AZURE_SDK_LOG_VERBOSITY)) return "info";
  return undefined;
}
