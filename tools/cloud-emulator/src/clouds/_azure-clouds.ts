/**
 * The Azure clouds the ACR provider can be configured for, by the names azure.json uses: each
 * one's Entra ID authority names, its ACR login-server suffix, the token issuer and the audiences
 * an ACR of that cloud accepts in an exchanged access token.
 */

export type AzureCloudName =
  | "AzurePublicCloud"
  | "AzureChinaCloud"
  | "AzureUSGovernmentCloud"
  | "AzureGermanCloud";

export interface AzureCloudInfo {
  name: AzureCloudName;
  /** The authority host as azure.json's cloud selects it (AZURE_AUTHORITY_HOST's value). */
  authorityHost: string;
  /**
   * Every Entra name of the cloud: MSAL knows their aliases and may call one it prefers (for
   * China it calls login.partner.microsoftonline.cn when asked for login.chinacloudapi.cn).
   */
  entraHosts: readonly string[];
  /** `azurecr.io`, …: login servers are `<name>.<suffix>` and `<name>.<region>.geo.<suffix>`. */
  registrySuffix: string;
  /** The v1 access token issuer, before `<tenant>/`. */
  issuer: string;
  /**
   * Audiences (no trailing slash) ACR takes in an exchanged token: the container registry's own,
   * which azcontainerregistry v0.2 asks for in every cloud, and the cloud's Resource Manager ones
   * that older clients (azcontainerregistry v0.1, adal-based plugins) asked for.
   */
  acrAudiences: readonly string[];
}

/** The audience current clients request for ACR in every cloud (scope `<it>/.default`). */
export const acrAudience = "https://containerregistry.azure.net";

export const azureClouds: Readonly<Record<AzureCloudName, AzureCloudInfo>> = {
  AzurePublicCloud: {
    name: "AzurePublicCloud",
    authorityHost: "login.microsoftonline.com",
    entraHosts: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
    registrySuffix: "azurecr.io",
    issuer: "https://sts.windows.net/",
    acrAudiences: [acrAudience, "https://management.azure.com", "https://management.core.windows.net"],
  },
  AzureChinaCloud: {
    name: "AzureChinaCloud",
    authorityHost: "login.chinacloudapi.cn",
    entraHosts: ["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
    registrySuffix: "azurecr.cn",
    issuer: "https://sts.chinacloudapi.cn/",
    acrAudiences: [
      acrAudience,
      "https://management.chinacloudapi.cn",
      "https://management.core.chinacloudapi.cn",
    ],
  },
  AzureUSGovernmentCloud: {
    name: "AzureUSGovernmentCloud",
    authorityHost: "login.microsoftonline.us",
    entraHosts: ["login.microsoftonline.us", "login.usgovcloudapi.net"],
    registrySuffix: "azurecr.us",
    issuer: "https://login.microsoftonline.us/",
    acrAudiences: [
      acrAudience,
      "https://management.usgovcloudapi.net",
      "https://management.core.usgovcloudapi.net",
    ],
  },
  // Retired, but azurecr.de login servers are still matched by the plugin; MSAL does not know
  // this authority, so it fetches the OpenID configuration first.
  AzureGermanCloud: {
    name: "AzureGermanCloud",
    authorityHost: "login.microsoftonline.de",
    entraHosts: ["login.microsoftonline.de"],
    registrySuffix: "azurecr.de",
    issuer: "https://sts.microsoftonline.de/",
    acrAudiences: [
      acrAudience,
      "https://management.microsoftazure.de",
      "https://management.core.cloudapi.de",
    ],
  },
};

export const azureCloudNames = Object.keys(azureClouds) as AzureCloudName[];

export function cloudOfEntraHost(host: string): AzureCloudInfo | undefined {
  return Object.values(azureClouds).find((cloud) => cloud.entraHosts.includes(host));
}

// ACR names are alphanumeric; a domain-name-label-scoped one adds `-<hash>`. Data endpoints
// (`<name>.<region>.data.azurecr.io`) are not login servers and stay unserved.
const _loginServer = (suffix: string) =>
  new RegExp(`^[a-z0-9]+(?:-[a-z0-9]+)*(?:\\.[a-z0-9]+\\.geo)?\\.${suffix.replace(/\./g, "\\.")}$`);

/** One pattern per cloud, for routes: `<name>.<suffix>` and `<name>.<region>.geo.<suffix>`. */
export const acrLoginServerPatterns: readonly RegExp[] = Object.values(azureClouds).map((cloud) =>
  _loginServer(cloud.registrySuffix),
);

export function cloudOfLoginServer(host: string): AzureCloudInfo | undefined {
  return Object.values(azureClouds).find((cloud) => _loginServer(cloud.registrySuffix).test(host));
}

/** A login server's name: `<name>.azurecr.io`, or the geo-regional `<name>.<region>.geo.azurecr.io`. */
export function acrLoginServer(name: string, cloud: AzureCloudName = "AzurePublicCloud", region?: string) {
  const host = `${name}${region ? `.${region}.geo` : ""}.${azureClouds[cloud].registrySuffix}`.toLowerCase();
  if (!_loginServer(azureClouds[cloud].registrySuffix).test(host)) {
    throw new Error(`${host} is not an ACR login server name`);
  }
  return host;
}

/** `https://x/` and `https://x` are one audience to Entra and ACR. */
export const normalizeAudience = (audience: string) => audience.replace(/\/+$/, "");
