/** The --help text every provider prints, generated from its definition. */
import type { FlagSpec, FlagSpecs } from "./args.ts";
import { builtinFlags, klogFlags } from "./args.ts";
import type { Provider } from "./define.ts";

export function renderHelp<F extends FlagSpecs>(provider: Provider<F>): string {
  const usageArgs = provider.positionals
    .map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`))
    .concat(provider.allowExtraPositionals ? ["[args...]"] : [])
    .join(" ");
  const lines = [
    `${provider.name} ${provider.version}`,
    provider.description,
    "",
    `Usage: ${provider.name} [flags]${usageArgs ? ` ${usageArgs}` : ""} < CredentialProviderRequest`,
    "",
    "A kubelet image credential provider. The kubelet runs it for images that match its",
    "CredentialProviderConfig, writes one CredentialProviderRequest (JSON) to stdin and reads one",
    "CredentialProviderResponse from stdout. Logs and errors go to stderr; on failure the exit",
    "status is 1 and stdout stays empty.",
  ];
  if (provider.defaultMatchImages.length > 0) {
    lines.push(
      "",
      "matchImages to configure:",
      ...provider.defaultMatchImages.map((p) => `  - ${JSON.stringify(p)}`),
    );
  }
  if (provider.positionals.length > 0) {
    lines.push("", "Arguments:", ..._table(provider.positionals.map((p) => [p.name, p.description])));
  }
  const flagRows = Object.entries(provider.flags).map(([name, flag]) => [
    `${flag.short ? `-${flag.short}, ` : ""}${_flagLabel(name, flag)}`,
    _describe(flag),
  ]);
  const builtinRows = Object.entries(builtinFlags).map(([name, flag]) => [
    `${"short" in flag ? `-${flag.short}, ` : name === "v" ? "-v, " : ""}${_flagLabel(name, flag)}`,
    flag.description,
  ]);
  if (flagRows.length > 0) lines.push("", "Flags:", ..._table(flagRows));
  lines.push(
    "",
    "Common flags:",
    ..._table(builtinRows),
    "",
    "klog's other flags are accepted, as the Go plugins take them, and ignored (logs go to stderr):",
    `  ${Object.keys(klogFlags)
      .map((name) => `--${name}`)
      .join(", ")}`,
    "",
  );
  return lines.join("\n");
}

function _flagLabel(name: string, flag: FlagSpec | { type: string; placeholder?: string }): string {
  if (flag.type === "boolean") return `--${name}`;
  const placeholder = "placeholder" in flag && flag.placeholder ? flag.placeholder : "VALUE";
  return `--${name} ${placeholder}`;
}

function _describe(flag: FlagSpec): string {
  if (flag.type === "list") return `${flag.description} (repeatable, comma-separated)`;
  if (flag.default === undefined) return flag.description;
  return `${flag.description} (default ${JSON.stringify(flag.default)})`;
}

function _table(rows: string[][]): string[] {
  const width = Math.max(...rows.map((r) => (r[0] ?? "").length));
  return rows.map(([left = "", right = ""]) => `  ${left.padEnd(width)}  ${right}`);
}
