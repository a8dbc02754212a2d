/**
 * docs/writing-a-provider.md as a script: each fenced block with a `title="PATH"` is a file the
 * reader creates at that point, each ```` ```sh walkthrough ```` block commands the reader runs, in
 * the page's order, in one shell (a `cd` carries on). The rehearsal runs the script in an empty
 * directory against the local registry, so the page is exactly what works.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./workspace.ts";

export type WalkthroughStep =
  | { kind: "file"; path: string; content: string }
  | { kind: "commands"; text: string };

export const WALKTHROUGH_DOC = join(repoRoot, "docs", "writing-a-provider.md");

export function walkthroughSteps(markdown = readFileSync(WALKTHROUGH_DOC, "utf8")): WalkthroughStep[] {
  const steps: WalkthroughStep[] = [];
  for (const block of markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = block[1] ?? "";
    const body = block[2] ?? "";
    const title = /\btitle="([^"]+)"/.exec(info)?.[1];
    if (title) steps.push({ kind: "file", path: title, content: body });
    else if (/^sh walkthrough$/.test(info.trim())) steps.push({ kind: "commands", text: body });
  }
  return steps;
}

/** One POSIX shell script: `set -eu`, each file written with a quoted here-document, each command as is. */
export function walkthroughScript(steps: readonly WalkthroughStep[]): string {
  const lines = ["set -eu"];
  for (const step of steps) {
    if (step.kind === "commands") {
      lines.push(step.text.trimEnd());
      continue;
    }
    if (
      !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(step.path) ||
      step.path.split("/").some((segment) => segment === "." || segment === "..") ||
      step.content.includes("\nKCP_WALKTHROUGH_EOF\n")
    ) {
      throw new Error(`cannot write ${step.path} from the walkthrough`);
    }
    const dir = step.path.includes("/") ? step.path.slice(0, step.path.lastIndexOf("/")) : "";
    if (dir) lines.push(`mkdir -p ${dir}`);
    lines.push(
      `cat > ${step.path} <<'KCP_WALKTHROUGH_EOF'`,
      step.content.replace(/\n$/, ""),
      "KCP_WALKTHROUGH_EOF",
    );
  }
  return `${lines.join("\n")}\n`;
}
