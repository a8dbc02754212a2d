/**
 * Service principal certificate files for the unit tests, made at run time so that no private key
 * lives in the repository: a PEM with certificate and key, the same with the key encrypted
 * (password `test-cert-password`), the certificate alone, and a binary (DER) file standing in for
 * the PKCS#12 / DER files that @azure/identity cannot read.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSelfSigned } from "../../ecr/testdata/self-signed.ts";

export const CERT_PASSWORD = "test-cert-password";

export interface CertificateFixtures {
  PEM: string;
  ENCRYPTED: string;
  PFX: string;
  CERT_ONLY: string;
}

export function writeCertificateFixtures(): CertificateFixtures {
  const dir = mkdtempSync(join(tmpdir(), "acr-certs-"));
  const { cert, key } = createSelfSigned(["sp.example"]);
  const encrypted = createPrivateKey(key).export({
    type: "pkcs8",
    format: "pem",
    cipher: "aes-256-cbc",
    passphrase: CERT_PASSWORD,
  });
  const files: CertificateFixtures = {
    PEM: join(dir, "sp-cert.pem"),
    ENCRYPTED: join(dir, "sp-cert-encrypted.pem"),
    PFX: join(dir, "sp-cert.pfx"),
    CERT_ONLY: join(dir, "cert-only.pem"),
  };
  writeFileSync(files.PEM, `${cert}${key}`, { mode: 0o600 });
  writeFileSync(files.ENCRYPTED, `${cert}${String(encrypted)}`, { mode: 0o600 });
  writeFileSync(files.PFX, new X509Certificate(cert).raw);
  writeFileSync(files.CERT_ONLY, cert);
  return files;
}
