/**
 * Proxy settings from the environment, with Go's net/http semantics (the Go plugins' behaviour on
 * the same node): HTTPS_PROXY for https URLs, HTTP_PROXY for http, upper case before lower case,
 * NO_PROXY as a comma list of hosts, domains (`example.com` and `.example.com` match subdomains),
 * `host:port`, IP addresses, CIDR ranges and `*`; loopback and localhost are never proxied.
 * Neither are the clouds' instance metadata endpoints (link-local addresses and
 * `metadata.google.internal`): a proxy cannot reach them, and they hand out node credentials.
 */
import { isIP } from "node:net";

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy to use for `url`, or undefined to connect directly. */
export function proxyForUrl(url: URL, env: Env): URL | undefined {
  const raw =
    url.protocol === "https:"
      ? (env.HTTPS_PROXY ?? env.https_proxy)
      : url.protocol === "http:"
        ? (env.HTTP_PROXY ?? env.http_proxy)
        : undefined;
  if (!raw) return undefined;
  const hostname = _bareHost(url.hostname);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (_isNodeLocal(hostname) || _bypassed(hostname, port, env.NO_PROXY ?? env.no_proxy ?? ""))
    return undefined;
  return _parseProxyUrl(raw);
}

function _parseProxyUrl(raw: string): URL {
  // Go accepts a bare host:port and assumes http.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error("the proxy URL in HTTPS_PROXY/HTTP_PROXY is invalid");
  }
  if (url.protocol !== "http:") {
    throw new Error(`proxy scheme ${url.protocol.slice(0, -1)} is not supported; use an http:// proxy`);
  }
  return url;
}

function _bypassed(hostname: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (_inCidr(hostname, entry)) return true;
      continue;
    }
    let host = entry;
    let entryPort: string | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m) {
      host = m[1] as string;
      entryPort = m[2];
    }
    host = _bareHost(host);
    if (entryPort && entryPort !== port) continue;
    if (isIP(host)) {
      if (host === hostname) return true;
      continue;
    }
    const domain = host.startsWith("*.") ? host.slice(1) : host;
    if (domain.startsWith(".")) {
      if (hostname.endsWith(domain) || hostname === domain.slice(1)) return true;
    } else if (hostname === domain || hostname.endsWith(`.${domain}`)) {
      return true;
    }
  }
  return false;
}

function _isNodeLocal(hostname: string): boolean {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  if (hostname === "metadata.google.internal") return true;
  if (isIP(hostname) === 4) return hostname.startsWith("127.") || hostname.startsWith("169.254.");
  // ::1, link-local fe80::/10, and AWS's IPv6 metadata address.
  return hostname === "::1" || /^fe[89ab][0-9a-f]:/.test(hostname) || hostname === "fd00:ec2::254";
}

function _inCidr(hostname: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (isIP(hostname) !== 4 || isIP(base ?? "") !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    return false;
  }
  const toInt = (ip: string) => ip.split(".").reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(hostname) & mask) === (toInt(base as string) & mask);
}

function _bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, "").toLowerCase();
}
