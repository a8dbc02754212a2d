import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodePluginRequest } from "./request.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/protocol.json", import.meta.url), "utf8"),
) as {
  requestExample: string;
  apiVersions: string[];
};

describe("encodePluginRequest", () => {
  it("writes protocol.json's request example byte for byte", () => {
    expect(
      encodePluginRequest("credentialprovider.kubelet.k8s.io/v1", "test.registry.io/foobar", {
        token: "service-account-token",
        annotations: { "domain.io/annotation1": "value1" },
      }),
    ).toBe(vectors.requestExample);
  });

  it("leaves out empty service account fields, and all of them before v1", () => {
    for (const apiVersion of vectors.apiVersions) {
      const text = encodePluginRequest(
        apiVersion,
        "r.io/a",
        apiVersion.endsWith("/v1") ? { annotations: {} } : { token: "t" },
      );
      expect(text).toBe(
        `{"kind":"CredentialProviderRequest","apiVersion":"${apiVersion}","image":"r.io/a"}\n`,
      );
    }
  });

  it("sorts annotations by bytes and escapes as Go's encoder does", () => {
    expect(
      encodePluginRequest("credentialprovider.kubelet.k8s.io/v1", "r.io/a", {
        token: "t",
        annotations: { b: "<&>", B: "\u2028", a: "é" },
      }),
    ).toBe(
      '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a","serviceAccountToken":"t","serviceAccountAnnotations":{"B":"\\u2028","a":"é","b":"\\u003c\\u0026\\u003e"}}\n',
    );
  });
});
