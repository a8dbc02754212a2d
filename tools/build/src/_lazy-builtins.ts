/**
 * An esbuild plugin for bundles that go into a V8 startup snapshot. Node cannot snapshot
 * node:http, node:https, node:tls or node:http2 (their native handles are not serialisable), yet
 * the cloud SDKs require them at module top level. Each becomes a stand-in that loads the real
 * module on first use, which is at request time. It also means a request that never speaks HTTP/2
 * never loads node:http2 (the AWS SDK's handler requires it at top level, for one constant table).
 */
import type { Plugin } from "esbuild";

const LAZY_BUILTINS = ["http", "https", "tls", "http2"] as const;

/** Set while a snapshot is built; core's harness reads it too (packages/core/src/_snapshot.ts). */
export const BUILDING_SNAPSHOT_ENV = "KUBELET_CREDENTIAL_PROVIDER_BUILDING_SNAPSHOT";

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
 * A Proxy forwarding every operation to the real module, once loaded. Before that (while the
 * snapshot is built, and at run time until first use) a member read gets a stand-in:
 * - a function or class: a function that calls or constructs the real one, so that
 *   `class X extends https.Agent` (agent-base, under @azure/identity) can be evaluated; loading
 *   re-parents each stand-in and its prototype onto the real ones, so subclasses inherit the real
 *   methods and `instanceof` holds;
 * - an object (`http2.constants`, which the AWS SDK destructures at top level): a Proxy of it.
 * Bundlers' ESM interop lists a module's keys and reads their descriptors as the importing module
 * is evaluated, so each key's kind and enumerability are recorded here, from the Node that runs the
 * build and is embedded (so they agree). Anything else (a primitive) needs the module: loading it
 * while the snapshot is built throws, naming the module.
 */
function _standIn(name: string): string {
  const real = process.getBuiltinModule(`node:${name}`) as Record<string, unknown>;
  const keys = Object.fromEntries(
    Object.getOwnPropertyNames(real).map((key) => {
      const descriptor = Object.getOwnPropertyDescriptor(real, key);
      const value = descriptor && "value" in descriptor ? descriptor.value : undefined;
      const kind =
        typeof value === "function" ? "function" : typeof value === "object" && value ? "object" : "value";
      return [key, { kind, enumerable: descriptor?.enumerable ?? false }];
    }),
  );
  return `"use strict";
const keys = ${JSON.stringify(keys)};
const standIns = new Map();
let real;
function load() {
  if (real === undefined) {
    if (process.env.${BUILDING_SNAPSHOT_ENV} === "1" &&
        process.getBuiltinModule("node:v8").startupSnapshot.isBuildingSnapshot()) {
      throw new Error("node:${name} cannot be in a startup snapshot, but module evaluation used it: " +
        "keep the module that does so out of the provider's preload");
    }
    real = process.getBuiltinModule("node:${name}");
    for (const [key, standIn] of standIns) {
      const target = real[key];
      if (typeof standIn !== "function" || typeof target !== "function") continue;
      Object.setPrototypeOf(standIn, target);
      if (target.prototype) Object.setPrototypeOf(standIn.prototype, target.prototype);
    }
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
function standInFor(key) {
  let standIn = standIns.get(key);
  if (standIn !== undefined) return standIn;
  if (keys[key].kind === "function") {
    standIn = function (...args) {
      const target = load()[key];
      return new.target ? Reflect.construct(target, args, new.target) : Reflect.apply(target, this, args);
    };
    Object.defineProperty(standIn, "name", { value: key });
    Object.defineProperty(standIn, Symbol.hasInstance, {
      value(value) {
        // Only for the stand-in itself: a subclass inherits this static, and must answer for itself.
        return this === standIn ? value instanceof load()[key] : Function.prototype[Symbol.hasInstance].call(this, value);
      },
    });
  } else if (keys[key].kind === "object") {
    standIn = new Proxy({}, forward(() => load()[key]));
  } else {
    return load()[key];
  }
  standIns.set(key, standIn);
  return standIn;
}
const loaded = forward(load);
module.exports = new Proxy({}, {
  ...loaded,
  get: (_, key) => {
    // Bundlers' interop helpers ask whether a module is transpiled ESM; a built-in never is.
    if (key === "__esModule") return undefined;
    return real === undefined && Object.hasOwn(keys, key) ? standInFor(key) : load()[key];
  },
  ownKeys: (target) => (real === undefined ? Object.keys(keys) : loaded.ownKeys(target)),
  getOwnPropertyDescriptor: (target, key) => {
    if (real !== undefined || !Object.hasOwn(keys, key)) return loaded.getOwnPropertyDescriptor(target, key);
    return { configurable: true, enumerable: keys[key].enumerable, get: () => module.exports[key] };
  },
});
`;
}
