/**
 * editConfigText against a model: any sequence of set and remove edits on a JSON or YAML config
 * (block or flow lists, comments around entries) leaves exactly the model's providers, as the
 * kubelet would decode them, the other fields in their order, and the comments of entries not removed.
 */
import { parseConfig } from "@kubelet-credential-provider/config";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type ConfigEdit, editConfigText, outputFormat } from "./config-edit.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";

const entry = fc.record({
  name: fc.constantFrom("a", "b", "c", "d"),
  matchImages: fc.array(fc.constantFrom("*.example.com", "on", "yes", "0123", "registry:5000", "*"), {
    minLength: 1,
    maxLength: 3,
  }),
  defaultCacheDuration: fc.constantFrom("1m", "0s", "12h"),
  apiVersion: fc.constant(V1),
  args: fc.option(fc.array(fc.constantFrom("--v=3", "# not a comment", "multi\nline"), { maxLength: 2 }), {
    nil: undefined,
  }),
});

/** A YAML config in one of the styles people write, with comments around the entries. */
function yamlText(entries: Record<string, unknown>[], style: "go" | "indented" | "flow"): string {
  const head = "# head\napiVersion: kubelet.config.k8s.io/v1 # api\nkind: CredentialProviderConfig\n";
  if (style === "flow") return `${head}providers: ${JSON.stringify(entries)}\n# tail\n`;
  const pad = style === "go" ? "" : "  ";
  const items = entries.map((e) => `${pad}# about ${String(e.name)}\n${pad}- ${JSON.stringify(e)}\n`);
  return `${head}providers:\n${items.join("")}\n# tail\n`;
}

describe("editConfigText", () => {
  it("applies any sequence of edits exactly, in every format and style", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 3 }),
        fc.array(
          fc.oneof(
            entry.map((e): ConfigEdit => ({ op: "set", entry: JSON.parse(JSON.stringify(e)) })),
            fc.constantFrom("a", "b", "c", "d").map((name): ConfigEdit => ({ op: "remove", name })),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.constantFrom("go", "indented", "flow", "json"),
        async (initial, edits, style) => {
          const start = initial.map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>);
          const path = style === "json" ? "config.json" : "config.yaml";
          let text =
            style === "json"
              ? JSON.stringify({
                  kind: "CredentialProviderConfig",
                  apiVersion: "kubelet.config.k8s.io/v1",
                  providers: start,
                })
              : yamlText(start, style);
          let model = start;
          const removed = new Set<unknown>();
          for (const edit of edits) {
            const name = edit.op === "set" ? edit.entry.name : edit.name;
            const index = model.findIndex((e) => e.name === name);
            if (edit.op === "remove" && index !== -1) removed.add(name);
            if (edit.op === "remove") model = model.filter((e) => e.name !== name);
            else if (index === -1) model = [...model, edit.entry];
            else model = model.map((e, i) => (i === index ? edit.entry : e));
            const edited = await editConfigText(text, path, edit);
            text = edited.text;
            expect(edited.providers).toBe(model.length);
          }
          const data = parse(text, { version: "1.1" }) as Record<string, unknown>;
          expect(Object.keys(data).slice(0, 2)).toEqual(
            style === "json" ? ["kind", "apiVersion"] : ["apiVersion", "kind"],
          );
          expect(data.providers ?? []).toEqual(model);
          if (model.length > 0)
            expect((await parseConfig(text)).providers.map((p) => p.name)).toEqual(model.map((e) => e.name));
          if (style !== "json" && style !== "flow") {
            expect(text.startsWith("# head\napiVersion: kubelet.config.k8s.io/v1 # api\n")).toBe(true);
            expect(text.endsWith("\n# tail\n")).toBe(true);
            // The comment above an entry stays with it, also when the entry is replaced.
            for (const e of start)
              if (!removed.has(e.name)) expect(text).toContain(`# about ${String(e.name)}\n`);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("chooses JSON for .json, YAML for .yaml and .yml, and keeps the format of any other name", () => {
    expect(outputFormat("/etc/x/config.json", "yaml")).toBe("json");
    expect(outputFormat("/etc/x/config.JSON", undefined)).toBe("json");
    expect(outputFormat("/etc/x/config.yaml", "json")).toBe("yaml");
    expect(outputFormat("/etc/x/config.yml", "json")).toBe("yaml");
    expect(outputFormat("/etc/x/config", "json")).toBe("json");
    expect(outputFormat("/etc/x/config", undefined)).toBe("yaml");
  });

  it("keep: an existing entry keeps those fields as it has them, present or absent; a new one takes the entry's", async () => {
    const existing = {
      name: "acr-credential-provider",
      matchImages: ["*.azurecr.io"],
      defaultCacheDuration: "10m",
      apiVersion: V1,
      args: [
        "/etc/kubernetes/azure.json",
        "--ib-sni-name=api.example.azmk8s.io",
        "--ib-apiserver-ip=10.0.0.1",
      ],
      tokenAttributes: {
        serviceAccountTokenAudience: "api://AzureADTokenExchange",
        requireServiceAccount: true,
      },
    };
    const text = `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - ${JSON.stringify(existing)}\n`;
    const given = {
      name: "acr-credential-provider",
      matchImages: ["*.azurecr.io", "*.azurecr.cn"],
      defaultCacheDuration: "10m",
      apiVersion: V1,
      args: ["/etc/kubernetes/azure.json"],
      env: [{ name: "X", value: "y" }],
    };
    const keep = ["args", "env", "tokenAttributes"];
    const edited = await editConfigText(text, "config.yaml", { op: "set", entry: given, keep });
    expect(edited.change).toBe("replaced");
    const { env: _env, ...withoutEnv } = given;
    expect((parse(edited.text) as { providers: unknown[] }).providers).toEqual([
      { ...withoutEnv, args: existing.args, tokenAttributes: existing.tokenAttributes },
    ]);
    const added = await editConfigText(text, "config.yaml", {
      op: "set",
      entry: { ...given, name: "other" },
      keep,
    });
    expect((await parseConfig(added.text)).providers[1]).toMatchObject({ name: "other", args: given.args });
  });
});
