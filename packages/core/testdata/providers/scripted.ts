/**
 * A provider whose behaviour a test picks with TEST_BEHAVIOUR, run as a real child process so that
 * the harness is tested as the kubelet meets it: stdin, stdout, stderr and the exit status.
 */
import { CredentialProviderError, defineProvider, runProvider } from "../../src/index.ts";

const behaviour = process.env.TEST_BEHAVIOUR ?? "ok";

const provider = defineProvider({
  name: "scripted-provider",
  version: "1.2.3",
  description: "Behaves as TEST_BEHAVIOUR says.",
  flags: { greeting: { type: "string", description: "Unused; shows a declared flag is accepted." } },
  positionals: [{ name: "verb", description: "Ignored, like the Go plugins' get-credentials." }],
  async getCredentials(request, context) {
    context.log.v(1, `behaviour ${behaviour}`);
    const auth = {
      [request.image.split("/")[0] ?? "x"]: { username: "user", password: "pa55word-from-cloud" },
    };
    switch (behaviour) {
      case "ok":
        context.secrets.add("pa55word-from-cloud");
        context.log.v(3, `token ${request.serviceAccountToken ?? "(none)"} and password pa55word-from-cloud`);
        return { cacheKeyType: "Registry", cacheDuration: "10m0s", auth };
      case "writes-stderr":
        // Code that is not the harness's logger (an SDK, Node's NODE_DEBUG tracing) writing secrets.
        context.secrets.add("pa55word-from-cloud");
        process.stderr.write("raw pa55word-from-cloud\n");
        console.error("console pa55word-from-cloud");
        console.warn("warn", Buffer.from("pa55word-from-cloud"));
        return { cacheKeyType: "Registry", cacheDuration: "10m0s", auth };
      case "http": {
        // One call through core's client: under NODE_DEBUG, Node traces its sockets and buffers.
        const response = await context.http.request(process.env.TEST_URL as string, {
          endpoint: "test token",
        });
        const password = response.text();
        context.secrets.add(password);
        return { cacheKeyType: "Registry", cacheDuration: "10m0s", auth: { x: { username: "u", password } } };
      }
      case "throws":
        throw new Error(`boom with token ${request.serviceAccountToken}`);
      case "typed-error":
        throw new CredentialProviderError("NOT_MY_REGISTRY", `${request.image} is not mine`);
      case "hangs":
        // Keeps the event loop alive, as a stuck network call would.
        await new Promise(() => setInterval(() => {}, 1000));
        return { cacheKeyType: "Registry" };
      case "never-settles":
        // Holds nothing open: without the harness's deadline timer the process would exit 0.
        await new Promise(() => {});
        return { cacheKeyType: "Registry" };
      case "bad-cache-key-type":
        return { cacheKeyType: "Repository" as "Registry", auth };
      case "extra-field":
        return { cacheKeyType: "Registry", auth, email: "a@b.c" } as never;
      case "extra-auth-field":
        return {
          cacheKeyType: "Registry",
          auth: { x: { username: "u", password: "pa55word-from-cloud", email: "e" } },
        } as never;
      case "numeric-duration":
        return { cacheKeyType: "Registry", cacheDuration: 600 as unknown as string, auth };
      case "negative-duration":
        return { cacheKeyType: "Registry", cacheDuration: "-5m0s", auth };
      case "unhandled-rejection":
        Promise.reject(new Error("stray rejection"));
        await new Promise(() => setInterval(() => {}, 1000));
        return { cacheKeyType: "Registry" };
      default:
        throw new Error(`unknown TEST_BEHAVIOUR ${behaviour}`);
    }
  },
});

void runProvider(provider);
