/**
 * AKS identity bindings: `POST https://<API server name>/` with a service account token bound to
 * an application, answered with an Entra token the ACR exchange takes; and the API server
 * address, where the TLS listener also answers on port 443 (root only, as binding 443 needs it).
 */
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../index.ts";
import { startEmulator } from "../index.ts";

const SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";
const root = process.getuid?.() === 0;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator(root ? { apiServerAddress: "random" } : {});
});
afterAll(() => emulator?.close());

const form = (fields: Record<string, string>) =>
  new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    scope: "https://containerregistry.azure.net/.default",
    ...fields,
  }).toString();

const post = (body: string) =>
  emulator.request(`https://${SNI}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });

describe("identity bindings", () => {
  it("a bound token gets an Entra token for the scope, which the ACR exchange takes", async () => {
    const clientId = randomUUID();
    const token = emulator.azure.issueFederatedToken(clientId);
    const response = await post(form({ client_id: clientId, client_assertion: token }));
    expect(response.status).toBe(200);
    const body = response.json() as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(3599);
    expect(emulator.azure.accessToken(body.access_token)).toMatchObject({
      audience: "https://containerregistry.azure.net",
      principal: { clientId },
    });
    expect(emulator.azure.tokenCalls("identity-bindings").at(-1)).toMatchObject({
      host: SNI,
      clientId,
      outcome: "ok",
    });
  });

  it.each([
    [
      "another application's token",
      (token: string) => ({ client_id: randomUUID(), client_assertion: token }),
      401,
      "invalid_client",
    ],
    ["no client id", (token: string) => ({ client_assertion: token }), 401, "invalid_client"],
    [
      "a scope without /.default",
      (token: string) => ({
        client_id: "x",
        client_assertion: token,
        scope: "https://containerregistry.azure.net",
      }),
      400,
      "invalid_scope",
    ],
  ])("%s: refused with the OAuth error", async (_name, fields, status, error) => {
    const token = emulator.azure.issueFederatedToken(randomUUID());
    const response = await post(form(fields(token)));
    expect(response.status).toBe(status);
    expect((response.json() as { error: string }).error).toBe(error);
  });

  it.skipIf(!root)(
    "the TLS listener answers on the API server address at port 443, by SNI name",
    async () => {
      const clientId = randomUUID();
      const token = emulator.azure.issueFederatedToken(clientId);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: emulator.apiServerAddress,
            port: 443,
            servername: SNI,
            ca: emulator.caPem,
            method: "POST",
            path: "/",
            headers: { host: SNI, "content-type": "application/x-www-form-urlencoded" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(form({ client_id: clientId, client_assertion: token }));
      });
      expect(status).toBe(200);
      expect(emulator.apiServerAddress).toMatch(/^127\.\d+\.\d+\.1$/);
    },
  );
});
