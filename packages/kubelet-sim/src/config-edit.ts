/**
 * Editing the text of a CredentialProviderConfig: one provider entry added, replaced or removed,
 * every other provider and field kept. The installer calls this (through `config set-provider` and
 * `config remove-provider`) because a POSIX sh on a node cannot parse JSON or YAML faithfully.
 *
 * YAML is edited in place: the entry's own lines are spliced, located with the `yaml` package's
 * Document API, so that comments, blank lines, quoting and key order elsewhere stay byte for byte.
 * When the file's shape does not allow that (a flow-style list, no list yet), the edit is made on
 * the Document and the whole document is printed again, which keeps comments and order but may
 * respace them. Either way the result is parsed back and must hold exactly the intended data, or
 * nothing is returned.
 */
import { extname } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Document, DocumentOptions, ParseOptions, SchemaOptions, YAMLMap } from "yaml";

export type ConfigFormat = "json" | "yaml";

/** A provider entry as given on the command line: an object with a name; the rest is checked later. */
export type ProviderEntry = { name: string } & Record<string, unknown>;

/**
 * `keep`: fields an existing entry of that name keeps as it has them (present or absent), over the
 * entry given; they are the operator's settings of the provider (its args, env, tokenAttributes).
 */
export type ConfigEdit =
  | { op: "set"; entry: ProviderEntry; keep?: readonly string[] }
  | { op: "remove"; name: string };

/** The fields of an entry that are the operator's settings rather than the provider's defaults. */
export const OPERATOR_SETTINGS = ["args", "env", "tokenAttributes"] as const;

/**
 * What the edit does to the entry: `added`, `replaced`, `removed`; `unchanged` when the entry is
 * already as given (set), `absent` when there is no entry of that name (remove; the text is then
 * the file's own). `converted` when set finds the entry as given but the file is rewritten in the
 * format its name asks for.
 */
export type EntryChange = "added" | "replaced" | "removed" | "unchanged" | "absent" | "converted";

export interface EditedConfig {
  /** The new text; equal to the old one when nothing changes. */
  text: string;
  change: EntryChange;
  format: ConfigFormat;
  /** The format the file held, when the new text is in the other one. */
  convertedFrom?: ConfigFormat;
  /** How many providers the new config has. */
  providers: number;
}

/** The config a new file starts from, in the order the kubelet's documentation writes it. */
const NEW_CONFIG = {
  apiVersion: "kubelet.config.k8s.io/v1",
  kind: "CredentialProviderConfig",
} as const;

/** `entry`, with the `keep` fields as `existing` has them (taken out where it has none). */
function _keeping(entry: ProviderEntry, existing: unknown, keep: readonly string[]): ProviderEntry {
  if (!_isObject(existing) || keep.length === 0) return entry;
  const kept: ProviderEntry = { ...entry };
  for (const field of keep) {
    if (Object.hasOwn(existing, field)) kept[field] = existing[field];
    else delete kept[field];
  }
  return kept;
}

/** apimachinery's IsJSONBuffer, which the kubelet's codec uses: JSON when the text starts with `{`. */
export function isJsonText(text: string): boolean {
  return /^[ \t\r\n]*\{/.test(text);
}

/**
 * The format to write: JSON into a `.json` file, YAML into a `.yaml` or `.yml` file; any other
 * name keeps the format the file holds (the kubelet reads either, by content), YAML for a new one.
 */
export function outputFormat(path: string, current: ConfigFormat | undefined): ConfigFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  return current ?? "yaml";
}

// Read as core reads a config (YAML 1.1 as go-yaml, timestamps left as strings), so that what is
// compared here is what the kubelet sees.
const _PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  logLevel: "error",
  uniqueKeys: false,
  customTags: (tags) =>
    tags.filter((tag) => typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:timestamp"),
};

/**
 * Applies `edit` to `before`, the text of a file that decodes as a CredentialProviderConfig
 * (undefined: a new file, or one being replaced). `path` decides the output format. Does not
 * validate the result: the caller does, with the kubelet's rules.
 *
 * @throws Error when the edited text would not hold exactly the intended data (never expected; a
 *   refusal to write rather than a wrong file).
 */
export async function editConfigText(
  before: string | undefined,
  path: string,
  requested: ConfigEdit,
): Promise<EditedConfig> {
  const yaml = await import("yaml");
  const current: ConfigFormat | undefined =
    before === undefined ? undefined : isJsonText(before) ? "json" : "yaml";
  const format = outputFormat(path, current);
  const document =
    before !== undefined && current === "yaml" ? yaml.parseDocument(before, _PARSE_OPTIONS) : undefined;
  const data: Record<string, unknown> =
    before === undefined
      ? { ...NEW_CONFIG, providers: [] }
      : ((document?.toJS() ?? JSON.parse(before)) as Record<string, unknown>);
  const providers: unknown[] = Array.isArray(data.providers) ? data.providers : [];
  const name = requested.op === "set" ? requested.entry.name : requested.name;
  const index = providers.findIndex((provider) => _isObject(provider) && provider.name === name);

  // The entry as it will be written: with the fields an existing entry keeps.
  const edit: ConfigEdit =
    requested.op === "set" && index !== -1
      ? { op: "set", entry: _keeping(requested.entry, providers[index], requested.keep ?? []) }
      : requested;
  let change: EntryChange;
  let next: unknown[];
  if (edit.op === "set") {
    const { entry } = edit;
    change = index === -1 ? "added" : isDeepStrictEqual(providers[index], entry) ? "unchanged" : "replaced";
    next =
      index === -1 ? [...providers, entry] : providers.map((provider, i) => (i === index ? entry : provider));
  } else {
    change = index === -1 ? "absent" : "removed";
    next = providers.filter((_, i) => i !== index);
  }
  const converted = current !== undefined && current !== format;
  // Nothing to remove is nothing to write, not even a conversion.
  if (before !== undefined && (change === "absent" || (change === "unchanged" && !converted))) {
    return { text: before, change, format: current ?? format, providers: providers.length };
  }
  if (change === "unchanged" && converted) change = "converted";

  // Assigning keeps `providers` where it was among the other fields.
  const expected: Record<string, unknown> = structuredClone(data);
  expected.providers = next;

  let text: string;
  if (format === "json") {
    const indent = current === "json" && before !== undefined ? _jsonIndent(before) : 2;
    text = `${JSON.stringify(expected, null, indent)}\n`;
    if (!isDeepStrictEqual(JSON.parse(text), expected))
      throw new Error("the edited JSON does not hold the intended config");
  } else if (document !== undefined && before !== undefined) {
    const spliced = _splice(yaml, document, before, edit, index);
    if (spliced !== undefined && _holds(yaml, spliced, expected)) {
      text = spliced;
    } else {
      text = _reprint(yaml, document, before, edit, index);
      if (!_holds(yaml, text, expected)) throw new Error("the edited YAML does not hold the intended config");
    }
  } else {
    text = new yaml.Document(expected, { version: "1.1" }).toString({ lineWidth: 0 });
    if (!_holds(yaml, text, expected)) throw new Error("the YAML written does not hold the intended config");
  }
  return {
    text,
    change,
    format,
    ...(converted ? { convertedFrom: current } : {}),
    providers: next.length,
  };
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The indentation of the first indented line (`"  "`, `"\t"`), 2 spaces when there is none. */
function _jsonIndent(text: string): string | number {
  const match = /\n([ \t]+)\S/.exec(text);
  return match?.[1] ?? 2;
}

/** Whether `text` is one YAML document whose data is `expected`, read as the kubelet reads it. */
function _holds(yaml: typeof import("yaml"), text: string, expected: unknown): boolean {
  const documents = yaml.parseAllDocuments(text, _PARSE_OPTIONS);
  const [document] = documents;
  if (documents.length !== 1 || document === undefined || document.errors.length > 0) return false;
  return isDeepStrictEqual(document.toJS(), expected);
}

/** The `providers` pair of the document's top-level map. */
function _providersPair(yaml: typeof import("yaml"), document: Document) {
  const contents = document.contents;
  if (!yaml.isMap(contents)) return undefined;
  return (contents as YAMLMap).items.find(
    (pair) => yaml.isScalar(pair.key) && pair.key.value === "providers",
  );
}

/** Whether the file's block lists put `-` under their key (Go's style) rather than indented. */
function _indentsSequences(yaml: typeof import("yaml"), document: Document.Parsed, before: string): boolean {
  const pair = _providersPair(yaml, document);
  const keyStart = yaml.isNode(pair?.key) ? pair.key.range?.[0] : undefined;
  const seq = pair?.value;
  const itemStart =
    yaml.isSeq(seq) && !seq.flow
      ? (seq.items[0] as { range?: [number, number, number] })?.range?.[0]
      : undefined;
  if (keyStart === undefined || itemStart === undefined) return true;
  const keyColumn = keyStart - (before.lastIndexOf("\n", keyStart - 1) + 1);
  const dashColumn = before.slice(before.lastIndexOf("\n", itemStart - 1) + 1, itemStart).lastIndexOf("-");
  return dashColumn === -1 || dashColumn > keyColumn;
}

/**
 * The edit made on the text itself, touching only the entry's lines: undefined when the providers
 * list is not a block list of maps, each item `- ...` at one column.
 */
function _splice(
  yaml: typeof import("yaml"),
  document: Document.Parsed,
  before: string,
  edit: ConfigEdit,
  index: number,
): string | undefined {
  const pair = _providersPair(yaml, document);
  const seq = pair?.value;
  if (
    edit.op === "set" &&
    (seq === null || yaml.isScalar(seq) || (yaml.isSeq(seq) && seq.items.length === 0))
  ) {
    return _spliceFirst(yaml, document, before, edit.entry);
  }
  if (!yaml.isSeq(seq) || seq.flow || seq.items.length === 0) return undefined;
  const lineStart = (offset: number) => before.lastIndexOf("\n", offset - 1) + 1;
  let column: number | undefined;
  const spans: { start: number; end: number }[] = [];
  for (const item of seq.items) {
    if (!yaml.isMap(item) || item.range == null) return undefined;
    const start = lineStart(item.range[0]);
    const lead = /^( *)- +$/.exec(before.slice(start, item.range[0]));
    if (lead === null) return undefined;
    const indent = (lead[1] as string).length;
    if (column !== undefined && indent !== column) return undefined;
    column = indent;
    spans.push({ start, end: _itemEnd(before, start, item.range[2], indent) });
  }
  if (column === undefined) return undefined;

  if (edit.op === "remove") {
    const span = spans[index];
    if (span === undefined) return undefined;
    // Comment lines right above the entry, at its column, describe it: they go with it.
    let start = span.start;
    const commentAbove = new RegExp(`^ {${column}}#`);
    while (start > 0) {
      const previous = lineStart(start - 1);
      if (!commentAbove.test(before.slice(previous, start))) break;
      start = previous;
    }
    if (seq.items.length > 1) return before.slice(0, start) + before.slice(span.end);
    // The last entry: `providers: []`, since a `providers:` with nothing under it would be null.
    const keyEnd = _providersPair(yaml, document)?.key;
    const colon = yaml.isNode(keyEnd) && keyEnd.range != null ? before.indexOf(":", keyEnd.range[1]) : -1;
    if (colon === -1 || colon >= start) return undefined;
    return `${before.slice(0, colon + 1)} []${before.slice(colon + 1, start)}${before.slice(span.end)}`;
  }

  const item = new yaml.Document([edit.entry], { version: "1.1" })
    .toString({ lineWidth: 0, indentSeq: _indentsSequences(yaml, document, before) })
    .split("\n")
    .map((line) => (line === "" ? line : " ".repeat(column) + line))
    .join("\n");
  const replaced = spans[index];
  if (replaced !== undefined) return before.slice(0, replaced.start) + item + before.slice(replaced.end);
  const last = spans.at(-1) as { end: number };
  const joint = last.end > 0 && before[last.end - 1] !== "\n" ? "\n" : "";
  return before.slice(0, last.end) + joint + item + before.slice(last.end);
}

/**
 * The first entry of a `providers:` that holds nothing (null, `~`, `[]`): the list goes on the
 * lines after the key, indented under it; the rest of the key's line (a comment) stays.
 */
function _spliceFirst(
  yaml: typeof import("yaml"),
  document: Document.Parsed,
  before: string,
  entry: ProviderEntry,
): string | undefined {
  const key = _providersPair(yaml, document)?.key;
  if (!yaml.isNode(key) || key.range == null) return undefined;
  const colon = before.indexOf(":", key.range[1]);
  if (colon === -1) return undefined;
  const newline = before.indexOf("\n", colon);
  const lineEnd = newline === -1 ? before.length : newline;
  const value = /^[ \t]*(?:\[[ \t]*\]|null|Null|NULL|~)?([ \t]+#.*)?[ \t]*$/.exec(
    before.slice(colon + 1, lineEnd),
  );
  if (value === null) return undefined;
  const column = key.range[0] - (before.lastIndexOf("\n", key.range[0] - 1) + 1);
  const item = new yaml.Document([entry], { version: "1.1" })
    .toString({ lineWidth: 0 })
    .split("\n")
    .map((line) => (line === "" ? line : " ".repeat(column + 2) + line))
    .join("\n");
  return `${before.slice(0, colon + 1)}${value[1] ?? ""}\n${item}${before.slice(newline === -1 ? lineEnd : newline + 1)}`;
}

/**
 * Where an item's own lines end: yaml's range runs on to the next item, over blank lines and the
 * comments about that next item, which stay where they are. Lines indented deeper than the `-`
 * (a comment inside the entry) are the item's.
 */
function _itemEnd(text: string, start: number, rangeEnd: number, column: number): number {
  const lines = text.slice(start, rangeEnd).split(/(?<=\n)/);
  let end = rangeEnd;
  for (let i = lines.length - 1; i > 0; i--) {
    const line = lines[i] as string;
    const indent = (/^ */.exec(line) as RegExpExecArray)[0].length;
    const blank = line.trim() === "";
    const outerComment = line.trimStart().startsWith("#") && indent <= column;
    if (!blank && !outerComment) break;
    end -= line.length;
  }
  // Through the end of the last line (its trailing comment, its newline).
  if (end > 0 && text[end - 1] !== "\n") {
    const newline = text.indexOf("\n", end);
    end = newline === -1 ? text.length : newline + 1;
  }
  return end;
}

/** The edit made on the Document, printed whole: comments and order kept, spacing may change. */
function _reprint(
  yaml: typeof import("yaml"),
  document: Document.Parsed,
  before: string,
  edit: ConfigEdit,
  index: number,
): string {
  const indentSeq = _indentsSequences(yaml, document, before);
  const edited = document.clone();
  const seq = _providersPair(yaml, edited)?.value;
  if (edit.op === "remove") {
    if (yaml.isSeq(seq)) seq.items.splice(index, 1);
    // An empty block list prints as a `[]` under its comments, which yaml cannot read back in
    // Go's style: an empty flow list instead, the comments after it.
    const pair = _providersPair(yaml, edited);
    if (yaml.isSeq(seq) && seq.items.length === 0 && pair !== undefined) {
      const empty = new yaml.YAMLSeq();
      empty.flow = true;
      const comments = [seq.commentBefore, seq.comment].filter((c) => c !== undefined && c !== null);
      if (comments.length > 0) empty.comment = comments.join("\n");
      pair.value = empty;
    }
  } else if (yaml.isSeq(seq) && index !== -1) {
    const node = edited.createNode(edit.entry);
    const old = seq.items[index];
    if (yaml.isNode(old)) node.commentBefore = old.commentBefore;
    seq.items[index] = node;
  } else if (yaml.isSeq(seq)) {
    seq.items.push(edited.createNode(edit.entry));
  } else {
    // `providers:` with no list (null) or none at all: a new list, with the comments of the null.
    const list = edited.createNode([edit.entry]);
    const pair = _providersPair(yaml, edited);
    if (yaml.isNode(pair?.value)) {
      list.commentBefore = pair.value.commentBefore;
      list.comment = pair.value.comment;
    }
    edited.set("providers", list);
  }
  return edited.toString({ lineWidth: 0, indentSeq });
}
