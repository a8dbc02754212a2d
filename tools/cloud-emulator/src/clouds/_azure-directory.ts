/**
 * What Entra ID and IMDS know: tenants, the applications a test registered with their secrets,
 * certificates and trusted federated tokens, and the node's managed identities. Only what is
 * registered here is accepted, so a test decides exactly which identity can get a token.
 */
import type { KeyObject } from "node:crypto";
import { createHash, randomUUID, webcrypto, X509Certificate } from "node:crypto";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { AzurePrincipal } from "./_azure-tokens.ts";

export interface ClientCertificate {
  /** Certificate then private key in one PEM file (mode 0600), as azure.json's aadClientCertPath. */
  certPemPath: string;
  certPem: string;
  keyPem: string;
  /** SHA-1 of the DER certificate, upper-case hex, as the portal shows it. */
  thumbprint: string;
  /** The JWT header values that name it: base64url SHA-1 and SHA-256 of the DER certificate. */
  x5t: string;
  x5tS256: string;
}

export interface _RegisteredCertificate {
  thumbprint: string;
  x5t: string;
  x5tS256: string;
  publicKey: KeyObject;
}

export interface Application {
  tenantId: string;
  principal: AzurePrincipal;
  secrets: Set<string>;
  certificates: _RegisteredCertificate[];
  federatedTokens: Set<string>;
}

export interface ManagedIdentity {
  kind: "system-assigned" | "user-assigned";
  clientId: string;
  objectId: string;
  /** User-assigned only: `/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`. */
  resourceId?: string;
}

const _rsa = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]) };

export class Directory {
  readonly defaultTenant: string;
  readonly #tenants = new Set<string>();
  readonly #apps = new Map<string, Application>();
  #system: ManagedIdentity | undefined;
  readonly #userAssigned: ManagedIdentity[] = [];

  constructor(defaultTenant: string) {
    this.defaultTenant = defaultTenant.toLowerCase();
    this.#tenants.add(this.defaultTenant);
  }

  hasTenant(tenantId: string): boolean {
    return this.#tenants.has(tenantId.toLowerCase());
  }

  app(clientId: string, tenantId: string): Application | undefined {
    return this.#apps.get(_appKey(clientId, tenantId));
  }

  /** The application `clientId` in `tenantId`, registered on first mention. */
  ensureApp(clientId: string, tenantId = this.defaultTenant): Application {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) {
      throw new Error(`an Entra client id is a GUID, got ${JSON.stringify(clientId)}`);
    }
    const tenant = tenantId.toLowerCase();
    this.#tenants.add(tenant);
    const key = _appKey(clientId, tenant);
    let app = this.#apps.get(key);
    if (!app) {
      app = {
        tenantId: tenant,
        principal: { kind: "application", clientId: clientId.toLowerCase(), objectId: randomUUID() },
        secrets: new Set(),
        certificates: [],
        federatedTokens: new Set(),
      };
      this.#apps.set(key, app);
    }
    return app;
  }

  /** A fresh RSA certificate for the app; its key signs client assertions in the test or provider. */
  async addCertificate(app: Application): Promise<Omit<ClientCertificate, "certPemPath">> {
    x509.cryptoProvider.set(webcrypto as never);
    const keys = await webcrypto.subtle.generateKey({ ..._rsa, modulusLength: 2048 }, true, [
      "sign",
      "verify",
    ]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${app.principal.clientId}`,
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8)))
        .toString("hex")
        .replace(/^./, "1"),
      keys: keys as never,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
      signingAlgorithm: _rsa,
    });
    // @peculiar/x509 ends the PEM without a newline; the key follows it in one file.
    const certPem = `${cert.toString("pem").trimEnd()}\n`;
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").trimEnd()}\n-----END PRIVATE KEY-----\n`;
    const der = Buffer.from(cert.rawData);
    const registered: _RegisteredCertificate = {
      thumbprint: createHash("sha1").update(der).digest("hex").toUpperCase(),
      x5t: createHash("sha1").update(der).digest("base64url"),
      x5tS256: createHash("sha256").update(der).digest("base64url"),
      publicKey: new X509Certificate(certPem).publicKey,
    };
    app.certificates.push(registered);
    const { thumbprint, x5t, x5tS256 } = registered;
    return { certPem, keyPem, thumbprint, x5t, x5tS256 };
  }

  /** Register the system-assigned identity (no ids) or a user-assigned one. */
  addManagedIdentity(options: { clientId?: string; resourceId?: string }): ManagedIdentity {
    if (options.clientId === undefined && options.resourceId === undefined) {
      this.#system ??= { kind: "system-assigned", clientId: randomUUID(), objectId: randomUUID() };
      return { ...this.#system };
    }
    const clientId = (options.clientId ?? randomUUID()).toLowerCase();
    const name = `identity-${clientId.slice(0, 8)}`;
    const resourceId =
      options.resourceId ??
      `/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/MC_emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
    const known = this.#userAssigned.find(
      (mi) => mi.clientId === clientId || mi.resourceId?.toLowerCase() === resourceId.toLowerCase(),
    );
    if (known) return { ...known };
    const identity: ManagedIdentity = { kind: "user-assigned", clientId, objectId: randomUUID(), resourceId };
    this.#userAssigned.push(identity);
    return { ...identity };
  }

  /**
   * The identity IMDS answers for: the one the selector names, else the system-assigned one, else
   * the only user-assigned one (as IMDS does); a string says why there is none.
   */
  managedIdentity(selector: {
    clientId?: string;
    objectId?: string;
    resourceId?: string;
  }): ManagedIdentity | string {
    const all = [...(this.#system ? [this.#system] : []), ...this.#userAssigned];
    if (selector.clientId !== undefined) {
      return all.find((mi) => mi.clientId === selector.clientId?.toLowerCase()) ?? "Identity not found";
    }
    if (selector.objectId !== undefined) {
      return all.find((mi) => mi.objectId === selector.objectId?.toLowerCase()) ?? "Identity not found";
    }
    if (selector.resourceId !== undefined) {
      const wanted = selector.resourceId.toLowerCase();
      return this.#userAssigned.find((mi) => mi.resourceId?.toLowerCase() === wanted) ?? "Identity not found";
    }
    if (this.#system) return this.#system;
    if (this.#userAssigned.length === 1) return this.#userAssigned[0] as ManagedIdentity;
    return this.#userAssigned.length === 0
      ? "Identity not found"
      : "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request";
  }
}

const _appKey = (clientId: string, tenantId: string) =>
  `${tenantId.toLowerCase()}\0${clientId.toLowerCase()}`;
