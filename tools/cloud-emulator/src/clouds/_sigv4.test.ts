/**
 * The SigV4 verifier recomputes what AWS computes: the documentation's worked example, and
 * requests the real AWS SDK for JavaScript v3 signed (captured once through the emulator's proxy),
 * each accepted as sent and refused once anything signed is changed.
 */
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { testdata } from "../testdata/helpers.ts";
import {
  canonicalRequest,
  expectedSignature,
  parseAmzDate,
  parseAuthorization,
  type SigV4Authorization,
  signingKey,
} from "./_sigv4.ts";

interface _Captured {
  label: string;
  secretAccessKey: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const captured = (
  JSON.parse(readFileSync(testdata("aws-sdk-signed.json"), "utf8")) as { requests: _Captured[] }
).requests;

/** True when the request's own signature is the one the verifier computes with `secret`. */
function verifies(request: _Captured, secret = request.secretAccessKey): boolean {
  const auth = parseAuthorization(String(request.headers.authorization)) as SigV4Authorization;
  const url = new URL(request.url);
  const canonical = canonicalRequest(
    {
      method: request.method,
      path: url.pathname,
      search: url.search,
      headers: request.headers,
      body: request.body,
    },
    auth.signedHeaders,
  );
  return expectedSignature(secret, auth, String(request.headers["x-amz-date"]), canonical) === auth.signature;
}

describe("SigV4", () => {
  it("derives the documentation's signing key and signature (IAM ListUsers, 2015-08-30)", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    expect(signingKey(secret, "20150830", "us-east-1", "iam").toString("hex")).toBe(
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
    );
    const canonical = canonicalRequest(
      {
        method: "GET",
        path: "/",
        search: "?Version=2010-05-08&Action=ListUsers",
        headers: {
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          host: "iam.amazonaws.com",
          "x-amz-date": "20150830T123600Z",
        },
        body: "",
      },
      ["content-type", "host", "x-amz-date"],
    );
    // The query is sorted, whatever order it came in.
    expect(canonical.split("\n")[2]).toBe("Action=ListUsers&Version=2010-05-08");
    expect(
      expectedSignature(
        secret,
        { date: "20150830", region: "us-east-1", service: "iam" },
        "20150830T123600Z",
        canonical,
      ),
    ).toBe("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  });

  it.each(captured.map((c) => [c.label, c] as const))(
    "accepts what the AWS SDK signed: %s",
    (_label, request) => {
      expect(verifies(request)).toBe(true);
    },
  );

  it("refuses an SDK-signed request with another secret, body, signed header or host", () => {
    const request = captured[0] as _Captured;
    expect(verifies(request, `${request.secretAccessKey}x`)).toBe(false);
    expect(verifies({ ...request, body: '{"registryIds":["210987654321"]}' })).toBe(false);
    expect(verifies({ ...request, headers: { ...request.headers, "x-amz-target": "Other.Operation" } })).toBe(
      false,
    );
    expect(
      verifies({ ...request, headers: { ...request.headers, host: "api.ecr-fips.us-west-2.amazonaws.com" } }),
    ).toBe(false);
    // A header the client did not sign may change: the user agent, added by proxies and SDKs alike.
    expect(verifies({ ...request, headers: { ...request.headers, "user-agent": "curl/8" } })).toBe(true);
  });

  it("reads the Authorization header and says what is wrong with a bad one", () => {
    expect(
      parseAuthorization(
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=Host;X-Amz-Date, Signature=${"a".repeat(64)}`,
      ),
    ).toEqual({
      accessKeyId: "AKIDEXAMPLE",
      date: "20150830",
      region: "us-east-1",
      service: "iam",
      signedHeaders: ["host", "x-amz-date"],
      signature: "a".repeat(64),
    });
    expect(parseAuthorization("Bearer abc")).toMatchObject({ error: expect.stringContaining("algorithm") });
    expect(parseAuthorization("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00")).toMatchObject({
      error: "Authorization header requires 'Credential' parameter.",
    });
    expect(
      parseAuthorization(
        `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam, SignedHeaders=host, Signature=${"a".repeat(64)}`,
      ),
    ).toMatchObject({ error: expect.stringContaining("aws4_request") });
    expect(parseAmzDate("20150830T123600Z")?.toISOString()).toBe("2015-08-30T12:36:00.000Z");
    expect(parseAmzDate("2015-08-30T12:36:00Z")).toBeUndefined();
  });
});
