/**
 * node tools/cloud-emulator/src/cli.ts: starts the emulator for a person at a terminal, prints
 * what to export to reach it and where its endpoints are (never a secret), and stops cleanly on
 * Ctrl-C or SIGTERM, removing its temp dir.
 */
import { parseArgs } from "node:util";
import type { Emulator } from "./emulator.ts";
import { startEmulator } from "./emulator.ts";

const usage = `Usage: node tools/cloud-emulator/src/cli.ts [options]

Starts local stand-ins for the cloud endpoints and registries on 127.0.0.1 until Ctrl-C.

Options:
  --proxy-port N    the CONNECT proxy's port (default: random)
  --https-port N    the TLS listener's port (default: random)
  --http-port N     the plain HTTP listener's port (default: random)
  --validity S      seconds each Example registry password is valid (default: 3600)
  -h, --help        this text
`;

async function main(): Promise<void> {
  let values: ReturnType<typeof _parse>;
  try {
    values = _parse();
  } catch (error) {
    console.error(`cloud-emulator: ${(error as Error).message}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const emulator = await startEmulator({
    ports: {
      proxy: _port(values["proxy-port"], "--proxy-port"),
      https: _port(values["https-port"], "--https-port"),
      http: _port(values["http-port"], "--http-port"),
    },
    example: { validitySeconds: _positive(values.validity, "--validity") },
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal while closing falls through to Node's default and ends the process.
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the cloud emulator`);
    emulator.close().then(
      () => console.log("stopped; temp dir removed"),
      (error: unknown) => {
        console.error(`cloud-emulator: while stopping: ${(error as Error).message}`);
        process.exitCode = 1;
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(_report(emulator));
}

function _parse() {
  return parseArgs({
    options: {
      "proxy-port": { type: "string" },
      "https-port": { type: "string" },
      "http-port": { type: "string" },
      validity: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

function _port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${flag} must be a port number, got ${value}`);
  return port;
}

function _positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new Error(`${flag} must be whole seconds > 0`);
  return Number(value);
}

function _report(emulator: Emulator): string {
  const env = Object.entries(emulator.env()).map(([name, value]) => `export ${name}=${_shellQuote(value)}`);
  const width = Math.max(...emulator.routes().map((r) => r.id.length));
  const routes = emulator.routes().map((r) => {
    const methods = r.methods.join(",");
    // Several hosts of one endpoint as a shell brace list, so each endpoint stays one short line.
    const hosts = r.hosts.length === 1 ? r.hosts[0] : `{${r.hosts.join(",")}}`;
    return `  ${r.id.padEnd(width)} ${methods.padEnd(9)} ${r.scheme}://${hosts}${r.path}`;
  });
  return [
    "cloud emulator running on 127.0.0.1 (Ctrl-C stops it)",
    "",
    "# for a process that should reach the emulated clouds as a node behind a proxy:",
    ...env,
    "",
    "listeners:",
    `  proxy  ${emulator.proxyUrl}  (CONNECT to any host:port lands on the TLS listener)`,
    `  https  ${emulator.httpsUrl}  (a certificate for whatever name the client sends by SNI)`,
    `  http   ${emulator.httpUrl}`,
    "",
    "endpoints:",
    ...routes,
    "",
    "example provider:",
    `  --token-url=${emulator.example.tokenUrl} --api-key-file=${_shellQuote(emulator.example.apiKeyFile)}`,
    "",
    `ecr provider (the instance role ${emulator.aws.imdsRole} of account ${emulator.aws.accountId}, through IMDSv2):`,
    `  export AWS_EC2_METADATA_SERVICE_ENDPOINT=${emulator.aws.imdsEndpoint}`,
    "",
  ].join("\n");
}

function _shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

main().catch((error: unknown) => {
  console.error(`cloud-emulator: ${(error as Error).message}`);
  process.exitCode = 1;
});
