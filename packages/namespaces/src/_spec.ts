import type { Identity, NamespaceSet } from "@ms/plan";

/** Who the command runs as inside: the caller's ids, uid 0 (-R), or nobody (-U). */
export type IdentityMode = "caller" | "root" | "nobody";

export interface NamespaceOptions {
  /** The caller's uid and gid (from the probe). */
  caller: Identity;
  identity?: IdentityMode;
  /** Use this gid inside instead (e.g. the tty group, -P). */
  gid?: number;
  /** A private hostname (uts namespace). `null` keeps the host's. */
  hostname?: string | null;
  /** A private network namespace (false only for host networking). */
  net?: boolean;
}

export interface NamespaceSpec {
  namespaces: NamespaceSet;
  identity: Identity;
  hostname: string | null;
}

const NOBODY = 65534;

/** The namespace set and identity of a plan. Pure: no host access. */
export function namespaceSpec(options: NamespaceOptions): NamespaceSpec {
  const mode = options.identity ?? "caller";
  const hostname = options.hostname ?? null;
  const identity: Identity =
    mode === "root"
      ? { uid: 0, gid: 0 }
      : mode === "nobody"
        ? { uid: NOBODY, gid: NOBODY }
        : { ...options.caller };
  if (options.gid !== undefined) identity.gid = options.gid;
  return {
    namespaces: {
      user: true,
      mount: true,
      pid: true,
      ipc: true,
      uts: hostname !== null,
      net: options.net ?? true,
      cgroup: true,
    },
    identity,
    hostname,
  };
}
