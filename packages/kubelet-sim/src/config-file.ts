/**
 * The file side of `config set-provider` and `config remove-provider`: reading the current config,
 * keeping a timestamped backup, and replacing the file atomically (a temporary file in the same
 * directory, renamed over it), so that a kubelet starting at any moment reads the old config or
 * the new one, never a part of either.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  open,
  readFile,
  realpath,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorCodeOf } from "@kubelet-credential-provider/core";
import { messageOf } from "./text.ts";

/** A refusal or failure, said in one line; the command exits 1. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
}

/** The mode of a config file that did not exist: readable by all, as kubeadm writes the kubelet's. */
const NEW_FILE_MODE = 0o644;

export interface CurrentFile {
  /** The file to replace: the path given, or the file a symlink there points at. */
  target: string;
  /** The text; undefined when there is no file. */
  text?: string;
  /** Whether the bytes are UTF-8 (a file that is not cannot be a config). */
  utf8: boolean;
  /** Mode and owner to give the new file. */
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Reads the config at `path`. A symlink is followed (its target is what gets replaced). A missing
 * file is not an error; a missing directory, a directory, or anything but a regular file is.
 */
export async function readCurrentFile(path: string): Promise<CurrentFile> {
  const link = await lstat(path).catch((error: unknown) => {
    if (errorCodeOf(error) === "ENOENT") return undefined;
    throw new ConfigFileError(`cannot read ${path}: ${messageOf(error)}`);
  });
  if (link === undefined) {
    await _directoryMustExist(path);
    return { target: path, utf8: true, mode: NEW_FILE_MODE };
  }
  const target = link.isSymbolicLink()
    ? await realpath(path).catch((error: unknown) => {
        throw new ConfigFileError(
          errorCodeOf(error) === "ENOENT"
            ? `${path} is a symlink to nothing: fix or remove it`
            : `cannot read ${path}: ${messageOf(error)}`,
        );
      })
    : path;
  const info = await stat(target).catch((error: unknown) => {
    throw new ConfigFileError(`cannot read ${path}: ${messageOf(error)}`);
  });
  if (info.isDirectory()) {
    throw new ConfigFileError(`${path} is a directory: give the one config file to change`);
  }
  if (!info.isFile()) throw new ConfigFileError(`${path} is not a regular file`);
  const bytes = await readFile(target).catch((error: unknown) => {
    throw new ConfigFileError(`cannot read ${path}: ${messageOf(error)}`);
  });
  let text: string;
  let utf8 = true;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = bytes.toString("latin1");
    utf8 = false;
  }
  return { target, text, utf8, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
}

async function _directoryMustExist(path: string): Promise<void> {
  const directory = dirname(path);
  const info = await stat(directory).catch(() => undefined);
  if (info === undefined)
    throw new ConfigFileError(`cannot create ${path}: the directory ${directory} does not exist`);
  if (!info.isDirectory())
    throw new ConfigFileError(`cannot create ${path}: ${directory} is not a directory`);
}

/** `20250106T083412Z`: the backup suffix, in UTC. */
function backupStamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
}

/**
 * Copies `source` (mode kept) to `FILE.bak-STAMP` next to `path`, or in `backupDir` (made if
 * missing, mode 0700). An existing backup is never overwritten: a second one in the same second
 * gets `-2`, `-3`, ... Returns the backup's path.
 */
export async function backupFile(
  source: string,
  path: string,
  backupDir: string | undefined,
  now: Date,
): Promise<string> {
  const directory = backupDir ?? dirname(path);
  if (backupDir !== undefined) {
    await mkdir(backupDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new ConfigFileError(`cannot create the backup directory ${backupDir}: ${messageOf(error)}`);
    });
  }
  const base = join(directory, `${basename(path)}.bak-${backupStamp(now)}`);
  for (let n = 1; n <= 100; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    try {
      await copyFile(source, candidate, constants.COPYFILE_EXCL);
      return candidate;
    } catch (error) {
      if (errorCodeOf(error) === "EEXIST") continue;
      throw new ConfigFileError(`cannot back up ${path} to ${candidate}: ${messageOf(error)}`);
    }
  }
  throw new ConfigFileError(`cannot back up ${path}: ${base} and 99 more backups exist`);
}

/**
 * Replaces `target` with `text`: written to a new temporary file in the same directory, flushed,
 * given `mode` (and the owner, when running as root), then renamed over `target`. On any failure
 * the temporary file is removed and `target` is as it was.
 */
export async function writeAtomically(
  target: string,
  text: string,
  owner: { mode: number; uid?: number; gid?: number },
): Promise<void> {
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temporary, owner.mode);
    if (process.getuid?.() === 0 && owner.uid !== undefined && owner.gid !== undefined) {
      await chown(temporary, owner.uid, owner.gid);
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ConfigFileError(`cannot write ${target}: ${messageOf(error)}`);
  }
  // The rename is durable once the directory is flushed; a failure here changes nothing written.
  const directory = await open(dirname(target), "r").catch(() => undefined);
  await directory?.sync().catch(() => undefined);
  await directory?.close();
}
