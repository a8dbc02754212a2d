/**
 * Test helpers for a provider package: its provider called as the harness calls it, with a
 * request built for an image, and its provider run as the kubelet runs it, through `runProvider`
 * with every byte it writes and its exit status captured.
 */
import { Readable } from "node:stream";
import type {
  CredentialProviderError,
  CredentialProviderRequest,
  CredentialProviderResult,
  FlagSpecs,
  Provider,
  ProviderContext,
} from "@kubelet-credential-provider/core";
import { API_VERSION_V1, isCredentialProviderError, runProvider } from "@kubelet-credential-provider/core";

type RequestExtras = Partial<CredentialProviderRequest>;

/**
 * `run(image)` answers a v1 request for `image` with `context`; `fail(image)` expects that to throw
 * a CredentialProviderError and returns it. Both register the request's service account token
 * first, as the harness does.
 */
export function requestRunner<F extends FlagSpecs>(provider: Provider<F>, context: ProviderContext<F>) {
  const run = async (image: string, extra: RequestExtras = {}): Promise<CredentialProviderResult> => {
    const request: CredentialProviderRequest = {
      kind: "CredentialProviderRequest",
      apiVersion: API_VERSION_V1,
      image,
      ...extra,
    };
    context.secrets.add(request.serviceAccountToken);
    return provider.getCredentials(request, context);
  };
  const fail = async (image: string, extra: RequestExtras = {}): Promise<CredentialProviderError> => {
    try {
      await run(image, extra);
    } catch (error) {
      if (isCredentialProviderError(error)) return error;
      throw error;
    }
    throw new Error(`no error for ${image}`);
  };
  return { run, fail };
}

/** `provider` run by the harness with `argv`, `request` (JSON) on stdin and `env`; exit code -1 if none. */
export async function execProvider<F extends FlagSpecs>(
  provider: Provider<F>,
  argv: string[],
  request: unknown,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = "";
  let stderr = "";
  let code = -1;
  await runProvider(provider, {
    argv,
    stdin: Readable.from([JSON.stringify(request)]),
    stdout: {
      write: (chunk: string, done?: () => void) => {
        stdout += chunk;
        done?.();
        return true;
      },
    },
    stderr: {
      write: (chunk: string) => {
        stderr += chunk;
        return true;
      },
    },
    env,
    exit: (status) => {
      code = status;
    },
  });
  return { stdout, stderr, code };
}
