/**
 * What a provider binary is built for, from its first bytes, for `doctor`: an ELF executable's
 * machine (amd64, arm64, ...) and its program interpreter (`/lib64/ld-linux-x86-64.so.2` for glibc,
 * `/lib/ld-musl-x86_64.so.1` for musl), a script's `#!` line, or a Windows (PE) executable, such
 * as a release's `-windows-amd64.exe` copied by mistake. Nothing is run.
 */
import { closeSync, openSync, readSync } from "node:fs";

export type BinaryKind =
  | { kind: "elf"; arch: string; interpreter?: string; libc: "glibc" | "musl" | "static" | "other" }
  | { kind: "script"; interpreter: string }
  | { kind: "windows" }
  | { kind: "other" };

/** ELF e_machine values, as Kubernetes names the architectures. */
const _MACHINES: Record<number, string> = {
  3: "386",
  40: "arm",
  62: "amd64",
  183: "arm64",
  243: "riscv64",
  21: "ppc64le",
  22: "s390x",
};

/** The node's architecture as Kubernetes names it, from Node's. */
export function nodeArch(arch: string = process.arch): string {
  return (
    (
      {
        x64: "amd64",
        arm64: "arm64",
        ia32: "386",
        arm: "arm",
        riscv64: "riscv64",
        ppc64: "ppc64le",
        s390x: "s390x",
      } as Record<string, string>
    )[arch] ?? arch
  );
}

export function inspectBinary(path: string): BinaryKind {
  const head = _readAt(path, 0, 4096);
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    const line = head
      .subarray(2, head.indexOf(0x0a) === -1 ? head.length : head.indexOf(0x0a))
      .toString("utf8");
    return { kind: "script", interpreter: line.trim() };
  }
  if (head.length >= 64 && head.toString("latin1", 0, 2) === "MZ") {
    // The DOS header's e_lfanew points at the PE signature.
    const signature = _readAt(path, head.readUInt32LE(0x3c), 4);
    return signature.toString("latin1") === "PE\0\0" ? { kind: "windows" } : { kind: "other" };
  }
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return { kind: "other" };
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const u16 = (at: number) => (little ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const machine = u16(18);
  const arch = _MACHINES[machine] ?? `machine ${machine}`;
  const interpreter = is64 ? _interpreter64(path, head, little) : undefined;
  const libc =
    interpreter === undefined
      ? "static"
      : /ld-musl/.test(interpreter)
        ? "musl"
        : /ld-linux/.test(interpreter)
          ? "glibc"
          : "other";
  return { kind: "elf", arch, ...(interpreter === undefined ? {} : { interpreter }), libc };
}

/** The PT_INTERP segment's path of a 64-bit ELF, if it has one. */
function _interpreter64(path: string, head: Buffer, little: boolean): string | undefined {
  const u64 = (buffer: Buffer, at: number) =>
    Number(little ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at));
  const u32 = (buffer: Buffer, at: number) => (little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
  const u16 = (at: number) => (little ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const phoff = u64(head, 0x20);
  const phentsize = u16(0x36);
  const phnum = Math.min(u16(0x38), 64);
  if (phentsize < 56) return undefined;
  const table = _readAt(path, phoff, phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (at + 56 > table.length) break;
    if (u32(table, at) !== 3) continue; // PT_INTERP
    const offset = u64(table, at + 0x08);
    const size = Math.min(u64(table, at + 0x20), 4096);
    return _readAt(path, offset, size).toString("utf8").replace(/\0.*$/s, "");
  }
  return undefined;
}

function _readAt(path: string, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    const read = readSync(fd, buffer, 0, length, offset);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
