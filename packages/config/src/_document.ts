/**
 * A config document's text as plain data, read as the kubelet's codec reads it: JSON when the text
 * starts with `{`, otherwise YAML 1.1 as go-yaml reads it, with the duplicate keys that its strict
 * decoding reports. The YAML parser is imported only when a YAML document is met, so that
 * providers, which never read a config, do not load it at start-up.
 */

import { goQuote as _goQuote } from "@kubelet-credential-provider/core/go";
import type { Document, LineCounter } from "yaml";
import { _messageOf } from "./_error-text.ts";

export interface _Parsed {
  data: unknown;
  /** Duplicate keys, which the kubelet reports together with unknown fields. */
  strictErrors: string[];
}

/** The document's data; a promise only for YAML, whose parser must be imported first. */
export function _parseDocument(text: string): _Parsed | Promise<_Parsed> {
  return _isJsonText(text) ? _parseJson(text) : _parseYaml(text);
}

// apimachinery's IsJSONBuffer: the codec picks its JSON decoder when the text starts with '{'.
function _isJsonText(text: string): boolean {
  return /^[ \t\r\n]*\{/.test(text);
}

function _parseJson(text: string): _Parsed {
  const data: unknown = JSON.parse(text);
  return {
    data,
    strictErrors: _jsonDuplicateFields(text).map((path) => `duplicate field ${JSON.stringify(path)}`),
  };
}

/** Paths of repeated object keys in (already valid) JSON text, which JSON.parse silently drops. */
function _jsonDuplicateFields(text: string): string[] {
  const found: string[] = [];
  // One frame per open container: its keys so far (objects only) and the current key or index.
  const stack: { keys?: Set<string>; at: string | number }[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = stack.at(-1);
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (top?.keys !== undefined && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        top.at = key;
        if (top.keys.has(key)) found.push(_fieldPath(stack.map((frame) => frame.at)));
        top.keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (char === "{") {
      stack.push({ keys: new Set(), at: "" });
      expectKey = true;
    } else if (char === "[") {
      stack.push({ at: 0 });
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === "," && top !== undefined) {
      if (top.keys !== undefined) expectKey = true;
      else top.at = Number(top.at) + 1;
    }
  }
  return found;
}

async function _parseYaml(text: string): Promise<_Parsed> {
  const yaml = await import("yaml");
  const lineCounter = new yaml.LineCounter();
  const documents = yaml.parseAllDocuments(text, {
    version: "1.1",
    lineCounter,
    // Problems are reported as errors; yaml's own warnings would go to stderr as Node warnings.
    logLevel: "error",
    uniqueKeys: false,
    // go-yaml v2 leaves timestamps as strings when decoding into interface{}; so must we.
    customTags: (tags) =>
      tags.filter((tag) => typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:timestamp"),
  });
  if (documents.length > 1) {
    throw new Error(`found ${documents.length} YAML documents, a config file must hold exactly one`);
  }
  const document = documents[0];
  if (document === undefined) return { data: null, strictErrors: [] };
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    const line = syntaxError.linePos?.[0].line;
    const message = syntaxError.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "");
    throw new Error(
      `error converting YAML to JSON: yaml: ${line === undefined ? "" : `line ${line}: `}${message}`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    throw new Error(`error converting YAML to JSON: yaml: ${_messageOf(error)}`);
  }
  const duplicates = _yamlDuplicateKeys(yaml, document, lineCounter);
  const strictErrors =
    duplicates.length === 0
      ? []
      : [`error converting YAML to JSON: yaml: unmarshal errors: ${duplicates.join("; ")}`];
  return { data, strictErrors };
}

/** go-yaml's strict "key already set in map" findings, one per repeated key. */
function _yamlDuplicateKeys(
  yaml: typeof import("yaml"),
  document: Document.Parsed,
  lineCounter: LineCounter,
): string[] {
  const found: string[] = [];
  yaml.visit(document, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = yaml.isScalar(pair.key) ? pair.key.value : pair.key;
        if (key === "<<") continue; // merge keys may repeat
        const identity = `${typeof key}:${String(key)}`;
        if (seen.has(identity)) {
          const offset = yaml.isNode(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
          const shown = typeof key === "string" ? _goQuote(key) : String(key);
          found.push(`line ${lineCounter.linePos(offset).line}: key ${shown} already set in map`);
        }
        seen.add(identity);
      }
    },
  });
  return found;
}

/** sigs.k8s.io/json's path form: `providers[0].matchImages[1]`. */
export function _fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
