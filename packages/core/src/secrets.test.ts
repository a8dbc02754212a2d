import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLogger, toSafeLine } from "./log.ts";
import { SecretRegistry } from "./secrets.ts";

function capture(verbosity: number, secrets: SecretRegistry) {
  const lines: string[] = [];
  const log = createLogger({ name: "t", verbosity, secrets, sink: { write: (chunk) => lines.push(chunk) } });
  return { log, lines };
}

describe("SecretRegistry", () => {
  it("masks a secret wherever it appears", () => {
    const secrets = new SecretRegistry();
    secrets.add("hunter2-password");
    expect(secrets.redact("a hunter2-password b hunter2-password")).toBe("a [REDACTED] b [REDACTED]");
  });

  it("masks overlapping secrets as one run", () => {
    const secrets = new SecretRegistry();
    secrets.add("abcdef");
    secrets.add("defghi");
    expect(secrets.redact("xxabcdefghixx")).toBe("xx[REDACTED]xx");
  });

  it("masks the JSON-escaped and URL-encoded forms", () => {
    const secrets = new SecretRegistry();
    const secret = 'p"a/s s\\w+rd';
    secrets.add(secret);
    expect(secrets.redact(JSON.stringify({ password: secret }))).not.toContain("a/s s");
    expect(secrets.redact(`password=${encodeURIComponent(secret)}`)).toBe("password=[REDACTED]");
  });

  it("withholds a line rather than print a secret that the mask would spell", () => {
    const secrets = new SecretRegistry();
    secrets.add("ACTED");
    const out = secrets.redact("xx ACTED yy");
    expect(out).not.toContain("ACTED");
  });

  it("ignores empty values", () => {
    const secrets = new SecretRegistry();
    secrets.add("");
    secrets.add(undefined);
    expect(secrets.size).toBe(0);
    expect(secrets.redact("text")).toBe("text");
  });

  it("property: no registered secret ever appears in a log line, whatever the message", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 12, unit: "binary" }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.nat({ max: 3 })), { maxLength: 8 }),
        fc.integer({ min: 0, max: 10 }),
        (secretList, parts, verbosity) => {
          const secrets = new SecretRegistry();
          for (const s of secretList) secrets.add(s);
          // Messages are built from arbitrary text with the secrets spliced in anywhere.
          const message = parts
            .map((p) => (typeof p === "number" ? (secretList[p % secretList.length] ?? "") : p))
            .join("");
          const { log, lines } = capture(10, secrets);
          log.v(verbosity, message);
          log.error(message);
          for (const line of lines) {
            // The final newline frames the line (newlines inside it are escaped); the rest is content.
            expect(line.endsWith("\n")).toBe(true);
            const content = line.slice(0, -1);
            expect(content.includes("\n")).toBe(false);
            for (const s of secretList) expect(content.includes(s)).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("log lines", () => {
  it("are klog-shaped and honour verbosity", () => {
    const { log, lines } = capture(2, new SecretRegistry());
    log.v(2, "shown");
    log.v(3, "hidden");
    log.warn("careful");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^I\d{4} \d{2}:\d{2}:\d{2}\.\d{6} \d+ t\] shown\n$/);
    expect(lines[1]).toMatch(/^W.* t\] careful\n$/);
  });

  it("stay one line whatever the message holds", () => {
    const line = toSafeLine("a\nb\r\u001b[31mc", new SecretRegistry());
    expect(line).toBe("a\\nb\\r\\u001b[31mc");
  });
});
