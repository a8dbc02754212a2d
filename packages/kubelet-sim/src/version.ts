/**
 * The simulator's name and version. The version is package.json's, read at load on Node and
 * defined by the build in the standalone executable (core's packageVersion).
 */
import { packageVersion } from "@kubelet-credential-provider/core";

export const NAME = "kubelet-credential-sim";
export const VERSION = packageVersion(new URL("../package.json", import.meta.url));
