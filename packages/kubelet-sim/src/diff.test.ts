/**
 * The dry run's unified diff: for any two texts, its hunks turn the first into the second (checked
 * by applying them, as `patch` would), with `diff -u`'s headers, ranges and no-newline marks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./diff.ts";

/** Applies a unified diff to `before`, checking every context and removed line against it. */
function applyDiff(before: string, diff: string): string {
  const source = before === "" ? [] : before.split(/(?<=\n)/);
  const lines = diff.split("\n").slice(2, -1);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i] as string);
    if (header === null) throw new Error(`not a hunk header: ${lines[i]}`);
    const aCount = header[2] === undefined ? 1 : Number(header[2]);
    const aStart = aCount === 0 ? Number(header[1]) : Number(header[1]) - 1;
    while (at < aStart) out.push(source[at++] as string);
    let removed = 0;
    let added = 0;
    for (i++; i < lines.length && !(lines[i] as string).startsWith("@@"); i++) {
      const line = lines[i] as string;
      const noNewline = lines[i + 1] === "\\ No newline at end of file";
      const text = line.slice(1) + (noNewline ? "" : "\n");
      if (noNewline) i++;
      if (line[0] === "+") {
        out.push(text);
        added++;
      } else {
        if (source[at] !== text)
          throw new Error(`line ${at + 1} is ${JSON.stringify(source[at])}, not ${JSON.stringify(text)}`);
        at++;
        removed += line[0] === "-" ? 1 : 0;
        if (line[0] === " ") out.push(text);
        else if (line[0] !== "-") throw new Error(`not a diff line: ${line}`);
      }
    }
    i--;
    expect(removed + added).toBeGreaterThan(0);
  }
  while (at < source.length) out.push(source[at++] as string);
  return out.join("");
}

const labels = { before: "a/config.yaml", after: "b/config.yaml" };

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", labels)).toBe("");
  });

  it("prints diff -u's headers, ranges and context", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
    const after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\neleven\n";
    expect(unifiedDiff(before, after, labels)).toBe(
      "--- a/config.yaml\n+++ b/config.yaml\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+eleven\n",
    );
    expect(unifiedDiff(undefined, "x\n", labels)).toBe(
      "--- /dev/null\n+++ b/config.yaml\n@@ -0,0 +1 @@\n+x\n",
    );
    expect(unifiedDiff("x\n", "", labels)).toBe("--- a/config.yaml\n+++ b/config.yaml\n@@ -1 +0,0 @@\n-x\n");
  });

  it("marks a last line without a newline", () => {
    expect(unifiedDiff("a\nb", "a\nb\n", labels)).toBe(
      "--- a/config.yaml\n+++ b/config.yaml\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
    );
  });

  it("turns any text into any other (applied as patch would)", () => {
    const line = fc.constantFrom("a", "b", "c", "- name: x", "", "  # c");
    const text = fc
      .tuple(fc.array(line, { maxLength: 30 }), fc.boolean())
      .map(([lines, newline]) => (lines.length === 0 ? "" : lines.join("\n") + (newline ? "\n" : "")));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const diff = unifiedDiff(before, after, labels);
        if (before === after) return diff === "";
        return applyDiff(before, diff) === after;
      }),
      { numRuns: 500 },
    );
  });
});
