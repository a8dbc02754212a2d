#!/usr/bin/env node
/**
 * The executable: runs the command line on this process's streams and exits with its status. The
 * only place that ends the process; also the one that turns Ctrl-C, a broken pipe or anything
 * unexpected into one line and an exit status, after killing the plugins still running.
 */
import { runCli } from "./commands.ts";
import { killRunningPlugins } from "./exec.ts";
import { NAME } from "./version.ts";

let exiting = false;

function finish(code: number): void {
  if (exiting) return;
  exiting = true;
  killRunningPlugins();
  // Let what is written reach the pipes first.
  process.stdout.write("", () => {
    // biome-ignore lint/nursery/noProcessExit: the one place in the simulator that ends the process.
    process.stderr.write("", () => process.exit(code));
  });
}

function fatal(error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${NAME}: internal error: ${text.replace(/\s*\n\s*/g, " ")}\n`);
  finish(1);
}

process.on("SIGINT", () => finish(130));
process.on("SIGTERM", () => finish(143));
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
process.stdout.on("error", () => finish(1));

// Not awaited: runCli reports through finish(), which is the one place that exits.
void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
}).then(finish, fatal);
