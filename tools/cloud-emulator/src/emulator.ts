/**
 * startEmulator(): the listeners, the proxy, the CA file and the default clouds, wired together
 * behind one object that tests and the demo hold and close.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa } from "./ca.ts";
import type { RecordedCall } from "./calls.ts";
import { CallLog } from "./calls.ts";
import type { ClientRequestInit, ClientResponse } from "./client.ts";
import { _request } from "./client.ts";
import type { AwsCloud, AwsCloudOptions } from "./clouds/aws.ts";
import { installAwsCloud } from "./clouds/aws.ts";
import type { AzureCloud, AzureCloudOptions } from "./clouds/azure.ts";
import { installAzureCloud } from "./clouds/azure.ts";
import type { ExampleCloud, ExampleCloudOptions } from "./clouds/example.ts";
import { installExampleCloud } from "./clouds/example.ts";
import type { GoogleCloud, GoogleCloudOptions } from "./clouds/google.ts";
import { installGoogleCloud } from "./clouds/google.ts";
import { createDispatch } from "./dispatch.ts";
import type { FaultSpec } from "./faults.ts";
import { Faults } from "./faults.ts";
import type { FlakySpec } from "./flaky.ts";
import { Flaky } from "./flaky.ts";
import { Ledger } from "./ledger.ts";
import type { RecordedConnection } from "./listeners.ts";
import { closeServers, loopback, SocketBook, startApiServerListener, startListeners } from "./listeners.ts";
import { startProxy } from "./proxy.ts";
import type { RateLimitSpec } from "./rate-limits.ts";
import { RateLimits } from "./rate-limits.ts";
import type { EmulatedRegistry } from "./registry.ts";
import { Registry } from "./registry.ts";
import type { RouteHandle, RouteHandler, RouteInfo, RouteSpec } from "./router.ts";
import { Router } from "./router.ts";

export interface EmulatorOptions {
  /** Fixed ports on 127.0.0.1; default random (0). */
  ports?: { https?: number; http?: number; proxy?: number };
  /**
   * Also take TLS connections on this loopback address at port 443, as an AKS cluster's API
   * server address, which identity bindings (`--ib-apiserver-ip`) dial for `https://<SNI name>`;
   * `"random"` for a free one of 127.0.0.0/8. Port 443 needs root or CAP_NET_BIND_SERVICE.
   */
  apiServerAddress?: string;
  example?: ExampleCloudOptions;
  aws?: AwsCloudOptions;
  azure?: AzureCloudOptions;
  google?: GoogleCloudOptions;
}

export interface Emulator {
  /** The TLS listener: `https://127.0.0.1:PORT`; the certificate follows the SNI name. */
  readonly httpsUrl: string;
  /** The plain listener, for metadata-style endpoints: `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  /** The CONNECT proxy: `http://127.0.0.1:PORT`. */
  readonly proxyUrl: string;
  /** Where the TLS listener also answers on port 443, if `apiServerAddress` asked for it. */
  readonly apiServerAddress: string | undefined;
  readonly caPem: string;
  /** The CA certificate as a file, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** The emulator's temp dir (CA, key files); removed by close(). */
  readonly dir: string;
  readonly registry: EmulatedRegistry;
  readonly example: ExampleCloud;
  /** ECR, ECR Public, STS and IMDS (src/clouds/aws.ts). */
  readonly aws: AwsCloud;
  /** Entra ID, IMDS managed identity and ACR (src/clouds/azure.ts). */
  readonly azure: AzureCloud;
  /** GCE metadata, OAuth2, STS, IAM credentials and the Google registries (src/clouds/google.ts). */
  readonly google: GoogleCloud;
  /** For a child process that reaches the emulator as a node behind a proxy does. */
  env(): Record<string, string>;
  route(spec: RouteSpec, handler: RouteHandler): RouteHandle;
  routes(): RouteInfo[];
  /** Calls of endpoint `id`, or of all endpoints; faulted calls count. */
  calls(id?: string): number;
  callCounts(): Record<string, number>;
  /** What was sent, per call, in order. */
  requests(id?: string): RecordedCall[];
  /** The host:port of every CONNECT the proxy took. */
  tunnels(): string[];
  /**
   * Every TCP connection the listeners and the proxy accepted, in order, with the CONNECT target
   * a proxy connection asked for (taken or refused); a tunnel is its proxy connection only.
   */
  connections(): RecordedConnection[];
  /** `prefix` + 24 random hex characters, unique and recorded in the ledger. */
  issueSecret(prefix: string): string;
  /** Every secret the emulator ever handed out, in order. */
  issued(): string[];
  /** Queue a fault for endpoint `id` (or alias). */
  fault(id: string, spec: FaultSpec): void;
  /**
   * A token bucket for endpoint `id` (or alias): a call beyond it gets the endpoint's own throttle
   * answer (the `throttle` fault, recorded with `faultBy: "rateLimit"`) and reaches no handler.
   * Replaces the endpoint's earlier limit, starting full.
   */
  rateLimit(id: string, spec: RateLimitSpec): void;
  clearRateLimit(id?: string): void;
  /** Fail a fraction of endpoint `id`'s calls at random (recorded with `faultBy: "flaky"`). */
  flaky(id: string, spec: FlakySpec): void;
  clearFlaky(id?: string): void;
  /** Clears queued faults, rate limits and flaky settings, of `id` or of every endpoint. */
  clearFaults(id?: string): void;
  /** Request an emulated URL from this process, trusting the CA, without resolving any name. */
  request(url: string | URL, init?: ClientRequestInit): Promise<ClientResponse>;
  /** Stops everything and removes the temp dir; idempotent. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ca = await createCa();
  const dir = await mkdtemp(join(tmpdir(), "cloud-emulator-"));
  const caFile = join(dir, "ca.pem");
  const aborter = new AbortController();
  const sockets = new SocketBook();
  const router = new Router();
  const faults = new Faults();
  const limits = new RateLimits();
  const flaky = new Flaky();
  const ledger = new Ledger();
  const calls = new CallLog();
  const registry = new Registry(router);
  const dispatch = createDispatch({ router, faults, limits, flaky, ledger, calls, signal: aborter.signal });

  let stop: () => Promise<void> = async () => {
    aborter.abort();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(caFile, ca.caPem, { mode: 0o644 });
    const listeners = await startListeners({
      ca,
      dispatch,
      sockets,
      httpsPort: options.ports?.https,
      httpPort: options.ports?.http,
    });
    stop = async () => {
      aborter.abort();
      await listeners.close();
      await rm(dir, { recursive: true, force: true });
    };
    const proxy = await startProxy({ tls: listeners.https, dispatch, sockets, port: options.ports?.proxy });
    stop = async () => {
      aborter.abort();
      await closeServers([proxy.server], sockets);
      await listeners.close();
      await rm(dir, { recursive: true, force: true });
    };

    const apiServer = options.apiServerAddress
      ? await startApiServerListener(options.apiServerAddress, listeners.https, sockets)
      : undefined;
    if (apiServer) {
      const previous = stop;
      stop = async () => {
        await closeServers([apiServer.server], sockets);
        await previous();
      };
    }

    let closing: Promise<void> | undefined;
    const target = { httpsPort: listeners.httpsPort, httpPort: listeners.httpPort, caPem: ca.caPem };
    const proxyUrl = `http://${loopback}:${proxy.port}`;
    const emulator: Omit<Emulator, "example" | "aws" | "azure" | "google"> & {
      example?: ExampleCloud;
      aws?: AwsCloud;
      azure?: AzureCloud;
      google?: GoogleCloud;
    } = {
      httpsUrl: `https://${loopback}:${listeners.httpsPort}`,
      httpUrl: `http://${loopback}:${listeners.httpPort}`,
      proxyUrl,
      apiServerAddress: apiServer?.address,
      caPem: ca.caPem,
      caFile,
      dir,
      registry,
      env: () => ({ HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl, NODE_EXTRA_CA_CERTS: caFile }),
      route: (spec, handler) => router.add(spec, handler),
      routes: () => router.list(),
      calls: (id) => calls.count(id),
      callCounts: () => calls.counts(),
      requests: (id) => calls.calls(id),
      tunnels: () => [...proxy.tunnels],
      connections: () => sockets.connections(),
      issueSecret: (prefix) => ledger.issueSecret(prefix),
      issued: () => ledger.issued(),
      fault: (id, spec) => faults.add(id, spec),
      rateLimit: (id, spec) => limits.set(id, spec),
      clearRateLimit: (id) => limits.clear(id),
      flaky: (id, spec) => flaky.set(id, spec),
      clearFlaky: (id) => flaky.clear(id),
      clearFaults: (id) => {
        faults.clear(id);
        limits.clear(id);
        flaky.clear(id);
      },
      request: (url, init) => _request(target, url, init),
      close: () => {
        closing ??= stop();
        return closing;
      },
    };
    emulator.example = await installExampleCloud(emulator, options.example);
    emulator.aws = installAwsCloud(emulator, options.aws);
    emulator.azure = installAzureCloud(emulator, options.azure);
    emulator.google = installGoogleCloud(emulator, options.google);
    return emulator as Emulator;
  } catch (error) {
    await stop();
    throw error;
  }
}
