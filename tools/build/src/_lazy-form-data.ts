/**
 * An esbuild `inject` file for the executables' bundles: the free identifier `FormData` in bundled
 * code becomes this stand-in. @azure/core-rest-pipeline asks `body instanceof FormData` of every
 * request, and Node's FormData global loads all of undici to answer (~30 ms of an ACR run); no
 * value can be a FormData while undici is unloaded, so the stand-in answers false without loading
 * it. Constructing one, or asking once undici is loaded, uses the real global.
 */
const UNDICI = "NativeModule internal/deps/undici/undici";

export const FormData = function FormData(this: unknown, ...args: unknown[]) {
  const real = globalThis.FormData;
  return Reflect.construct(
    real,
    args,
    new.target === undefined || new.target === FormData ? real : new.target,
  );
} as unknown as typeof globalThis.FormData;

Object.defineProperty(FormData, Symbol.hasInstance, {
  value: (value: unknown) =>
    (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(UNDICI) &&
    value instanceof globalThis.FormData,
});
