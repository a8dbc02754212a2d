/**
 * An esbuild plugin for bundles that go into a V8 startup snapshot. Node cannot snapshot
 * node:http, node:https, node:tls or node:http2 (their native handles are not serialisable), yet
 * the cloud SDKs require them at module top level. Each becomes a stand-in that loads the real
 * module on first use, which is at request time. It also means a request that never speaks HTTP/2
 * never loads node:http2 (the AWS SDK's handler requires it at top level, for one constant table).
 */
import type { Plugin } from "esbuild";

export const LAZY_BUILTINS = ["http", "https", "tls", "http2"] as const;

const NAMESPACE = "lazy-builtin";

export function lazyBuiltins(): Plugin {
  const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({ filter }, (args) => ({
        path: args.path.replace(/^node:/, ""),
        namespace: NAMESPACE,
      }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: _standIn(args.path),
        loader: "js",
      }));
    },
  };
}

/**
 * A Proxy forwarding every operation to the real module. Bundlers' ESM interop lists a module's
 * keys and reads their descriptors when the importing module is evaluated, so the key list and the
 * enumerability of each key are recorded here, from the Node that runs the build and is embedded
 * (so they are the same), and answered without loading. `constants` gets a stand-in of its own:
 * the AWS SDK destructures `http2.constants` at top level and reads its members only per request.
 * Loading the real module while the snapshot is built throws, naming the module.
 */
function _standIn(name: string): string {
  const real = process.getBuiltinModule(`node:${name}`) as Record<string, unknown>;
  const keys = Object.fromEntries(
    Object.getOwnPropertyNames(real).map((key) => [
      key,
      Object.getOwnPropertyDescriptor(real, key)?.enumerable,
    ]),
  );
  return `"use strict";
const keys = ${JSON.stringify(keys)};
let real;
function load() {
  if (real === undefined) {
    if (process.env.KUBELET_CREDENTIAL_PROVIDER_BUILDING_SNAPSHOT === "1" &&
        process.getBuiltinModule("node:v8").startupSnapshot.isBuildingSnapshot()) {
      throw new Error("node:${name} cannot be in a startup snapshot, but module evaluation used it: " +
        "keep the module that does so out of the provider's preload");
    }
    real = process.getBuiltinModule("node:${name}");
  }
  return real;
}
function forward(target) {
  return {
    get: (_, key) => target()[key],
    has: (_, key) => key in target(),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      if (descriptor) descriptor.configurable = true;
      return descriptor;
    },
  };
}
const constants = new Proxy({}, forward(() => load().constants));
const loaded = forward(load);
module.exports = new Proxy({}, {
  ...loaded,
  get: (_, key) => {
    // Bundlers' interop helpers ask whether a module is transpiled ESM; a built-in never is.
    if (key === "__esModule") return undefined;
    return key === "constants" && real === undefined ? constants : load()[key];
  },
  ownKeys: (target) => (real === undefined ? Object.keys(keys) : loaded.ownKeys(target)),
  getOwnPropertyDescriptor: (target, key) => {
    if (real !== undefined || !Object.hasOwn(keys, key)) return loaded.getOwnPropertyDescriptor(target, key);
    return { configurable: true, enumerable: keys[key], get: () => load()[key] };
  },
});
`;
}
