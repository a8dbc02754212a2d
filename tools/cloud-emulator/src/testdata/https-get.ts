/**
 * Run as a child process by the tests: one request with core's HTTP client, configured only by
 * the environment (HTTPS_PROXY, NODE_EXTRA_CA_CERTS), as a provider on a node behind a proxy.
 * Arguments: URL [METHOD [BODY [AUTHORIZATION]]]. Prints the status, the WWW-Authenticate header and the body, as JSON.
 */
import { createHttpClient } from "@kubelet-credential-provider/core";

const [url, method = "GET", body, authorization] = process.argv.slice(2) as [
  string,
  string?,
  string?,
  string?,
];
try {
  const response = await createHttpClient({ userAgent: "cloud-emulator-test/1.0" }).request(url, {
    method,
    maxAttempts: 1,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(authorization === undefined ? {} : { authorization }),
    },
    ...(body === undefined ? {} : { body }),
  });
  process.stdout.write(
    JSON.stringify({
      status: response.status,
      challenge: response.headers["www-authenticate"] ?? null,
      body: response.text(),
    }),
  );
} catch (error) {
  process.stdout.write(JSON.stringify({ error: (error as Error).message }));
}
