/** What install.test.ts, deploy.test.ts and shellcheck.test.ts share: the release's names, PATH look-ups, files. */
import { createHash } from "node:crypto";
import { copyFileSync, linkSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Each provider's key (install.sh --provider) and its binary's name. */
export const BINARIES = {
  ecr: "ecr-credential-provider",
  acr: "acr-credential-provider",
  gcp: "auth-provider-gcp",
} as const;
export type Provider = keyof typeof BINARIES;
export const HOST_ARCH = process.arch === "arm64" ? "arm64" : "amd64";

/** Where a command is on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Put a hard link (or a copy) of `from` at `to`. */
export function place(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The hex SHA-256 of `data`. */
export function sha256Of(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
