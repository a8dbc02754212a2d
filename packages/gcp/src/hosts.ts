/**
 * Which registry hosts are Google's: Container Registry (`gcr.io` and its regional hosts
 * `<label>.gcr.io`), Artifact Registry (`<label>.pkg.dev`, e.g. `us-docker.pkg.dev`) and
 * `container.cloud.google.com`, the hosts the Go plugin's matchImages list.
 *
 * The match is exact after lower-casing, one DNS label where the kubelet's pattern has a `*` (as
 * `*` never crosses a dot in matchImages): a port, user information, a deeper subdomain or any
 * host that merely contains a Google host (`gcr.io.evil.example`, `evil-gcr.io`) is not a Google
 * registry. No Google token is ever requested for, and no credential handed out to, a host this
 * module does not recognise.
 */

/** The matchImages GKE configures for the Go plugin. */
export const GCP_MATCH_IMAGES = ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"] as const;

/** What kind of Google registry a host is. */
export type GoogleRegistryKind = "Container Registry" | "Artifact Registry";

export interface GoogleRegistry {
  /** The host, lower-cased: the answer's key. */
  host: string;
  kind: GoogleRegistryKind;
}

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const GOOGLE_REGISTRY = new RegExp(
  `^(?:gcr\\.io|${LABEL}\\.gcr\\.io|${LABEL}\\.pkg\\.dev|container\\.cloud\\.google\\.com)$`,
);

/**
 * Parses a registry host (`host[:port]` as in an image reference) into a Google registry, or
 * undefined when it is not one. Case is ignored; the returned `host` is lower-case.
 *
 * ```ts
 * parseGoogleRegistry("us-docker.pkg.dev")     // { host: "us-docker.pkg.dev", kind: "Artifact Registry" }
 * parseGoogleRegistry("EU.gcr.io")             // { host: "eu.gcr.io", kind: "Container Registry" }
 * parseGoogleRegistry("gcr.io:443")            // undefined: Google registries have no port
 * parseGoogleRegistry("gcr.io.evil.example")   // undefined
 * ```
 */
export function parseGoogleRegistry(host: string): GoogleRegistry | undefined {
  if (typeof host !== "string" || host.length > 253) return undefined;
  const lower = host.toLowerCase();
  if (!GOOGLE_REGISTRY.test(lower)) return undefined;
  return { host: lower, kind: lower.endsWith(".pkg.dev") ? "Artifact Registry" : "Container Registry" };
}

/** A one-line description for logs. */
export function describeGoogleRegistry(registry: GoogleRegistry): string {
  return `${registry.kind} ${registry.host}`;
}
