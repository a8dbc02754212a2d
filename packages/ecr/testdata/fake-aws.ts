/**
 * A tiny stand-in for the AWS endpoints the provider calls, on plain HTTP at 127.0.0.1: ECR, ECR
 * Public and STS in their protocols (JSON 1.1, JSON 1.1, query/XML), routed by the Host header the
 * SDK signed, and IMDSv2 and the container credentials endpoint, routed by path. It records what
 * was asked. Scripted answers, per route, let a test throttle, fail, reset, truncate, flood or
 * hang an endpoint.
 *
 * The SDK's requests reach it through `routedHttp` (routed-http.ts): core's real HTTP client with
 * each URL's origin swapped for this server's, so the SDK still names, signs and sends the real
 * AWS host while the bytes go over loopback.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fakeAccessKeyId, fakeSecretAccessKey } from "./fixtures.ts";

export type Route =
  | "ecr"
  | "ecr-public"
  | "sts"
  | "imds.token"
  | "imds.role"
  | "imds.credentials"
  | "container";

export interface Recorded {
  route: Route | "unknown";
  /** The Host header: the AWS host the SDK addressed. */
  host: string;
  method: string;
  path: string;
  target: string;
  authorization: string;
  securityToken: string;
  imdsToken: string;
  body: string;
}

export type Scripted =
  | { status: number; body?: string; headers?: Record<string, string> }
  /** Drop the connection without an answer. */
  | { reset: true }
  /** Promise 100 bytes, send 10, drop the connection. */
  | { truncated: true }
  /** A 200 whose body is `huge` bytes. */
  | { huge: number }
  /** Never answer. */
  | { hang: true };

export interface FakeAws {
  /** `http://127.0.0.1:port`. */
  url: string;
  requests: Recorded[];
  /** Answers to give on a route, in order, before its default answer. */
  script(route: Route, ...answers: Scripted[]): void;
  reset(): void;
  /** base64 of `AWS:<password>`, as ECR answers it. */
  token: string;
  password: string;
  expiresAt: Date;
  assumed: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  imds: {
    role: string;
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    sessionTokenFromPut: string;
  };
  container: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  close(): Promise<void>;
}

export async function startFakeAws(): Promise<FakeAws> {
  const sockets = new Set<Socket>();
  const scripts = new Map<Route, Scripted[]>();
  const password = "fake-ecr-password-0123456789abcdef";
  const fake: FakeAws = {
    url: "",
    requests: [],
    script(route, ...answers) {
      scripts.set(route, [...(scripts.get(route) ?? []), ...answers]);
    },
    reset() {
      fake.requests.length = 0;
      scripts.clear();
    },
    token: Buffer.from(`AWS:${password}`).toString("base64"),
    password,
    expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + 12 * 3600_000),
    assumed: {
      accessKeyId: fakeAccessKeyId("ASIA"),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: "fake-assumed-session-token-IQoJb3JpZ2luX2VjEJr",
    },
    imds: {
      role: "node-role",
      accessKeyId: fakeAccessKeyId("ASIA"),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: "fake-imds-session-token-IQoJb3JpZ2luX2VjEJr",
      sessionTokenFromPut: "fake-imds-api-token-AQAEAFakeImdsApiToken==",
    },
    container: {
      accessKeyId: fakeAccessKeyId("ASIA"),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: "fake-container-session-token-IQoJb3JpZ2lu",
    },
    close: async () => {},
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const recorded: Recorded = {
        route: "unknown",
        host: request.headers.host ?? "",
        method: request.method ?? "",
        path: request.url ?? "",
        target: String(request.headers["x-amz-target"] ?? ""),
        authorization: String(request.headers.authorization ?? ""),
        securityToken: String(request.headers["x-amz-security-token"] ?? ""),
        imdsToken: String(request.headers["x-aws-ec2-metadata-token"] ?? ""),
        body: Buffer.concat(chunks).toString("utf8"),
      };
      recorded.route = _route(recorded);
      fake.requests.push(recorded);
      const queue = recorded.route === "unknown" ? undefined : scripts.get(recorded.route);
      const answer = queue?.shift() ?? _defaultAnswer(fake, recorded);
      _send(request.socket, response, answer);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}

function _route(request: Recorded): Route | "unknown" {
  if (request.path === "/latest/api/token") return "imds.token";
  if (request.path === "/latest/meta-data/iam/security-credentials/") return "imds.role";
  if (request.path.startsWith("/latest/meta-data/iam/security-credentials/")) return "imds.credentials";
  if (request.path.startsWith("/v2/credentials") || request.path.startsWith("/v1/credentials"))
    return "container";
  if (request.target.startsWith("AmazonEC2ContainerRegistry_V20150921.")) return "ecr";
  if (request.target.startsWith("SpencerFrontendService.")) return "ecr-public";
  if (/^sts[.-]/.test(request.host)) return "sts";
  return "unknown";
}

function _send(socket: Socket, response: http.ServerResponse, answer: Scripted): void {
  if ("hang" in answer) return;
  if ("reset" in answer) {
    socket.destroy();
    return;
  }
  if ("truncated" in answer) {
    response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    response.write('{"truncated":');
    setImmediate(() => socket.destroy());
    return;
  }
  if ("huge" in answer) {
    response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let left = answer.huge;
    const pump = () => {
      while (left > 0) {
        const part = chunk.subarray(0, Math.min(chunk.length, left));
        left -= part.length;
        if (!response.write(part)) return void response.once("drain", pump);
      }
      response.end();
    };
    response.once("close", () => {
      left = 0;
    });
    pump();
    return;
  }
  response.writeHead(answer.status, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-requestid": "0f5e3c2a-1b4d-4e6f-8a9b-fake00request",
    ...answer.headers,
  });
  response.end(answer.body ?? "");
}

function _defaultAnswer(fake: FakeAws, request: Recorded): Scripted {
  const expiresAt = fake.expiresAt.getTime() / 1000;
  const inAnHour = new Date(Date.now() + 3600_000).toISOString();
  switch (request.route) {
    case "ecr":
      return {
        status: 200,
        body: JSON.stringify({
          authorizationData: [
            {
              authorizationToken: fake.token,
              expiresAt,
              proxyEndpoint: "https://123456789012.dkr.ecr.us-west-2.amazonaws.com",
            },
          ],
        }),
      };
    case "ecr-public":
      return {
        status: 200,
        body: JSON.stringify({ authorizationData: { authorizationToken: fake.token, expiresAt } }),
      };
    case "sts": {
      const { accessKeyId, secretAccessKey, sessionToken } = fake.assumed;
      const action = new URLSearchParams(request.body).get("Action") ?? "";
      return {
        status: 200,
        headers: { "content-type": "text/xml" },
        body:
          `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>` +
          `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${sessionToken}</SessionToken><Expiration>${inAnHour}</Expiration></Credentials>` +
          `</${action}Result></${action}Response>`,
      };
    }
    case "imds.token":
      if (request.method !== "PUT") return { status: 405, body: "" };
      return { status: 200, headers: { "content-type": "text/plain" }, body: fake.imds.sessionTokenFromPut };
    case "imds.role":
      if (request.imdsToken !== fake.imds.sessionTokenFromPut) return { status: 401, body: "" };
      return { status: 200, headers: { "content-type": "text/plain" }, body: fake.imds.role };
    case "imds.credentials":
      if (request.imdsToken !== fake.imds.sessionTokenFromPut) return { status: 401, body: "" };
      if (request.path !== `/latest/meta-data/iam/security-credentials/${fake.imds.role}`) {
        return { status: 404, body: "" };
      }
      return {
        status: 200,
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({
          Code: "Success",
          Type: "AWS-HMAC",
          AccessKeyId: fake.imds.accessKeyId,
          SecretAccessKey: fake.imds.secretAccessKey,
          Token: fake.imds.sessionToken,
          Expiration: inAnHour,
        }),
      };
    case "container":
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          AccessKeyId: fake.container.accessKeyId,
          SecretAccessKey: fake.container.secretAccessKey,
          Token: fake.container.sessionToken,
          Expiration: inAnHour,
        }),
      };
    default:
      return {
        status: 400,
        body: JSON.stringify({ __type: "UnknownOperationException", message: "fake-aws: unknown operation" }),
      };
  }
}
