/**
 * Run as a child process by proxy.process.test.ts: one GET with core's HTTP client, configured
 * only by the environment (HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS), as on a node.
 */
import { createHttpClient } from "../src/http.ts";

const url = process.argv[2] as string;
try {
  const response = await createHttpClient({ userAgent: "proxy-test/1.0" }).request(url, {
    maxAttempts: 1,
  });
  process.stdout.write(`${response.status} ${response.text()}`);
} catch (error) {
  process.stdout.write(`error: ${(error as Error).message}`);
}
