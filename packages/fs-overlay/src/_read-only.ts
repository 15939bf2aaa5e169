import { type MountStep, MsError } from "@ms/plan";
import { explicitMounts, overlayAllocator } from "./_explicit.js";
import { byDepth } from "./_paths.js";
import type { ExplicitMount } from "./_types.js";

export interface ReadOnlyModeOptions {
  /** The working directory (physical path): the one writable place. */
  cwd: string;
  /** -M / -w / -e (no overlays: this mode has no storage). */
  mounts?: ExplicitMount[];
}

/** The minimal devices, a fresh procfs, private /tmp and /run: shared by every mode. */
export function baseSystemMounts(): MountStep[] {
  return [
    { type: "dev", target: "/dev" },
    { type: "proc", target: "/proc" },
    { type: "tmpfs", target: "/tmp", mode: 0o1777, sizeBytes: 0 },
  ];
}

/**
 * Read-only mode (no mode flag): the whole host filesystem visible and
 * read-only, recursively, submounts included; the working directory
 * writable; a private empty /tmp and /run (host sockets under /run, such
 * as D-Bus or docker.sock, stay unreachable); minimal /dev; fresh /proc.
 */
export function readOnlyModeMounts(options: ReadOnlyModeOptions): MountStep[] {
  const { cwd } = options;
  if (cwd === "/")
    throw new MsError(
      "ERR_MS_CONFLICT",
      "the working directory is /: the whole host would be writable",
      {
        hint: "run mini-sandbox from a project directory, or name one with -W DIR",
      },
    );
  return [
    { type: "bind", source: "/", target: "/", readOnly: true },
    ...baseSystemMounts(),
    { type: "tmpfs", target: "/run", mode: 0o755, sizeBytes: 0 },
    ...byDepth<MountStep>([
      { type: "bind", source: cwd, target: cwd, readOnly: false },
      ...explicitMounts(options.mounts ?? [], overlayAllocator(null)),
    ]),
  ];
}
