/**
 * The `kcp-build` command line: flags in, one line per executable on stderr, an exit status out.
 * Every failure is one line (`kcp-build: ...`), never a stack trace.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildPackage } from "./build-package.ts";
import { BuildError } from "./errors.ts";
import { BUN_VERSION } from "./runtime.ts";

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const HELP = `Usage: kcp-build [--release] [--out-dir DIR] [PACKAGE_DIR]

Builds every bin of the package in PACKAGE_DIR (default: the current directory) into a standalone
executable with Bun's compiler: the bin's file (the compiled CLI, such as dist/cli.js) and
everything it imports, with the Bun runtime, as one file that needs nothing else on the node.
Each executable that can run here answers --version before it replaces the last one.

  kcp-build            for this machine, into dist/bin/<bin>
  kcp-build --release  for linux/amd64, linux/arm64 and windows/amd64, into
                       dist/release/<bin>-<os>-<arch> (.exe for Windows), with
                       dist/release/SHA256SUMS

The Bun runtime for this machine comes with the package (an optional dependency); another
platform's is fetched once with npm pack, from your npm registry, into
node_modules/.cache/kcp-build. A binary of another architecture runs its check under qemu-user
when it is installed, and is built unchecked otherwise; a Windows one is built unchecked.

Flags:
  --release        Build for every release target, with SHA256SUMS.
  --out-dir DIR    Where to write the executables (default dist/bin, or dist/release).
  --help           Print this help and exit.
  --version        Print the version and exit.
`;

export function runCommand(argv: readonly string[], io: CommandIo): number {
  let values: { release?: boolean; "out-dir"?: string; help?: boolean; version?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        release: { type: "boolean" },
        "out-dir": { type: "string" },
        help: { type: "boolean" },
        version: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return _usage(io, (error as Error).message);
  }
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (values.version) {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    io.stdout.write(`kcp-build ${version} (bun ${BUN_VERSION})\n`);
    return EXIT_OK;
  }
  if (positionals.length > 1) return _usage(io, `one package directory at most, got ${positionals.length}`);
  if (values["out-dir"] === "") return _usage(io, "--out-dir needs a directory");
  try {
    buildPackage({
      packageDir: positionals[0] ?? ".",
      release: values.release === true,
      ...(values["out-dir"] === undefined ? {} : { outDir: values["out-dir"] }),
      log: (line) => io.stderr.write(`kcp-build: ${line}\n`),
    });
    return EXIT_OK;
  } catch (error) {
    const message =
      error instanceof BuildError ? error.message : `internal error: ${(error as Error).message}`;
    io.stderr.write(`kcp-build: ${message}\n`);
    return EXIT_FAILED;
  }
}

function _usage(io: CommandIo, message: string): number {
  io.stderr.write(`kcp-build: ${message}\nRun kcp-build --help for usage.\n`);
  return EXIT_USAGE;
}
