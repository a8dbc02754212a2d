/**
 * The named differences: every way ours answers a differential scenario otherwise than upstream's
 * Go plugin, each with its reason. A difference in a field of a scenario that no entry names fails
 * the differential test; an entry that no run needed fails it too (so the table cannot go stale).
 * Scenario ids of flag probes are `flags/<plugin>/<spelling>`. An entry whose name starts with
 * "Gap:" is a difference ours should not have: kept visible here and in docs/compatibility.md.
 */
import type { Field } from "./upstream-run.ts";

/** `args`: an input only ours gets; `flag`: a flag spelling only one side accepts. */
export type DifferenceField = Field | "args" | "flag";

export interface NamedDifference {
  name: string;
  /** Scenario ids it covers. */
  scenarios: RegExp;
  fields: DifferenceField[];
  reason: string;
}

const ALL: DifferenceField[] = ["exit", "answer", "stderr", "calls"];

export const DIFFERENCES: NamedDifference[] = [
  {
    name: "the error line",
    scenarios:
      /^(ecr|acr|gcp)\/(malformed-json|empty-stdin)$|^acr\/ib-(without-apiserver-ip|sni-with-scheme)$/,
    fields: ["stderr"],
    reason:
      "On failure ours writes one plain line, `<plugin>: <reason>`, which the kubelet quotes in its event; " +
      "upstream writes klog error lines (GCP: cobra's `Error:` and its usage). The exit status is 1 on both.",
  },
  {
    name: "quiet success",
    scenarios:
      /^ecr\/(private|two-images-args|public|instance-role|service-account-annotation|service-account-env-role)$/,
    fields: ["stderr"],
    reason:
      "Upstream ECR logs an info line on every success at the default verbosity; ours logs nothing unless -v asks.",
  },
  {
    name: "every request version",
    scenarios: /^(ecr\/private|acr\/managed-identity|gcp\/gcr)-v1(alpha1|beta1)$/,
    fields: ALL,
    reason:
      "Ours serves every CredentialProviderRequest version a supported kubelet may send (v1alpha1, v1beta1, v1) " +
      "and answers in the request's version. Upstream ECR and ACR refuse all but v1 " +
      "(`group version ... is not supported`, exit 1, no call); upstream GCP answers v1 to any version.",
  },
  {
    name: "a refused foreign host (ECR)",
    scenarios: /^ecr\/(foreign-host|look-alike-host)$/,
    fields: ALL,
    reason:
      "Ours refuses an image whose host is not an ECR or ECR Public registry name, with no cloud call; " +
      "upstream asks ECR (in AWS_REGION) and keys the node's ECR token under the foreign host, " +
      "handing it to whatever registry that is.",
  },
  {
    name: "a refused foreign host (ACR)",
    scenarios: /^acr\/(foreign-host|look-alike-host)$/,
    fields: ALL,
    reason:
      "Ours refuses an image whose host is not an ACR login server (`*.azurecr.io/.cn/.de/.us`, geo-replicas) " +
      "with exit 1 and no call. Upstream answers a foreign host with exit 0 and an empty answer, " +
      "but a look-alike host (`myregistry.azurecr.io.evil.example.com`) gets a refresh token for the " +
      "login server it starts with.",
  },
  {
    name: "a refused foreign host (GCP)",
    scenarios: /^gcp\/(foreign-host|look-alike-host)$/,
    fields: ALL,
    reason:
      "Ours refuses an image whose host is not a Google registry (`gcr.io`, `*.gcr.io`, `*.pkg.dev`, " +
      "`container.cloud.google.com`) with exit 1 and no call; upstream ignores the image and answers the " +
      "node's token under its four registry patterns.",
  },
  {
    name: "ACR answer: the login server only, half the token's life",
    scenarios:
      /^acr\/(managed-identity-system|managed-identity-user-assigned|service-account|registry-mirror|registry-mirror-short|ib-annotation-client|ib-default-client)$/,
    fields: ["answer"],
    reason:
      "Ours keys the refresh token under the login server (and a mirror's source) only, and caches it for half " +
      "its remaining validity (ACR's 3 h: 1h30m); upstream adds a blank `*.azurecr.*` entry and a fixed 1h.",
  },
  {
    name: "ACR calls: challenge first, the configured endpoints",
    scenarios:
      /^acr\/(managed-identity-system|managed-identity-user-assigned|service-account|registry-mirror|registry-mirror-short|ib-annotation-client|ib-default-client)$/,
    fields: ["calls"],
    reason:
      "Ours asks the registry's challenge (`/v2/`) first, to check it is an ACR login server and learn its " +
      "realm, then gets the Entra token; upstream gets the token first. Ours reaches IMDS at " +
      "AZURE_POD_IDENTITY_AUTHORITY_HOST (as @azure/identity does; given to both, upstream's Go MSAL ignores it " +
      "and dials 169.254.169.254); with a client assertion upstream's MSAL also reads Entra's instance " +
      "discovery and OpenID configuration, ours goes to the token endpoint directly.",
  },
  {
    name: "ACR service principal: exchanged, never handed out",
    scenarios: /^acr\/service-principal$/,
    fields: ["answer", "calls"],
    reason:
      "With useManagedIdentityExtension false upstream answers aadClientId/aadClientSecret as username/password " +
      "for `*.azurecr.io/.cn/.de/.us`, with no call: the client secret goes to the container runtime and every " +
      "registry. Ours exchanges the service principal's Entra token for an ACR refresh token of the image's " +
      "login server; the client secret never leaves the node.",
  },
  {
    name: "--ib-ca-file",
    scenarios: /^acr\/ib-(annotation-client|default-client)$/,
    fields: ["args"],
    reason:
      "Upstream trusts only the fixed /etc/kubernetes/certs/ca.crt for the API server (the test gives it the " +
      "emulator's CA there in a private mount namespace); ours reads the same path by default and takes " +
      "--ib-ca-file to name another, which the test uses instead of touching /etc.",
  },
  {
    name: "GCP gcr answer: the image's registry, half the token's life",
    scenarios: /^gcp\/gcr-(artifact-registry|container-registry)$/,
    fields: ["answer"],
    reason:
      "Ours keys the token under the image's registry host, username `oauth2accesstoken`, cacheKeyType Registry, " +
      "for half its remaining validity; upstream answers it under `*.gcr.io`, `*.pkg.dev`, " +
      "`container.cloud.google.com` and `gcr.io`, username `_token`, cacheKeyType Image and cacheDuration 0s " +
      "(not cached: the kubelet runs the plugin for every pull).",
  },
  {
    name: "GCP metadata: GCE_METADATA_HOST, the token only",
    scenarios: /^gcp\/(gcr-artifact-registry|gcr-container-registry|dockercfg)$/,
    fields: ["calls"],
    reason:
      "Both get GCE_METADATA_HOST; ours honours it as Google's client libraries do, upstream ignores it and " +
      "reaches metadata.google.internal. through HTTP_PROXY: the same endpoints, another address. Upstream also " +
      "reads the service account's email after the token; ours does not need it.",
  },
  {
    name: "GCP dockercfg answer: registry hosts",
    scenarios: /^gcp\/dockercfg$/,
    fields: ["answer"],
    reason:
      "Ours keys each dockercfg entry under its registry host (`https://us-docker.pkg.dev` becomes " +
      "`us-docker.pkg.dev`), cacheKeyType Registry and no cacheDuration (the kubelet's default); upstream keys " +
      "the entry as written, cacheKeyType Image and 0s.",
  },
  {
    name: "GCP metadata outage: an error, after retries",
    scenarios: /^gcp\/metadata-outage$/,
    fields: ALL,
    reason:
      "Ours retries the metadata server's 503s until its deadline, then fails with exit 1 and one line, so the " +
      "kubelet retries the pull later; upstream tries once, logs the error and answers exit 0 with no " +
      "credentials, so the pull goes ahead without any.",
  },
];

export function explain(scenario: string, field: DifferenceField): NamedDifference | undefined {
  return DIFFERENCES.find((d) => d.scenarios.test(scenario) && d.fields.includes(field));
}
