/**
 * `@kubelet-credential-provider/core/go`: Go's text conventions, for tools that must word and order
 * things exactly as the kubelet does (the config package's validation messages). Not needed to
 * write a provider.
 */

/** Strings in Go's `sort.Strings` order: by their UTF-8 bytes, not by UTF-16 code units. */
export { _byteSorted as byteSorted } from "./_go-bytes.ts";
/** Go's `strconv.Quote`: the text in double quotes, as Go's `%q` prints it. */
export { _goQuote as goQuote } from "./_go-quote.ts";
