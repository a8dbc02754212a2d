/**
 * The emulator's certificate authority: generated at every start and never written anywhere but
 * the emulator's temp dir, so no private key lives in the repository. Leaf certificates are issued
 * on the fly for whatever name a client asks for by SNI, as a corporate TLS-inspecting proxy does.
 */
import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import type { SecureContext } from "node:tls";
import { createSecureContext } from "node:tls";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const _algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
// Wide enough for a long CLI session; the CA dies with the emulator anyway.
const _validityMs = 30 * 24 * 3600_000;
// Hostnames only: an SNI value is client input, and a name we cannot put in a SAN is a handshake
// failure, not a certificate with a surprising subject.
const _hostnamePattern =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export interface LeafCertificate {
  cert: string;
  key: string;
}

export interface EmulatorCa {
  readonly caPem: string;
  /** A leaf for these names (DNS names or IP addresses), signed by the CA. */
  issue(names: readonly string[]): Promise<LeafCertificate>;
  /** The TLS context for one SNI name, issued on first use and cached. */
  contextFor(servername: string): Promise<SecureContext>;
}

export async function createCa(): Promise<EmulatorCa> {
  // Our lib settings leave out the DOM typings that @peculiar/x509 declares its parameters with.
  x509.cryptoProvider.set(webcrypto as never);
  const caKeys = await webcrypto.subtle.generateKey(_algorithm, true, ["sign", "verify"]);
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + _validityMs);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=kubelet-credential-providers cloud emulator CA",
    serialNumber: _serial(),
    keys: caKeys as never,
    notBefore,
    notAfter,
    signingAlgorithm: _algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as never),
    ],
  });
  // Strict verifiers (OpenSSL's X509_STRICT, Python 3.13, Go) want the key identifiers linked.
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as never);
  const contexts = new Map<string, Promise<SecureContext>>();

  const issue = async (names: readonly string[]): Promise<LeafCertificate> => {
    const keys = await webcrypto.subtle.generateKey(_algorithm, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${names[0]}`,
      issuer: ca.subject,
      serialNumber: _serial(),
      publicKey: keys.publicKey as never,
      signingKey: caKeys.privateKey as never,
      notBefore,
      notAfter,
      signingAlgorithm: _algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((value) => ({ type: isIP(value) ? ("ip" as const) : ("dns" as const), value })),
        ),
        authorityKeyId,
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    const body = Buffer.from(pkcs8)
      .toString("base64")
      .replace(/(.{64})/g, "$1\n")
      .trimEnd();
    return {
      cert: cert.toString("pem"),
      key: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
    };
  };

  return {
    caPem: ca.toString("pem"),
    issue,
    contextFor(servername) {
      const name = servername.toLowerCase();
      if (!_hostnamePattern.test(name)) {
        return Promise.reject(new Error(`cloud emulator: ${JSON.stringify(servername)} is not a hostname`));
      }
      let context = contexts.get(name);
      if (!context) {
        context = issue([name]).then(({ cert, key }) => createSecureContext({ cert, key }));
        // A failed issuance is not cached, so a later handshake can try again.
        context.catch(() => contexts.delete(name));
        contexts.set(name, context);
      }
      return context;
    },
  };
}

/** Positive, random serials: browsers and Go reject duplicates from one issuer. */
function _serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}
