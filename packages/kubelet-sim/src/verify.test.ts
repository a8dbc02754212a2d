/**
 * verify against a fake registry behind an injected HTTP client: the token flow step by step, and
 * every way a registry can say no or talk nonsense.
 */
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { CredentialProviderError, SecretRegistry } from "@kubelet-credential-provider/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate, verifyCredentials } from "./verify.ts";

interface Call {
  url: URL;
  authorization?: string;
}

type Handler = (call: Call) => { status: number; headers?: Record<string, string>; body?: unknown };

function client(handler: Handler): { http: HttpClient; calls: Call[] } {
  const calls: Call[] = [];
  const http: HttpClient = {
    async request(input: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
      const call: Call = { url: new URL(String(input)) };
      const authorization = options?.headers?.authorization;
      if (authorization !== undefined) call.authorization = authorization;
      calls.push(call);
      const answer = handler(call);
      const text =
        answer.body === undefined
          ? ""
          : typeof answer.body === "string"
            ? answer.body
            : JSON.stringify(answer.body);
      return {
        status: answer.status,
        headers: Object.fromEntries(
          Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
        ),
        body: Buffer.from(text),
        endpoint: options?.endpoint ?? call.url.href,
        text: () => text,
        json: () => JSON.parse(text),
      };
    },
  };
  return { http, calls };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A registry with a token service, accepting exactly user/right-password. */
function tokenRegistry(options: { tokenField?: string; realm?: string } = {}) {
  return client((call) => {
    if (call.url.pathname === "/v2/") {
      if (call.authorization === "Bearer registry-token") return { status: 200, body: {} };
      return {
        status: 401,
        headers: {
          "WWW-Authenticate": `Bearer realm="${options.realm ?? "https://auth.example/token"}",service="registry.example",scope="ignored"`,
        },
        body: { errors: [{ code: "UNAUTHORIZED" }] },
      };
    }
    if (call.url.pathname === "/token") {
      if (call.authorization !== basic("user", "right-password"))
        return { status: 401, body: "bad credentials" };
      return { status: 200, body: { [options.tokenField ?? "token"]: "registry-token" } };
    }
    return { status: 404 };
  });
}

describe("verifyCredentials: Bearer", () => {
  it("fetches a token with Basic auth and the pull scope, then retries /v2/ with it", async () => {
    const { http, calls } = tokenRegistry();
    const result = await verifyCredentials({
      image: "registry.example/team/app:1.0",
      username: "user",
      password: "right-password",
      http,
    });
    expect(result).toEqual({
      outcome: "accepted",
      registry: "registry.example",
      status: 200,
      scheme: "bearer",
      message: "GET https://registry.example/v2/ with a Bearer token answered 200",
    });
    expect(calls.map((call) => [call.url.href, call.authorization])).toEqual([
      ["https://registry.example/v2/", undefined],
      [
        "https://auth.example/token?service=registry.example&scope=repository%3Ateam%2Fapp%3Apull",
        basic("user", "right-password"),
      ],
      ["https://registry.example/v2/", "Bearer registry-token"],
    ]);
  });

  it("takes access_token when there is no token", async () => {
    const { http } = tokenRegistry({ tokenField: "access_token" });
    const result = await verifyCredentials({
      image: "registry.example/app",
      username: "user",
      password: "right-password",
      http,
    });
    expect(result.outcome).toBe("accepted");
  });

  it("reports wrong credentials as rejected, without the password", async () => {
    const { http } = tokenRegistry();
    const result = await verifyCredentials({
      image: "registry.example/app",
      username: "user",
      password: "wrong-password",
      http,
    });
    expect(result).toMatchObject({ outcome: "rejected", status: 401, scheme: "bearer" });
    expect(result.message).toBe("GET https://auth.example/token (token) answered 401: bad credentials");
  });

  it("reports a token the registry then refuses as rejected", async () => {
    const { http } = client((call) =>
      call.url.pathname === "/token"
        ? { status: 200, body: { token: "useless" } }
        : { status: 401, headers: { "www-authenticate": 'Bearer realm="https://auth.example/token"' } },
    );
    const result = await verifyCredentials({
      image: "registry.example/app",
      username: "u",
      password: "p",
      http,
    });
    expect(result).toMatchObject({ outcome: "rejected", status: 401, scheme: "bearer" });
  });

  it("sends credentials to a realm only over https, or http on loopback", async () => {
    const insecure = tokenRegistry({ realm: "http://auth.example/token" });
    const refused = await verifyCredentials({
      image: "registry.example/app",
      username: "user",
      password: "right-password",
      http: insecure.http,
    });
    expect(refused).toMatchObject({
      outcome: "error",
      message: "refusing to send credentials to the token realm http://auth.example: not https",
    });
    expect(insecure.calls).toHaveLength(1);
    const loopback = tokenRegistry({ realm: "http://127.0.0.1:5001/token" });
    expect(
      (
        await verifyCredentials({
          image: "registry.example/app",
          username: "user",
          password: "right-password",
          http: loopback.http,
        })
      ).outcome,
    ).toBe("accepted");
  });

  it("reports a token endpoint that answers nonsense as an error", async () => {
    for (const body of ["<html>", { token: 5 }, {}]) {
      const { http } = client((call) =>
        call.url.pathname === "/token"
          ? { status: 200, body }
          : { status: 401, headers: { "www-authenticate": 'Bearer realm="https://a.example/token"' } },
      );
      const result = await verifyCredentials({ image: "r.example/app", username: "u", password: "p", http });
      expect(result.outcome).toBe("error");
    }
  });
});

describe("verifyCredentials: Basic, none, and failures", () => {
  const basicRegistry = client((call) =>
    call.authorization === basic("user", "right-password")
      ? { status: 200 }
      : { status: 401, headers: { "www-authenticate": 'Basic realm="Registry Realm"' } },
  );

  it("retries /v2/ with Basic auth", async () => {
    const ok = await verifyCredentials({
      image: "localhost:5000/app",
      username: "user",
      password: "right-password",
      http: basicRegistry.http,
    });
    expect(ok).toMatchObject({
      outcome: "accepted",
      registry: "localhost:5000",
      scheme: "basic",
      status: 200,
    });
    expect(basicRegistry.calls[0]?.url.href).toBe("https://localhost:5000/v2/");
    const no = await verifyCredentials({
      image: "localhost:5000/app",
      username: "user",
      password: "nope",
      http: basicRegistry.http,
    });
    expect(no).toMatchObject({ outcome: "rejected", scheme: "basic", status: 401 });
  });

  it("accepts a registry that asks for nothing", async () => {
    const { http } = client(() => ({ status: 200 }));
    expect(
      await verifyCredentials({ image: "r.example/app", username: "u", password: "p", http }),
    ).toMatchObject({
      outcome: "accepted",
      scheme: "none",
    });
  });

  it("asks the registry host as written, docker.io for Docker Hub", async () => {
    const { http, calls } = client(() => ({ status: 200 }));
    await verifyCredentials({ image: "nginx", username: "u", password: "p", http });
    expect(calls[0]?.url.href).toBe("https://docker.io/v2/");
  });

  it.each([
    [{ status: 401 }, "answered 401 without a usable WWW-Authenticate challenge"],
    [
      { status: 401, headers: { "www-authenticate": '\u0000\u0001 ,,, = "' } },
      "answered 401 without a usable WWW-Authenticate challenge",
    ],
    [
      { status: 401, headers: { "www-authenticate": 'Negotiate, Digest realm="x"' } },
      "answered 401 with an unsupported challenge (negotiate, digest)",
    ],
    [
      { status: 401, headers: { "www-authenticate": "Bearer" } },
      "the registry's Bearer challenge has no usable realm",
    ],
    [
      { status: 401, headers: { "www-authenticate": 'Bearer realm="::not a url"' } },
      "the registry's Bearer challenge has no usable realm",
    ],
    [{ status: 404, body: "no registry here" }, "GET https://r.example/v2/ answered 404: no registry here"],
  ])("reports %j as an error", async (answer, message) => {
    const { http } = client(() => answer);
    const result = await verifyCredentials({
      image: "r.example/app",
      username: "u",
      password: "secret-password",
      http,
    });
    expect(result.outcome).toBe("error");
    expect(result.message).toContain(message);
  });

  it("reports a failed connection, an invalid image, and masks secrets in what it says", async () => {
    const http: HttpClient = {
      request: async () => {
        throw new CredentialProviderError(
          "CLOUD_UNAVAILABLE",
          "GET https://r.example/v2/: connect ECONNREFUSED (password p4ss)",
        );
      },
    };
    const secrets = new SecretRegistry();
    const result = await verifyCredentials({
      image: "r.example/app",
      username: "u",
      password: "p4ss",
      http,
      secrets,
    });
    expect(result).toEqual({
      outcome: "error",
      registry: "r.example",
      message: "GET https://r.example/v2/: connect ECONNREFUSED (password [REDACTED])",
    });
    expect(
      (await verifyCredentials({ image: "Bad Image", username: "u", password: "p", http })).outcome,
    ).toBe("error");
  });
});

describe("parseWwwAuthenticate", () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
      [
        {
          scheme: "bearer",
          params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" },
        },
      ],
    ],
    ['basic realm="a \\"quoted\\" realm"', [{ scheme: "basic", params: { realm: 'a "quoted" realm' } }]],
    [
      'Basic realm="x", Bearer realm="https://t", service=reg, error="invalid_token"',
      [
        { scheme: "basic", params: { realm: "x" } },
        { scheme: "bearer", params: { realm: "https://t", service: "reg", error: "invalid_token" } },
      ],
    ],
    [
      "Negotiate abc123==, Basic",
      [
        { scheme: "negotiate", params: { abc123: "" } },
        { scheme: "basic", params: {} },
      ],
    ],
    [
      'Bearer REALM = "https://t" , Service=reg',
      [{ scheme: "bearer", params: { realm: "https://t", service: "reg" } }],
    ],
    ["", []],
    [",,, ,", []],
  ])("%j", (header, challenges) => {
    expect(parseWwwAuthenticate(header)).toEqual(challenges);
  });

  it("reads several header values", () => {
    expect(parseWwwAuthenticate(["Basic realm=a", 'Bearer realm="b"']).map((c) => c.scheme)).toEqual([
      "basic",
      "bearer",
    ]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });

  it("never throws, whatever the registry sends", () => {
    const pieces = fc.constantFrom(
      "Bearer",
      "Basic",
      " ",
      ",",
      "=",
      '"',
      "\\",
      "realm",
      "x",
      "\u0000",
      "é",
      "\t",
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces).map((parts) => parts.join("")),
        ),
        (header) => {
          const challenges = parseWwwAuthenticate(header);
          expect(Array.isArray(challenges)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
