/**
 * Core's real HTTP client, as the harness creates it, with two test-only twists: every request
 * is recorded as the provider made it (URL, endpoint name, options), then sent to the fake AWS on
 * loopback instead of the URL's origin. So a test sees that each call the SDK, IMDS or STS makes
 * arrives at the run's `HttpClient`, and under which name, while core's real retries, size cap and
 * truncation checks run on real bytes. Waits between attempts return at once (no real sleeps).
 */
import type {
  HttpClient,
  HttpRequestOptions,
  Logger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { createHttpClient } from "@kubelet-credential-provider/core";

export interface RoutedCall {
  /** The URL the provider asked for, before routing. */
  url: string;
  method: string;
  endpoint: string;
  options: HttpRequestOptions;
}

export interface RoutedHttpOptions {
  /** Where every request really goes: the fake's `http://127.0.0.1:port`. */
  target: string;
  signal: AbortSignal;
  deadline: number;
  log: Logger;
  secrets: SecretRegistry;
  env: Readonly<Record<string, string | undefined>>;
  /** Caps core's attempts per request, so that a test of a persistent failure ends quickly. */
  maxAttempts?: number;
}

export function routedHttp(options: RoutedHttpOptions): { http: HttpClient; calls: RoutedCall[] } {
  const calls: RoutedCall[] = [];
  const real = createHttpClient({
    userAgent: "ecr-test",
    signal: options.signal,
    deadline: options.deadline,
    log: options.log,
    secrets: options.secrets,
    env: options.env,
    sleep: async () => {},
    random: () => 0,
  });
  const http: HttpClient = {
    request(input, requestOptions = {}) {
      const url = typeof input === "string" ? new URL(input) : input;
      calls.push({
        url: url.href,
        method: (requestOptions.method ?? "GET").toUpperCase(),
        endpoint: requestOptions.endpoint ?? "",
        options: requestOptions,
      });
      const routed = new URL(`${url.pathname}${url.search}`, options.target);
      return real.request(routed, {
        ...requestOptions,
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      });
    },
  };
  return { http, calls };
}
