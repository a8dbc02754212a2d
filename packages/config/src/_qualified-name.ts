/**
 * apimachinery's IsQualifiedName and IsDNS1123Subdomain as of Kubernetes 1.34, with their texts:
 * what annotation keys are checked with.
 */

const _QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const _QUALIFIED_NAME_RE = new RegExp(`^${_QUALIFIED_NAME_FMT}$`);
const _QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const _DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const _DNS1123_SUBDOMAIN_FMT = `${_DNS1123_LABEL_FMT}(\\.${_DNS1123_LABEL_FMT})*`;
const _DNS1123_SUBDOMAIN_RE = new RegExp(`^${_DNS1123_SUBDOMAIN_FMT}$`);
const _DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function _regexError(message: string, format: string, ...examples: string[]): string {
  // Go appends "', " after each example and " or " between them, hence the double space.
  const shown = examples.map((example) => `'${example}', `).join(" or ");
  return `${message} (e.g. ${shown}regex used for validation is '${format}')`;
}

function _maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function _qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = value;
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix === "") errors.push("prefix part must be non-empty");
    else errors.push(..._dns1123SubdomainErrors(prefix).map((message) => `prefix part ${message}`));
  } else {
    return [
      `a qualified name ${_regexError(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  // Go's len counts bytes.
  if (name === "") errors.push("name part must be non-empty");
  else if (Buffer.byteLength(name) > 63) errors.push(`name part ${_maxLenError(63)}`);
  if (!_QUALIFIED_NAME_RE.test(name)) {
    errors.push(
      `name part ${_regexError(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errors;
}

function _dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(value) > 253) errors.push(_maxLenError(253));
  if (!_DNS1123_SUBDOMAIN_RE.test(value)) {
    errors.push(_regexError(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errors;
}
