/**
 * What can go wrong in a build, as codes: the CLI turns each into one line on stderr and exit
 * status 1 (a usage mistake, 2); a library caller can tell them apart without parsing messages.
 */
export type BuildErrorCode =
  /** The command line is wrong. */
  | "USAGE"
  /** package.json is missing, unreadable, or declares no usable bin. */
  | "PACKAGE_INVALID"
  /** A bin's entry point does not exist: the package is not compiled. */
  | "ENTRY_MISSING"
  /** This machine cannot build (not Linux on x64 or arm64). */
  | "UNSUPPORTED_HOST"
  /** A Bun runtime is neither installed nor in the cache, and could not be fetched. */
  | "RUNTIME_UNAVAILABLE"
  /** Bun's compiler failed. */
  | "COMPILE_FAILED"
  /** The executable did not answer `--version` as its package says. */
  | "SMOKE_TEST_FAILED"
  /** A binary of another architecture cannot be run here (no qemu-user). */
  | "RUNNER_UNAVAILABLE";

/** A build that cannot go on; `message` is one line for a person, `code` says which failure it is. */
export class BuildError extends Error {
  override readonly name = "BuildError";
  /** Which failure this is. */
  readonly code: BuildErrorCode;
  constructor(code: BuildErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
