import { describe, expect, it } from "vitest";
import { identityBindingsEndpoint, parseIdentityBindings } from "./identity-bindings.ts";

const SNI = "mycluster-dns-1a2b3c4d.hcp.eastus.azmk8s.io";

describe("parseIdentityBindings: upstream's flag rules", () => {
  it("no --ib-sni-name and no other --ib-* flag: no identity bindings", () => {
    expect(parseIdentityBindings({})).toBeUndefined();
    expect(parseIdentityBindings({ "ib-sni-name": "", "ib-ca-file": "/x" })).toBeUndefined();
  });

  it("the name, the address (an IP or a DNS name), the defaults and the CA file", () => {
    expect(parseIdentityBindings({ "ib-sni-name": SNI, "ib-apiserver-ip": "10.0.0.1" })).toEqual({
      sniName: SNI,
      apiServer: "10.0.0.1",
      caFile: "/etc/kubernetes/certs/ca.crt",
    });
    expect(
      parseIdentityBindings({
        "ib-sni-name": SNI.toUpperCase(),
        "ib-apiserver-ip": "fd00::1",
        "ib-default-client-id": "c",
        "ib-default-tenant-id": "t",
        "ib-ca-file": "/run/ca.pem",
      }),
    ).toEqual({
      sniName: SNI,
      apiServer: "fd00::1",
      defaultClientId: "c",
      defaultTenantId: "t",
      caFile: "/run/ca.pem",
    });
    expect(
      parseIdentityBindings({ "ib-sni-name": SNI, "ib-apiserver-ip": "apiserver.internal" })?.apiServer,
    ).toBe("apiserver.internal");
  });

  it("the CA file's default is where AKS keeps the cluster CA on each OS: upstream's path on Linux, C:\\k\\ca.crt on Windows", () => {
    const flags = { "ib-sni-name": SNI, "ib-apiserver-ip": "10.0.0.1" };
    expect(parseIdentityBindings(flags, "linux")?.caFile).toBe("/etc/kubernetes/certs/ca.crt");
    expect(parseIdentityBindings(flags, "win32")?.caFile).toBe("C:\\k\\ca.crt");
    expect(parseIdentityBindings({ ...flags, "ib-ca-file": "D:\\ca.pem" }, "win32")?.caFile).toBe(
      "D:\\ca.pem",
    );
  });

  it.each([
    [{ "ib-sni-name": SNI }, "--ib-apiserver-ip must be set when --ib-sni-name is given"],
    [{ "ib-apiserver-ip": "10.0.0.1" }, "--ib-sni-name must be set when --ib-apiserver-ip is given"],
    [{ "ib-default-client-id": "c" }, "--ib-sni-name must be set when --ib-default-client-id is given"],
    [{ "ib-default-tenant-id": "t" }, "--ib-sni-name must be set when --ib-default-tenant-id is given"],
    [
      { "ib-sni-name": `https://${SNI}`, "ib-apiserver-ip": "10.0.0.1" },
      `--ib-sni-name is a host name, without a scheme: got "https://${SNI}"`,
    ],
    [{ "ib-sni-name": `${SNI}:443`, "ib-apiserver-ip": "10.0.0.1" }, "--ib-sni-name must be a DNS name"],
    [{ "ib-sni-name": `${SNI}/x`, "ib-apiserver-ip": "10.0.0.1" }, "--ib-sni-name must be a DNS name"],
    [
      { "ib-sni-name": SNI, "ib-apiserver-ip": "10.0.0.1:443" },
      "--ib-apiserver-ip must be an IP address or a DNS name",
    ],
    [
      { "ib-sni-name": SNI, "ib-apiserver-ip": "a b" },
      "--ib-apiserver-ip must be an IP address or a DNS name",
    ],
  ])("%j: a usage error", (flags, message) => {
    let error: unknown;
    try {
      parseIdentityBindings(flags);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "USAGE", message: expect.stringContaining(message) });
  });

  it("names the endpoint by the name and the address", () => {
    const bindings = parseIdentityBindings({ "ib-sni-name": SNI, "ib-apiserver-ip": "10.0.0.1" });
    expect(bindings && identityBindingsEndpoint(bindings)).toBe(`AKS identity bindings (${SNI} at 10.0.0.1)`);
  });
});
