/**
 * @azure/identity's traffic on core's one outbound path. The SDK takes a custom HTTP client
 * (`httpClient`, an `HttpClient` of @azure/core-rest-pipeline: `sendRequest(PipelineRequest)`);
 * this one sends each request with core's client, so that Entra's token endpoint, its OpenID
 * configuration and the managed identity endpoint (IMDS) get core's timeouts, retries, proxy
 * rules and size cap, like every other call. @azure/identity hands the same client to MSAL as its
 * network module, and to MSAL's managed identity sources, so nothing of theirs goes around it.
 *
 * MSAL turns any error its network module throws into `network_error: ... See https://aka.ms/...`,
 * losing what failed. So every failure is also kept here, per credential, and the credential's
 * caller reports that one: the endpoint, the fault, the attempts. A body that is not JSON, which
 * the SDK would quote in its errors, never reaches it.
 */
import type {
  HttpClient as AzureHttpClient,
  HttpHeaders,
  PipelineRequest,
  PipelineResponse,
  RawHttpHeadersInput,
} from "@azure/core-rest-pipeline";
import type { HttpClient, HttpResponse, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import { azureEndpointOf, IMDS_TOKEN_ENDPOINT } from "./endpoints.ts";

/** The run whose client the requests go through. */
export interface AzureHttpTarget {
  /** Core's client for the run (`context.http`). */
  http: HttpClient;
  /** The tokens in successful answers are registered before the SDK sees them. */
  secrets: SecretRegistry;
  log?: Logger;
}

export interface AzureHttpOptions extends AzureHttpTarget {
  /** @azure/core-rest-pipeline's, for the answers' headers (it is loaded with the SDK). */
  createHttpHeaders: (raw?: RawHttpHeadersInput) => HttpHeaders;
}

export interface AzureHttp {
  /** For @azure/identity's `httpClient` option. */
  httpClient: AzureHttpClient;
  /** The last call that failed since {@link AzureHttp.reset}: what to report when the SDK fails. */
  lastFailure(): CredentialProviderError | undefined;
  reset(): void;
  /**
   * Sends the next requests through another run's client. MSAL keeps the managed identity source
   * it builds first, with that credential's network client, for the rest of the process: a later
   * run (the provider used as a library) reaches this adapter, not the one it built.
   */
  retarget(target: AzureHttpTarget): void;
}

// Entra's codes for "try again": AADSTS90033 "a transient error", AADSTS50000 "an error issuing
// a token", AADSTS90055 tenant throttling. Core retries these like a 5xx or a 429.
const _TRANSIENT_AADSTS = new Set(["90033", "50000"]);
const _THROTTLED_AADSTS = new Set(["90055"]);
// AADSTS50196: the client is in a loop; asking again at once makes it worse.
const _LOOP_AADSTS = new Set(["50196"]);

export function createAzureHttp(options: AzureHttpOptions): AzureHttp {
  const { createHttpHeaders } = options;
  let target: AzureHttpTarget = options;
  let failure: CredentialProviderError | undefined;
  const fail = (error: CredentialProviderError): never => {
    failure = error;
    throw error;
  };

  const sendRequest = async (request: PipelineRequest): Promise<PipelineResponse> => {
    const { http, secrets, log } = target;
    const url = new URL(request.url);
    const endpoint = azureEndpointOf(url);
    const body = _bodyOf(request);
    const headers = _headersOf(request, body);
    log?.v(5, `${endpoint}: ${request.method} ${url.origin}${url.pathname}`);
    let response: HttpResponse;
    try {
      response = await _abortable(
        http.request(url, {
          method: request.method,
          headers,
          ...(body !== undefined && { body }),
          endpoint,
          ...(request.timeout > 0 && { timeoutMs: request.timeout }),
          classify: (answer) => _classify(answer, endpoint),
        }),
        request.abortSignal,
      );
    } catch (error) {
      if (error instanceof CredentialProviderError) fail(error);
      throw error;
    }
    const parsed = _json(response);
    if (response.status >= 200 && response.status < 300) {
      // Every token answer is a JSON object: anything else (a bare string, an array) would reach
      // the SDK as an answer without a token and come out as its own misleading message.
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        fail(
          new CloudCallError({
            endpoint,
            fault: "malformed",
            status: response.status,
            detail: `answered HTTP ${response.status} with a body that is not ${parsed === undefined ? "JSON" : "a JSON object"}`,
          }),
        );
      }
      _registerTokens(parsed, secrets);
    } else {
      failure = _refusal(endpoint, response.status, parsed);
    }
    return {
      request,
      status: response.status,
      headers: createHttpHeaders(_flatHeaders(response.headers)),
      // The SDK quotes a body it cannot parse in its error (and its logs): it gets the status and
      // the headers (Azure Arc's challenge is a header of a 401), not the body.
      bodyAsText: parsed === undefined ? "" : response.text(),
    };
  };

  return {
    httpClient: { sendRequest },
    lastFailure: () => failure,
    reset: () => {
      failure = undefined;
    },
    retarget: (next) => {
      target = next;
      failure = undefined;
    },
  };
}

/** The request's body as core sends it: a string or bytes (a form is encoded). */
function _bodyOf(request: PipelineRequest): string | Uint8Array | undefined {
  if (request.multipartBody) {
    throw new CredentialProviderError(
      "INTERNAL",
      "@azure/identity sent a multipart body, which is not supported",
    );
  }
  if (request.formData) {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(request.formData)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item !== "string") {
          throw new CredentialProviderError(
            "INTERNAL",
            "@azure/identity sent a form with a file, which is not supported",
          );
        }
        form.append(name, item);
      }
    }
    return form.toString();
  }
  const body = request.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new CredentialProviderError(
    "INTERNAL",
    "@azure/identity sent a streamed body, which is not supported",
  );
}

function _headersOf(request: PipelineRequest, body: string | Uint8Array | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    // Core's client does not decompress: ask for the identity encoding (the SDK's pipeline asks
    // for gzip because its own client would inflate it). Core sets the length itself.
    if (key === "accept-encoding" || key === "content-length") continue;
    headers[key] = value;
  }
  if (request.formData && body !== undefined && !headers["content-type"]) {
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  return headers;
}

function _flatHeaders(headers: HttpResponse["headers"]): RawHttpHeadersInput {
  const flat: RawHttpHeadersInput = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/** MSAL aborts a request of a flow it gives up on; core's client stops at the run's deadline. */
function _abortable<T>(promise: Promise<T>, signal: PipelineRequest["abortSignal"]): Promise<T> {
  if (!signal) return promise;
  const aborted = () => Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort);
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function _json(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.text());
  } catch {
    return undefined;
  }
}

function _registerTokens(body: unknown, secrets: SecretRegistry): void {
  if (typeof body !== "object" || body === null) return;
  for (const key of ["access_token", "refresh_token", "id_token"]) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === "string" && value !== "") secrets.add(value);
  }
}

interface _EntraError {
  error?: string;
  aadsts?: string;
  description: string;
}

/** Entra's (and IMDS's) `{"error", "error_description", "error_codes"}`, without the noise. */
function _entraError(body: unknown): _EntraError | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const fields = body as { error?: unknown; error_description?: unknown; error_codes?: unknown };
  const error =
    typeof fields.error === "string" && /^[\w.-]{1,64}$/.test(fields.error) ? fields.error : undefined;
  const raw = typeof fields.error_description === "string" ? fields.error_description : "";
  const codes = Array.isArray(fields.error_codes) ? fields.error_codes : [];
  const aadsts =
    /AADSTS(\d{1,9})\b/.exec(raw)?.[1] ??
    (typeof codes[0] === "number" && Number.isInteger(codes[0]) ? String(codes[0]) : undefined);
  if (error === undefined && aadsts === undefined && raw === "") return undefined;
  return {
    ...(error !== undefined && { error }),
    ...(aadsts !== undefined && { aadsts }),
    description: shortDescription(raw),
  };
}

/**
 * The gist of an Entra error description: its first sentence (Entra's first says what is wrong,
 * the rest how to fix it in the portal), without trace and correlation ids, timestamps, links
 * (aka.ms troubleshooting pages) and anything shaped like a token, at most 200 characters.
 */
export function shortDescription(text: string): string {
  const line = (text.split(/\r?\n/, 1)[0] ?? "")
    .replace(/\s*Trace ID:.*$/i, "")
    .replace(/\s*Correlation ID:.*$/i, "")
    .replace(/\s*Timestamp:.*$/i, "")
    .replace(/eyJ[\w-]*\.[\w-]*\.?[\w-]*/g, "[token]")
    .replace(
      /\s*(?:(?:To troubleshoot|For more (?:info|information|details)|See|Visit)[^.]*?)?https?:\/\/\S+(?:\s+for (?:more )?details\.?)?/gi,
      "",
    )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .trim();
  const sentence = /^.+?\.(?=\s|$)/.exec(line)?.[0] ?? line;
  return sentence.length > 200 ? `${sentence.slice(0, 200)}…` : sentence;
}

/** A retryable answer that is not a 429 or 5xx: Entra's transient codes, IMDS's 410. */
function _classify(
  response: HttpResponse,
  endpoint: string,
): { fault: "throttled" | "server-error"; cause?: string } | undefined {
  // IMDS answers 410 while it is being updated (for up to 70 s, says its documentation).
  if (endpoint === IMDS_TOKEN_ENDPOINT && response.status === 410) return { fault: "server-error" };
  if (response.status < 400 || response.status >= 500 || response.body.length > 64 * 1024) return undefined;
  const error = _entraError(_json(response));
  if (!error) return undefined;
  const cause = error.aadsts ? `AADSTS${error.aadsts}` : error.error;
  if (error.aadsts && _THROTTLED_AADSTS.has(error.aadsts))
    return { fault: "throttled", ...(cause && { cause }) };
  if (error.error === "temporarily_unavailable" || (error.aadsts && _TRANSIENT_AADSTS.has(error.aadsts))) {
    return { fault: "server-error", ...(cause && { cause }) };
  }
  return undefined;
}

/** A final answer that is not a success, as the typed failure the operator reads. */
function _refusal(endpoint: string, status: number, body: unknown): CloudCallError {
  if (status >= 300 && status < 400) {
    return new CloudCallError({
      endpoint,
      fault: "malformed",
      status,
      detail: `answered HTTP ${status} (redirects are not followed)`,
    });
  }
  const error = _entraError(body);
  if (!error) {
    return new CloudCallError({
      endpoint,
      fault: body === undefined && status !== 401 && status !== 403 ? "malformed" : "rejected",
      status,
      detail: `answered HTTP ${status}${body === undefined ? " with a body that is not JSON" : ""}`,
    });
  }
  const what = error.description || (error.aadsts ? `AADSTS${error.aadsts}` : "");
  const tag = error.error && !what.includes(error.error) ? ` (${error.error})` : "";
  const loop = error.aadsts !== undefined && _LOOP_AADSTS.has(error.aadsts);
  return new CloudCallError({
    endpoint,
    fault: loop ? "throttled" : "rejected",
    status,
    cause: error.aadsts ? `AADSTS${error.aadsts}` : error.error,
    detail: `answered HTTP ${status}${what ? `: ${what}` : ""}${tag}`,
  });
}
