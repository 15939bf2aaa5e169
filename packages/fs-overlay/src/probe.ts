/**
 * Reads the host for the filesystem builders, cheaply and once: one readdir
 * of /, one read of /proc/self/mountinfo and /etc/passwd, one lstat each
 * of /var/run and /var/tmp. Nothing here stats a mount point, so autofs is never triggered.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { parseMountInfo, parsePasswdHomes } from "./_parse.js";
import { resolvePath } from "./_paths.js";
import type { FsHostFacts, RootEntry } from "./_types.js";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The entries of / (readdir: types from the directory, no stat of mount points). */
export function probeRootEntries(): RootEntry[] {
  return readdirSync("/", { withFileTypes: true }).map((d): RootEntry => {
    if (d.isSymbolicLink()) {
      let linkTo: string | undefined;
      try {
        linkTo = readlinkSync(`/${d.name}`);
      } catch {
        linkTo = undefined;
      }
      return { name: d.name, type: "symlink", ...(linkTo ? { linkTo } : {}) };
    }
    return { name: d.name, type: d.isDirectory() ? "dir" : d.isFile() ? "file" : "other" };
  });
}

/** The host facts the default mode needs. */
export function probeFsHost(): FsHostFacts {
  const privateVarDirs = ["/var/run", "/var/tmp"].filter((path) => {
    try {
      return lstatSync(path).isDirectory();
    } catch {
      return false;
    }
  });
  return {
    root: probeRootEntries(),
    mounts: parseMountInfo(read("/proc/self/mountinfo")),
    homes: parsePasswdHomes(read("/etc/passwd")),
    privateVarDirs,
  };
}

/**
 * The caller's home, canonical (realpath), so that a home reached through a
 * symlink is still recognised. A home that does not exist stays as given
 * (normalised); no home at all is null.
 */
export function canonicalHome(home: string | undefined): string | null {
  if (!home?.startsWith("/")) return null;
  try {
    return realpathSync(home);
  } catch {
    return resolvePath("/", home);
  }
}

/** $XDG_RUNTIME_DIR if it is an absolute path to an existing directory, else null. */
export function runtimeDir(value: string | undefined): string | null {
  if (!value?.startsWith("/")) return null;
  try {
    return lstatSync(value).isDirectory() ? resolvePath("/", value) : null;
  } catch {
    return null;
  }
}
