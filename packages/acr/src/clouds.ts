/**
 * The Azure clouds an `azure.json` can name, and what each one means for this provider: where
 * Entra ID issues tokens, which DNS suffix its registries' login servers carry, and the scope of
 * the Entra token that ACR exchanges for a refresh token.
 *
 * The scope: the Go plugin asks for `<audience>/.default`, the audience being the Azure SDK for
 * Go's `azcontainerregistry` service audience for the configured cloud. That package sets the
 * same audience, `https://containerregistry.azure.net`, for the public, China and US Government
 * clouds (ACR's Entra application has that identifier in every cloud), so the scope does not vary
 * by cloud; it is still kept per cloud here so that a cloud that differs is a one-line change.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";

export type AzureCloudName = "AzurePublicCloud" | "AzureChinaCloud" | "AzureUSGovernmentCloud";

export interface AzureCloud {
  name: AzureCloudName;
  /** The Entra ID authority host (`authorityHost` of every credential). */
  authorityHost: string;
  /** The DNS suffix of the cloud's ACR login servers, e.g. `azurecr.io`. */
  loginServerSuffix: string;
  /** The scope of the Entra token exchanged at the login server. */
  acrScope: string;
}

/** ACR's Entra audience, the same in every cloud the Go plugin supports (see the module comment). */
export const ACR_AUDIENCE = "https://containerregistry.azure.net";

export const AZURE_CLOUDS: Readonly<Record<AzureCloudName, AzureCloud>> = {
  AzurePublicCloud: {
    name: "AzurePublicCloud",
    authorityHost: "https://login.microsoftonline.com",
    loginServerSuffix: "azurecr.io",
    acrScope: `${ACR_AUDIENCE}/.default`,
  },
  AzureChinaCloud: {
    name: "AzureChinaCloud",
    authorityHost: "https://login.chinacloudapi.cn",
    loginServerSuffix: "azurecr.cn",
    acrScope: `${ACR_AUDIENCE}/.default`,
  },
  AzureUSGovernmentCloud: {
    name: "AzureUSGovernmentCloud",
    authorityHost: "https://login.microsoftonline.us",
    loginServerSuffix: "azurecr.us",
    acrScope: `${ACR_AUDIENCE}/.default`,
  },
};

// The names the Go cloud provider accepts for each cloud, upper-cased.
const ALIASES: ReadonlyMap<string, AzureCloudName> = new Map([
  ["", "AzurePublicCloud"],
  ["AZUREPUBLICCLOUD", "AzurePublicCloud"],
  ["AZURECLOUD", "AzurePublicCloud"],
  ["AZURECHINACLOUD", "AzureChinaCloud"],
  ["AZUREUSGOVERNMENTCLOUD", "AzureUSGovernmentCloud"],
  ["AZUREUSGOVERNMENT", "AzureUSGovernmentCloud"],
]);

/**
 * The cloud an `azure.json` `cloud` value names, case-insensitively; empty or absent is the public
 * cloud.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` for any other value.
 */
export function resolveCloud(value: string | undefined, file = "azure.json"): AzureCloud {
  const name = ALIASES.get((value ?? "").trim().toUpperCase());
  if (name === undefined) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `${file}: cloud ${JSON.stringify(String(value).slice(0, 100))} is not supported (AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud)`,
    );
  }
  return AZURE_CLOUDS[name];
}
