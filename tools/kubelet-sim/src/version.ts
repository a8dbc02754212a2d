/**
 * The simulator's name and version. Hardcoded, because the standalone executable bundle has no
 * package.json to read at run time; version.test.ts keeps it equal to package.json's.
 */
export const NAME = "kubelet-credential-sim";
export const VERSION = "0.1.0";
