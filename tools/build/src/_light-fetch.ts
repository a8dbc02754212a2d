/**
 * An esbuild `inject` file for the executables' bundles: the free identifiers `Headers` and
 * `Response` in bundled code become these. Node's globals of those names load all of undici on
 * first use (~40 ms of CPU, a quarter of a Google provider's run: gaxios and google-auth-library
 * build a `Headers` for every request, and the provider answers gaxios's fetch with a `Response`),
 * and undici cannot be in a startup snapshot. No bundled code calls the real `fetch`: every
 * request goes through core's HTTP client, so nothing here meets undici's own classes.
 *
 * `Headers` follows the WHATWG Fetch standard's Headers (names are case-insensitive and kept
 * lowercase, values trimmed and combined with ", ", set-cookie kept apart, iteration sorted by
 * name, invalid names and values a TypeError). `Response` covers what a fetch implementation hands
 * gaxios: a complete body (bytes or none), a status and headers; its body is read once.
 */

type HeadersInit = Iterable<readonly [string, string]> | Record<string, string> | undefined | null;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[\0\r\n]/;

function _name(name: string): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

function _value(value: string): string {
  const text = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (INVALID_VALUE.test(text)) throw new TypeError("Headers: invalid header value");
  return text;
}

class LightHeaders {
  readonly #values = new Map<string, string[]>();

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError("Headers: each header must be a [name, value] pair");
        this.append(pair[0], pair[1]);
      }
      return;
    }
    if (typeof init !== "object") throw new TypeError("Headers: init must be an object or an iterable");
    for (const key of Object.keys(init)) this.append(key, (init as Record<string, string>)[key] as string);
  }

  append(name: string, value: string): void {
    const key = _name(name);
    const list = this.#values.get(key);
    if (list) list.push(_value(value));
    else this.#values.set(key, [_value(value)]);
  }

  set(name: string, value: string): void {
    this.#values.set(_name(name), [_value(value)]);
  }

  delete(name: string): void {
    this.#values.delete(_name(name));
  }

  has(name: string): boolean {
    return this.#values.has(_name(name));
  }

  get(name: string): string | null {
    return this.#values.get(_name(name))?.join(", ") ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#values.keys()].sort()) {
      const list = this.#values.get(key) ?? [];
      if (key === "set-cookie") for (const value of list) yield [key, value];
      else yield [key, list.join(", ")];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, key: string, headers: LightHeaders) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}

const STATUS_TEXT: Record<number, string> = { 200: "OK", 204: "No Content", 404: "Not Found" };

class LightResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: LightHeaders;
  readonly type = "default";
  readonly url = "";
  readonly redirected = false;
  #bytes: Uint8Array | null;
  #used = false;

  constructor(
    body?: Uint8Array | ArrayBuffer | string | null,
    init: { status?: number; statusText?: string; headers?: HeadersInit } = {},
  ) {
    this.status = init.status ?? 200;
    if (!Number.isInteger(this.status) || this.status < 200 || this.status > 599) {
      throw new RangeError(`Response: status ${this.status} is outside 200-599`);
    }
    this.statusText = init.statusText ?? STATUS_TEXT[this.status] ?? "";
    this.headers = init.headers instanceof LightHeaders ? init.headers : new LightHeaders(init.headers);
    if (body === undefined || body === null) this.#bytes = null;
    else if (typeof body === "string") this.#bytes = new TextEncoder().encode(body);
    else if (body instanceof ArrayBuffer) this.#bytes = new Uint8Array(body);
    else if (body instanceof Uint8Array) this.#bytes = body;
    else throw new TypeError("Response: the body must be bytes, a string or null");
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** A web stream of the body, as fetch gives (Blob's, from node:buffer: no undici). */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#bytes === null ? null : new Blob([this.#bytes as Uint8Array<ArrayBuffer>]).stream();
  }

  #take(): Uint8Array {
    if (this.#used) throw new TypeError("Response: the body has already been read");
    this.#used = true;
    return this.#bytes ?? new Uint8Array(0);
  }

  async bytes(): Promise<Uint8Array> {
    return this.#take().slice();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer as ArrayBuffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(this.#take());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    const type = this.headers.get("content-type") ?? "";
    return new Blob([(await this.bytes()) as Uint8Array<ArrayBuffer>], type ? { type } : {});
  }

  clone(): LightResponse {
    if (this.#used) throw new TypeError("Response: cannot clone a response whose body was read");
    return new LightResponse(this.#bytes, {
      status: this.status,
      statusText: this.statusText,
      headers: new LightHeaders(this.headers),
    });
  }

  get [Symbol.toStringTag](): string {
    return "Response";
  }
}

export const Headers = LightHeaders as unknown as typeof globalThis.Headers;
export const Response = LightResponse as unknown as typeof globalThis.Response;
