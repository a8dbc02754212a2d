/**
 * The command line of the Go `auth-provider-gcp`, with its rules: the verb `get-credentials`
 * first (a cobra subcommand upstream), `--authFlow` (`-a`) one of `gcr`, `dockercfg`,
 * `dockercfg-url`, case-sensitive, default `gcr`; `--identity-provider` only with `--project-id`.
 * This provider's own additions (`--workload-identity-provider`, `--impersonate-service-account`)
 * are checked here too, so that a misconfigured node fails at its first pull with a usage error.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";

export const GCR_AUTH_FLOW = "gcr";
export const DOCKERCFG_AUTH_FLOW = "dockercfg";
export const DOCKERCFG_URL_AUTH_FLOW = "dockercfg-url";

/** The upstream verb, required as the first argument. */
export const GET_CREDENTIALS = "get-credentials";

export const AUTH_FLOWS = [GCR_AUTH_FLOW, DOCKERCFG_AUTH_FLOW, DOCKERCFG_URL_AUTH_FLOW] as const;
export type AuthFlow = (typeof AUTH_FLOWS)[number];

export const flags = {
  authFlow: {
    type: "string",
    short: "a",
    placeholder: "FLOW",
    description: `Authentication flow: ${AUTH_FLOWS.join(", ")} (case-sensitive; default ${GCR_AUTH_FLOW})`,
  },
  "identity-provider": {
    type: "string",
    placeholder: "URL",
    description:
      "GKE workload identity image pulls: the cluster's identity provider (https://container.googleapis.com/v1/projects/P/locations/L/clusters/C); needs --project-id",
  },
  "project-id": {
    type: "string",
    placeholder: "ID",
    description:
      "GKE workload identity image pulls: the project whose workload identity pool (<ID>.svc.id.goog) is used",
  },
  "workload-identity-provider": {
    type: "string",
    placeholder: "RESOURCE",
    description:
      "Outside GKE: exchange the pod's service account token at this workload identity pool provider (//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R)",
  },
  "impersonate-service-account": {
    type: "string",
    placeholder: "EMAIL",
    description:
      "gcr flow: answer with a token of this service account, obtained with the node's credentials",
  },
} as const;

/** The provider's own flags (besides the built-in --help, --version, -v and --deadline). */
export type GcpFlags = typeof flags;

/** The flag values as parsed by the harness. */
export interface RawGcpOptions {
  authFlow?: string | undefined;
  "identity-provider"?: string | undefined;
  "project-id"?: string | undefined;
  "workload-identity-provider"?: string | undefined;
  "impersonate-service-account"?: string | undefined;
}

/** The flags, checked. */
export interface GcpOptions {
  authFlow: AuthFlow;
  /** GKE workload identity: the cluster's identity provider, with `projectId`. */
  identityProvider?: string;
  projectId?: string;
  /** Outside GKE: the workload identity pool provider resource. */
  workloadIdentityProvider?: string;
  /** The service account to impersonate with the node's credentials. */
  impersonateServiceAccount?: string;
}

/** `//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>` */
export const WORKLOAD_IDENTITY_PROVIDER =
  /^\/\/iam\.googleapis\.com\/projects\/\d{1,30}\/locations\/global\/workloadIdentityPools\/[a-z0-9][a-z0-9-]{0,62}\/providers\/[a-z0-9][a-z0-9-]{0,62}$/;

/** A service account email, loosely: `name@project.iam.gserviceaccount.com` and the like. */
export const SERVICE_ACCOUNT_EMAIL = /^[A-Za-z0-9._%+-]{1,100}@[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,63}$/;

const usage = (message: string) => new CredentialProviderError("USAGE", message);

/**
 * Checks the verb and the flags, as the Go plugin's cobra command and `validateFlags` do.
 *
 * @throws CredentialProviderError `USAGE`
 */
export function validateOptions(
  raw: RawGcpOptions,
  positionals: readonly string[] = [GET_CREDENTIALS],
): GcpOptions {
  const verb = positionals[0];
  if (verb === undefined) {
    throw usage(`missing command: run as "auth-provider-gcp ${GET_CREDENTIALS} [flags]" (see --help)`);
  }
  if (verb !== GET_CREDENTIALS) {
    throw usage(
      `unknown command ${_quote(verb)} for "auth-provider-gcp": the only command is ${GET_CREDENTIALS}`,
    );
  }

  const flow = raw.authFlow ?? GCR_AUTH_FLOW;
  if (!(AUTH_FLOWS as readonly string[]).includes(flow)) {
    throw usage(
      `invalid value ${_quote(flow)} for authFlow (must be one of ${AUTH_FLOWS.map((f) => JSON.stringify(f)).join(", ")}; case-sensitive)`,
    );
  }
  const authFlow = flow as AuthFlow;

  const identityProvider = raw["identity-provider"];
  const projectId = raw["project-id"];
  const workloadIdentityProvider = raw["workload-identity-provider"];
  const impersonate = raw["impersonate-service-account"];

  if (identityProvider !== undefined) {
    if (identityProvider === "" || /\s/.test(identityProvider)) {
      throw usage(
        `--identity-provider ${_quote(identityProvider)} must be the cluster's identity provider URL`,
      );
    }
    if (projectId === undefined || projectId === "") {
      throw usage("--identity-provider needs --project-id: the project whose workload identity pool is used");
    }
  }
  if (
    projectId !== undefined &&
    !/^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(projectId)
  ) {
    throw usage(`--project-id ${_quote(projectId)} is not a Google Cloud project id (e.g. my-project)`);
  }
  if (workloadIdentityProvider !== undefined) {
    if (!WORKLOAD_IDENTITY_PROVIDER.test(workloadIdentityProvider)) {
      throw usage(
        `--workload-identity-provider ${_quote(workloadIdentityProvider)} must be //iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`,
      );
    }
    if (identityProvider !== undefined) {
      throw usage(
        "--workload-identity-provider (clusters outside GKE) and --identity-provider (GKE) exclude each other",
      );
    }
    if (authFlow !== GCR_AUTH_FLOW)
      throw usage(`--workload-identity-provider needs --authFlow ${GCR_AUTH_FLOW}`);
  }
  if (impersonate !== undefined) {
    if (!SERVICE_ACCOUNT_EMAIL.test(impersonate)) {
      throw usage(`--impersonate-service-account ${_quote(impersonate)} is not a service account email`);
    }
    if (authFlow !== GCR_AUTH_FLOW)
      throw usage(`--impersonate-service-account needs --authFlow ${GCR_AUTH_FLOW}`);
  }

  return {
    authFlow,
    ...(identityProvider !== undefined && { identityProvider }),
    ...(projectId !== undefined && { projectId }),
    ...(workloadIdentityProvider !== undefined && { workloadIdentityProvider }),
    ...(impersonate !== undefined && { impersonateServiceAccount: impersonate }),
  };
}

function _quote(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}
