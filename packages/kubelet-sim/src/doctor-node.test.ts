import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scratch } from "../testdata/harness.ts";
import { inspectBinary, nodeArch } from "./doctor-binary.ts";
import { findKubelet, kubeletFlags, splitWords } from "./doctor-node.ts";

const tmp = scratch("doctor-node");
afterAll(() => tmp.remove());

describe("splitWords", () => {
  it("splits as a shell does, quotes and escapes kept inside their word", () => {
    expect(splitWords(` --a=1  "--b=two words" '--c=$HOME' --d=x\\ y ""`)).toEqual([
      "--a=1",
      "--b=two words",
      "--c=$HOME",
      "--d=x y",
      "",
    ]);
  });
});

describe("kubeletFlags", () => {
  it("reads both forms, the last one winning, and the feature gates", () => {
    expect(
      kubeletFlags([
        "--image-credential-provider-config",
        "/a.yaml",
        "--image-credential-provider-config=/b.yaml",
        "--image-credential-provider-bin-dir=/bin-dir",
        "--feature-gates=KubeletServiceAccountTokenForCredentialProviders=true, Other=false",
        "--v=2",
      ]),
    ).toEqual({
      config: "/b.yaml",
      binDir: "/bin-dir",
      featureGates: { KubeletServiceAccountTokenForCredentialProviders: true, Other: false },
    });
  });
});

describe("findKubelet from a systemd unit", () => {
  it("expands $VAR into words and a braced one inside a word, from Environment= and EnvironmentFile=, the last ExecStart= winning", () => {
    const root = tmp.path("unit");
    mkdirSync(join(root, "etc/systemd/system/kubelet.service.d"), { recursive: true });
    mkdirSync(join(root, "etc/default"), { recursive: true });
    writeFileSync(
      join(root, "etc/systemd/system/kubelet.service"),
      "[Service]\nExecStart=/usr/bin/kubelet --old\n",
    );
    writeFileSync(
      join(root, "etc/systemd/system/kubelet.service.d/20-flags.conf"),
      [
        "[Service]",
        'Environment="LABELS=a=b,c=d" "EXTRA=--x=1 --y=2"',
        "EnvironmentFile=-/etc/default/kubelet",
        "EnvironmentFile=-/etc/default/missing",
        "ExecStart=",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: systemd's syntax, not a template.
        "ExecStart=/usr/bin/kubelet --node-labels=${LABELS} $EXTRA \\",
        "  $ARGS",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(root, "etc/default/kubelet"),
      '# comment\nARGS="--image-credential-provider-config=/c.yaml --z"\n',
    );
    expect(findKubelet(root)).toEqual({
      path: "/usr/bin/kubelet",
      args: ["--node-labels=a=b,c=d", "--x=1", "--y=2", "--image-credential-provider-config=/c.yaml", "--z"],
      source: {
        kind: "systemd",
        unit: "kubelet.service",
        files: ["etc/systemd/system/kubelet.service", "etc/systemd/system/kubelet.service.d/20-flags.conf"],
      },
      // What the kubelet's plugins inherit: systemd's PATH and the unit's variables.
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LABELS: "a=b,c=d",
        EXTRA: "--x=1 --y=2",
        ARGS: "--image-credential-provider-config=/c.yaml --z",
      },
    });
  });

  it("is undefined on a root with neither a kubelet process nor a unit", () => {
    expect(findKubelet(tmp.path("empty"))).toBeUndefined();
  });
});

describe("inspectBinary", () => {
  it("reads this Node's own executable as an ELF for this machine, with its C library's interpreter", () => {
    const found = inspectBinary(process.execPath);
    expect(found).toMatchObject({ kind: "elf", arch: nodeArch(), libc: "glibc" });
  });

  it("reads a script's interpreter line, and calls anything else other", () => {
    const script = tmp.path("script");
    writeFileSync(script, "#!/usr/bin/env node\nconsole.log(1)\n");
    expect(inspectBinary(script)).toEqual({ kind: "script", interpreter: "/usr/bin/env node" });
    const text = tmp.path("text");
    writeFileSync(text, "not a program");
    expect(inspectBinary(text)).toEqual({ kind: "other" });
  });

  it("calls a file with a DOS header pointing at a PE signature a Windows executable, and one without it other", () => {
    const header = Buffer.alloc(0x90);
    header.write("MZ", 0, "latin1");
    header.writeUInt32LE(0x80, 0x3c);
    header.write("PE\0\0", 0x80, "latin1");
    const exe = tmp.path("provider.exe");
    writeFileSync(exe, header);
    expect(inspectBinary(exe)).toEqual({ kind: "windows" });
    header.write("XX", 0x80, "latin1");
    writeFileSync(exe, header);
    expect(inspectBinary(exe)).toEqual({ kind: "other" });
  });
});
