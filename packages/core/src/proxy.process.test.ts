/**
 * HTTPS through a corporate proxy, as on a node: a child process whose only configuration is
 * HTTPS_PROXY and NODE_EXTRA_CA_CERTS reaches a "real" registry hostname over a CONNECT tunnel and
 * verifies the server's certificate against the extra CA.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestProxy } from "../testdata/connect-proxy.ts";
import { startConnectProxy } from "../testdata/connect-proxy.ts";
import { createTestCa } from "../testdata/tls.ts";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../testdata/https-get.ts", import.meta.url));
let dir: string;
let caFile: string;
let proxy: TestProxy;
let closeServer: () => Promise<void>;

beforeAll(async () => {
  const ca = await createTestCa();
  const { cert, key } = await ca.issue(["myregistry.azurecr.io"]);
  dir = mkdtempSync(join(tmpdir(), "kcp-proxy-"));
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.caPem);
  const server = createServer({ cert, key }, (req, res) =>
    res.end(`hello from ${req.headers.host}${req.url}`),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closeServer = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  proxy = await startConnectProxy((server.address() as AddressInfo).port);
});
afterAll(async () => {
  await proxy?.close();
  await closeServer?.();
  // NO_PROXY is covered by proxyForUrl's tests: a direct connection to a registry name would need
  // DNS beyond this machine.
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [script, url], { env: { PATH: process.env.PATH, ...env } });
  return stdout;
}

describe("HTTPS_PROXY and NODE_EXTRA_CA_CERTS", () => {
  it("tunnels to a registry hostname and trusts the extra CA", async () => {
    const out = await get("https://myregistry.azurecr.io/v2/", {
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: caFile,
    });
    expect(out).toBe("200 hello from myregistry.azurecr.io/v2/");
    expect(proxy.tunnels).toContain("myregistry.azurecr.io:443");
  });

  it("refuses the server without the extra CA", async () => {
    const out = await get("https://myregistry.azurecr.io/v2/", { HTTPS_PROXY: proxy.url });
    expect(out).toMatch(/^error: .* failed TLS verification: the certificate is not trusted \(/);
  });

  it("refuses a certificate for another name", async () => {
    const out = await get("https://other.azurecr.io/v2/", {
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: caFile,
    });
    expect(out).toMatch(
      /^error: .* failed TLS verification: the certificate does not match the host name \(ERR_TLS_CERT_ALTNAME_INVALID; /,
    );
  });
});
