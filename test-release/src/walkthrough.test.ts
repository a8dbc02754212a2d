import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { walkthroughScript, walkthroughSteps } from "./walkthrough.ts";

describe("the walkthrough of docs/writing-a-provider.md", () => {
  it("is the page's files and commands, in the page's order", () => {
    const steps = walkthroughSteps();
    expect(steps.map((step) => (step.kind === "file" ? step.path : step.text.trim().split("\n")))).toEqual([
      ["mkdir example-provider", "cd example-provider"],
      "package.json",
      "tsconfig.json",
      [
        "npm install @kubelet-credential-provider/core",
        "npm install --save-dev @kubelet-credential-provider/build @kubelet-credential-provider/kubelet-sim typescript@5.9 @types/node@24",
      ],
      "src/provider.ts",
      "src/cli.ts",
      ["npm run build"],
      "test/kubelet.test.ts",
      ["npm test"],
      ["npm run build:release"],
    ]);
  });

  it("is one shell script that writes each file byte for byte", () => {
    const markdown = [
      "```sh walkthrough",
      "mkdir x && cd x",
      "```",
      "",
      '```ts title="src/a.ts"',
      "const a = '$HOME \\\\ \"q\" $(id)';",
      "```",
      "```sh",
      "echo not run",
      "```",
      "",
    ].join("\n");
    const script = walkthroughScript(walkthroughSteps(markdown));
    expect(script).not.toContain("not run");
    const dir = spawnSync("mktemp", ["-d"], { encoding: "utf8" }).stdout.trim();
    const run = spawnSync("sh", ["-c", `${script}cat src/a.ts`], { cwd: dir, encoding: "utf8" });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, "const a = '$HOME \\\\ \"q\" $(id)';\n", ""]);
    spawnSync("rm", ["-rf", dir]);
  });

  it("refuses a file title that is not a plain relative path", () => {
    for (const title of ["../x", "/etc/passwd", "a b", "$(id)"]) {
      expect(() => walkthroughScript(walkthroughSteps(`\`\`\`ts title="${title}"\nx\n\`\`\`\n`))).toThrow(
        `cannot write ${title} from the walkthrough`,
      );
    }
  });
});
