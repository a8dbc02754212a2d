/**
 * A throwaway certificate authority for TLS tests: generated per run, never committed, so no
 * private key lives in the repository.
 */
import { KeyObject, webcrypto } from "node:crypto";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface TestCa {
  caPem: string;
  /** A server certificate and key for these DNS names, signed by the CA. */
  issue(names: string[]): Promise<{ cert: string; key: string }>;
  /**
   * A client certificate and key with this common name and organizations, as the API server reads
   * a user (CN) and groups (O) from one.
   */
  issueClient(commonName: string, organizations?: string[]): Promise<{ cert: string; key: string }>;
}

export async function createTestCa(): Promise<TestCa> {
  // Our lib settings leave out the DOM typings that @peculiar/x509 declares its parameters with.
  x509.cryptoProvider.set(webcrypto as never);
  const caKeys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=kubelet-credential-providers test CA",
    keys: caKeys as never,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leaf = async (subject: string, extensions: x509.Extension[]) => {
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: ca.subject,
      publicKey: keys.publicKey as never,
      signingKey: caKeys.privateKey as never,
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      extensions,
    });
    const key = KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }) as string;
    return { cert: cert.toString("pem"), key };
  };
  return {
    caPem: ca.toString("pem"),
    issue: (names) =>
      leaf(`CN=${names[0]}`, [
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
        new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"]),
      ]),
    issueClient: (commonName, organizations = []) =>
      leaf([...organizations.map((o) => `O=${o}`), `CN=${commonName}`].join(", "), [
        new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"]),
      ]),
  };
}
