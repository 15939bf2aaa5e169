import { type MountStep, MsError, type OverlayStep } from "@ms/plan";
import type { ExplicitMount } from "./_types.js";

/**
 * Hands out upper and work directories inside the per-run storage
 * directory: `<storage>/<n>/upper` and `<storage>/<n>/work`, one pair per
 * overlay. Numbered, so a path with odd characters never becomes a name.
 */
export function overlayAllocator(
  storage: string | null,
): (target: string, lower: string) => OverlayStep {
  let n = 0;
  return (target, lower) => {
    if (storage === null)
      throw new MsError("ERR_MS_INTERNAL", `an overlay on ${target} needs a storage directory`, {
        hint: "pass `storage` (the per-run directory) to the builder",
      });
    const dir = `${storage}/${n++}`;
    return { type: "overlay", target, lower: [lower], upper: `${dir}/upper`, work: `${dir}/work` };
  };
}

/**
 * The steps for the user's own mounts, in the order given. A -k whose
 * directory has host mounts below it becomes a read-only bind (overlayfs
 * cannot use it as a lower layer in a user namespace), with a notice.
 */
export function explicitMounts(
  mounts: ExplicitMount[],
  overlay: (target: string, lower: string) => OverlayStep,
  mountBelow: (path: string) => string | undefined = () => undefined,
  notices: string[] = [],
): MountStep[] {
  return mounts.map((m): MountStep => {
    switch (m.type) {
      case "read-only":
        return { type: "bind", source: m.source, target: m.target, readOnly: true };
      case "writable":
        return { type: "bind", source: m.source, target: m.target, readOnly: false };
      case "tmpfs":
        return { type: "tmpfs", target: m.target, mode: 0o755, sizeBytes: 0 };
      case "overlay": {
        const below = mountBelow(m.source);
        if (!below) return overlay(m.target, m.source);
        notices.push(
          `-k ${m.source} is read-only instead of an overlay: host mounts below it (${below}) cannot be an overlay's lower layer in a user namespace`,
        );
        return { type: "bind", source: m.source, target: m.target, readOnly: true };
      }
      default:
        throw new MsError("ERR_MS_INTERNAL", `unknown mount type ${JSON.stringify(m)}`);
    }
  });
}
