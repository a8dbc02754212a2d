/**
 * A tiny stand-in for the AWS APIs the provider calls, on 127.0.0.1, reached the way a node behind
 * a corporate proxy reaches AWS: through an HTTP CONNECT proxy (HTTPS_PROXY) to the real host
 * names, with TLS by a throwaway CA. It records what was asked, of which host, and answers ECR,
 * ECR Public and STS in their protocols (JSON 1.1, JSON 1.1, query/XML). Scripted answers let a
 * test throttle, fail, hang or deny.
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import net from "node:net";
import { createSelfSigned } from "./self-signed.ts";

export interface Recorded {
  host: string;
  target: string;
  authorization: string;
  securityToken: string;
  body: string;
}

export interface Scripted {
  status: number;
  body: string;
  contentType?: string;
  /** Never answer. */
  hang?: boolean;
}

export interface FakeAws {
  /** The CA to trust (the certificate is its own CA). */
  ca: string;
  /** `http://127.0.0.1:port`: the HTTPS_PROXY to set. */
  proxyUrl: string;
  /** `https://localhost:port`: for AWS_ENDPOINT_URL_* (loopback is never proxied). */
  directUrl: string;
  requests: Recorded[];
  /** The CONNECT targets the proxy was asked for, e.g. `api.ecr-fips.us-west-2.amazonaws.com:443`. */
  tunnels: string[];
  /** Answers to give, in order, before the default ones. */
  script: Scripted[];
  token: string;
  expiresAt: Date;
  assumed: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  close(): Promise<void>;
}

export const FAKE_AWS_HOSTS = [
  "api.ecr.us-west-2.amazonaws.com",
  "api.ecr-fips.us-west-2.amazonaws.com",
  "ecr.us-west-2.api.aws",
  "ecr-fips.us-west-2.api.aws",
  "api.ecr-fips.us-west-2.api.aws",
  "api.ecr.cn-north-1.amazonaws.com.cn",
  "api.ecr-public.us-east-1.amazonaws.com",
  "sts.us-west-2.amazonaws.com",
  "sts-fips.us-west-2.amazonaws.com",
  "sts.us-east-1.amazonaws.com",
  "localhost",
];

export async function startFakeAws(): Promise<FakeAws> {
  const { cert, key } = createSelfSigned(FAKE_AWS_HOSTS);
  const sockets = new Set<Socket>();
  const fake: FakeAws = {
    ca: cert,
    proxyUrl: "",
    directUrl: "",
    requests: [],
    tunnels: [],
    script: [],
    token: Buffer.from("AWS:fake-ecr-password-0123456789abcdef").toString("base64"),
    expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + 12 * 3600_000),
    assumed: {
      accessKeyId: "ASIAFAKEASSUMEDKEY01",
      secretAccessKey: "fake/assumed+secret/key0123456789abcdefgh",
      sessionToken: "fake-assumed-session-token-IQoJb3JpZ2luX2VjEJr",
    },
    close: async () => {},
  };

  const server = https.createServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const recorded: Recorded = {
        host: request.headers.host ?? "",
        target: String(request.headers["x-amz-target"] ?? ""),
        authorization: String(request.headers.authorization ?? ""),
        securityToken: String(request.headers["x-amz-security-token"] ?? ""),
        body: Buffer.concat(chunks).toString("utf8"),
      };
      fake.requests.push(recorded);
      const answer = fake.script.shift() ?? _defaultAnswer(fake, recorded);
      if (answer.hang) return;
      response.writeHead(answer.status, {
        "content-type": answer.contentType ?? "application/x-amz-json-1.1",
        "x-amzn-requestid": "0f5e3c2a-1b4d-4e6f-8a9b-fake00request",
      });
      response.end(answer.body);
    });
  });
  server.on("connection", (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const tlsPort = (server.address() as AddressInfo).port;

  const proxy = http.createServer((_, response) => response.writeHead(405).end());
  proxy.on("connect", (request: http.IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    const target = request.url ?? "";
    fake.tunnels.push(target);
    const upstream = net.connect(tlsPort, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const destroy = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroy);
    upstream.on("error", destroy);
    client.on("close", destroy);
    upstream.on("close", destroy);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));

  fake.proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  fake.directUrl = `https://localhost:${tlsPort}`;
  fake.close = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([
      new Promise((resolve) => server.close(resolve)),
      new Promise((resolve) => proxy.close(resolve)),
    ]);
  };
  return fake;
}

function _defaultAnswer(fake: FakeAws, request: Recorded): Scripted {
  const expiresAt = fake.expiresAt.getTime() / 1000;
  if (request.target === "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken") {
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
  }
  if (request.target === "SpencerFrontendService.GetAuthorizationToken") {
    return {
      status: 200,
      body: JSON.stringify({ authorizationData: { authorizationToken: fake.token, expiresAt } }),
    };
  }
  if (request.body.includes("Action=AssumeRoleWithWebIdentity")) {
    const { accessKeyId, secretAccessKey, sessionToken } = fake.assumed;
    return {
      status: 200,
      contentType: "text/xml",
      body:
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${sessionToken}</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials>` +
        `</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
    };
  }
  return {
    status: 400,
    body: JSON.stringify({ __type: "UnknownOperationException", message: "fake-aws: unknown operation" }),
  };
}
