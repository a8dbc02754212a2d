/**
 * A unified diff of two texts, line by line, as `diff -u` prints it: what `config ... --dry-run`
 * shows an operator before anything is written. No diff program is needed on the node.
 */

/** Lines of context around each change, as `diff -u`. */
const _CONTEXT = 3;

/** Above this many cells the longest-common-subsequence table is not built: a whole-file hunk. */
const _MAX_CELLS = 4_000_000;

/**
 * The unified diff turning `before` into `after`, with `---`/`+++` headers naming the two sides;
 * `before` undefined means a new file (`--- /dev/null`). Empty when the texts are equal. A last
 * line without a newline is marked `\ No newline at end of file`, as `diff -u` does.
 */
export function unifiedDiff(
  before: string | undefined,
  after: string,
  labels: { before: string; after: string },
): string {
  if (before === after) return "";
  const a = _lines(before ?? "");
  const b = _lines(after);
  const ops = _diffOps(a, b);
  const out = [`--- ${before === undefined ? "/dev/null" : labels.before}`, `+++ ${labels.after}`];
  for (const hunk of _hunks(ops)) {
    const aStart = hunk.aCount === 0 ? hunk.aStart : hunk.aStart + 1;
    const bStart = hunk.bCount === 0 ? hunk.bStart : hunk.bStart + 1;
    out.push(`@@ -${_range(aStart, hunk.aCount)} +${_range(bStart, hunk.bCount)} @@`);
    for (const op of hunk.ops) {
      const line = op.kind === "add" ? b[op.b] : a[op.a];
      const mark = op.kind === "add" ? "+" : op.kind === "remove" ? "-" : " ";
      const text = line ?? "";
      out.push(`${mark}${text.endsWith("\n") ? text.slice(0, -1) : text}`);
      if (!text.endsWith("\n")) out.push("\\ No newline at end of file");
    }
  }
  return `${out.join("\n")}\n`;
}

function _range(start: number, count: number): string {
  return count === 1 ? String(start) : `${start},${count}`;
}

/** Lines with their newline, so that a missing last newline is a difference. */
function _lines(text: string): string[] {
  if (text === "") return [];
  return text.split(/(?<=\n)/);
}

type _Op =
  | { kind: "keep"; a: number; b: number }
  | { kind: "remove"; a: number }
  | { kind: "add"; b: number };

/** The edit script: the common prefix and suffix kept, the middle by longest common subsequence. */
function _diffOps(a: readonly string[], b: readonly string[]): _Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  )
    suffix++;
  const ops: _Op[] = [];
  for (let i = 0; i < prefix; i++) ops.push({ kind: "keep", a: i, b: i });
  const n = a.length - prefix - suffix;
  const m = b.length - prefix - suffix;
  if ((n + 1) * (m + 1) > _MAX_CELLS) {
    for (let i = 0; i < n; i++) ops.push({ kind: "remove", a: prefix + i });
    for (let j = 0; j < m; j++) ops.push({ kind: "add", b: prefix + j });
  } else {
    // lcs[i][j]: the longest common subsequence of a[prefix+i..] and b[prefix+j..].
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] =
          a[prefix + i] === b[prefix + j]
            ? (lcs[(i + 1) * width + j + 1] as number) + 1
            : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[prefix + i] === b[prefix + j]) {
        ops.push({ kind: "keep", a: prefix + i, b: prefix + j });
        i++;
        j++;
      } else if (
        j === m ||
        (i < n && (lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number))
      ) {
        // On a tie the removal goes first, so that a change reads as diff -u prints it.
        ops.push({ kind: "remove", a: prefix + i });
        i++;
      } else {
        ops.push({ kind: "add", b: prefix + j });
        j++;
      }
    }
  }
  for (let k = suffix; k > 0; k--) ops.push({ kind: "keep", a: a.length - k, b: b.length - k });
  return ops;
}

interface _Hunk {
  aStart: number;
  aCount: number;
  bStart: number;
  bCount: number;
  ops: _Op[];
}

/** Groups the changes with their context; changes closer than twice the context share a hunk. */
function _hunks(ops: readonly _Op[]): _Hunk[] {
  const changed = ops.flatMap((op, index) => (op.kind === "keep" ? [] : [index]));
  const hunks: _Hunk[] = [];
  let k = 0;
  while (k < changed.length) {
    const first = changed[k] as number;
    let last = first;
    while (k + 1 < changed.length && (changed[k + 1] as number) - last <= 2 * _CONTEXT + 1) {
      k++;
      last = changed[k] as number;
    }
    k++;
    const from = Math.max(0, first - _CONTEXT);
    const to = Math.min(ops.length, last + _CONTEXT + 1);
    const slice = ops.slice(from, to);
    // Where the hunk starts in each file: the lines of that file before its first op.
    let aStart = 0;
    let bStart = 0;
    for (const op of ops.slice(0, from)) {
      if (op.kind !== "add") aStart++;
      if (op.kind !== "remove") bStart++;
    }
    hunks.push({
      aStart,
      bStart,
      aCount: slice.filter((op) => op.kind !== "add").length,
      bCount: slice.filter((op) => op.kind !== "remove").length,
      ops: slice,
    });
  }
  return hunks;
}
