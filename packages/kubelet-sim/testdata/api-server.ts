/**
 * A Kubernetes API server for doctor's tests, on loopback over TLS with a throwaway CA: it
 * authenticates a client certificate (CN the user, O the groups, as the API server's x509
 * authenticator) or a bearer token it was given, and answers the two reviews doctor sends:
 * SelfSubjectReview with the user, and SelfSubjectAccessReview by a small model of RBAC over the
 * grants it holds (a ClusterRoleBinding's rule for every namespace, a RoleBinding's for one; a
 * rule's resourceNames match only a named object). The attributes doctor asks about are checked
 * against the real NodeRestriction plugin in conformance/, not here.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { createTestCa } from "../../core/testdata/tls.ts";

export interface Grant {
  /** A user name or a group (`system:nodes`). */
  subject: string;
  verbs: string[];
  /** `*` for every resource. */
  resources: string[];
  resourceNames?: string[];
  /** A RoleBinding's namespace; none for a ClusterRoleBinding. */
  namespace?: string;
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  name?: string;
}

export interface TestApiServer {
  url: string;
  caPem: string;
  grants: Grant[];
  /** Bearer tokens it accepts, and whom they are. */
  tokens: Map<string, { username: string; groups: string[] }>;
  /** Every access review's attributes, and who asked. */
  reviews: Array<{ username: string; attributes: ResourceAttributes }>;
  /** A client certificate and key it accepts. */
  clientCertificate(username: string, groups: string[]): Promise<{ cert: string; key: string }>;
  close(): Promise<void>;
}

export async function startApiServer(): Promise<TestApiServer> {
  const ca = await createTestCa();
  const { cert, key } = await ca.issue(["localhost"]);
  const state = {
    grants: [] as Grant[],
    tokens: new Map<string, { username: string; groups: string[] }>(),
    reviews: [] as TestApiServer["reviews"],
  };
  const server: Server = createServer(
    { cert, key, ca: ca.caPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        const user = _authenticate(req.socket as TLSSocket, req.headers.authorization, state.tokens);
        if (user === undefined) return reply(401, { kind: "Status", message: "Unauthorized", code: 401 });
        let body: { spec?: { resourceAttributes?: ResourceAttributes } };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return reply(400, { kind: "Status", message: "not JSON", code: 400 });
        }
        if (req.method === "POST" && req.url === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
          return reply(201, { ...body, status: { userInfo: user } });
        }
        if (req.method === "POST" && req.url === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
          const attributes = body.spec?.resourceAttributes ?? {};
          state.reviews.push({ username: user.username, attributes });
          return reply(201, { ...body, status: _authorize(state.grants, user, attributes) });
        }
        return reply(404, {
          kind: "Status",
          message: "the server could not find the requested resource",
          code: 404,
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}`,
    caPem: ca.caPem,
    ...state,
    clientCertificate: (username, groups) => ca.issueClient(username, groups),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function _authenticate(
  socket: TLSSocket,
  authorization: string | undefined,
  tokens: Map<string, { username: string; groups: string[] }>,
): { username: string; groups: string[] } | undefined {
  if (socket.authorized) {
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]>;
    const groups = subject.O === undefined ? [] : ([] as string[]).concat(subject.O);
    return { username: String(subject.CN), groups: [...groups, "system:authenticated"] };
  }
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  const user = token === undefined ? undefined : tokens.get(token);
  return user && { ...user, groups: [...user.groups, "system:authenticated"] };
}

function _authorize(
  grants: readonly Grant[],
  user: { username: string; groups: string[] },
  attributes: ResourceAttributes,
): { allowed: boolean; reason?: string } {
  const allowed = grants.some(
    (grant) =>
      (grant.subject === user.username || user.groups.includes(grant.subject)) &&
      attributes.group === "" &&
      grant.verbs.includes(attributes.verb ?? "") &&
      (grant.resources.includes("*") || grant.resources.includes(attributes.resource ?? "")) &&
      (grant.resourceNames === undefined || grant.resourceNames.includes(attributes.name ?? "")) &&
      (grant.namespace === undefined || grant.namespace === attributes.namespace),
  );
  return allowed ? { allowed, reason: "RBAC: allowed by a test grant" } : { allowed };
}
