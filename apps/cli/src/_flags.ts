import { readFileSync } from "node:fs";
import { MsError } from "@ms/plan";

/**
 * Flags as data: the parser, the conflict checks and --help are all made
 * from this table. Short flags follow qualcomm/mini-sandbox; parsing stops
 * at the first non-option (so `mini-sandbox ls -la` runs `ls -la`), `--`
 * is accepted, and the order of flags never matters.
 */
export interface FlagSpec {
  key: string;
  short?: string;
  long?: string;
  /** Name of the value, for flags that take one. */
  value?: string;
  /** May be given more than once (values are collected). */
  repeat?: boolean;
  help: string;
  group: "mode" | "filesystem" | "process" | "identity" | "network" | "output";
}

export const FLAGS: FlagSpec[] = [
  {
    key: "defaultMode",
    short: "x",
    help: "default sandbox: system dirs as discarded overlays, home hidden, the rest read-only",
    group: "mode",
  },
  {
    key: "customRoot",
    short: "o",
    value: "ROOT",
    help: "custom root built in ROOT: only -k/-M/-w/-e, the working dir, /proc, /dev, /tmp",
    group: "mode",
  },
  {
    key: "hermeticRoot",
    short: "h",
    value: "ROOT",
    help: "hermetic root built in ROOT: only -M/-w/-e, the working dir, /proc, /dev, /tmp",
    group: "mode",
  },
  {
    key: "overlayDir",
    short: "d",
    value: "DIR",
    help: "keep overlay upper/work directories in DIR (default: a private per-run dir)",
    group: "filesystem",
  },
  {
    key: "overlay",
    short: "k",
    value: "PATH",
    repeat: true,
    help: "overlay PATH: visible, writable, writes discarded at exit (-x, -o)",
    group: "filesystem",
  },
  {
    key: "readOnlyBind",
    short: "M",
    value: "PATH",
    repeat: true,
    help: "bind PATH (file or directory) read-only",
    group: "filesystem",
  },
  {
    key: "bindTarget",
    short: "m",
    value: "DST",
    repeat: true,
    help: "put the -M PATH just before at DST instead",
    group: "filesystem",
  },
  {
    key: "writableBind",
    short: "w",
    value: "PATH",
    repeat: true,
    help: "bind PATH (file or directory) writable: changes persist",
    group: "filesystem",
  },
  {
    key: "emptyDir",
    short: "e",
    value: "DIR",
    repeat: true,
    help: "an empty private tmpfs over DIR",
    group: "filesystem",
  },
  {
    key: "changes",
    long: "changes",
    help: "after the run, list what the command changed in overlay areas",
    group: "filesystem",
  },
  {
    key: "keepChanges",
    long: "keep-changes",
    value: "DIR",
    help: "keep the overlay changes in DIR instead of discarding them",
    group: "filesystem",
  },
  {
    key: "workdir",
    short: "W",
    value: "DIR",
    help: "working directory (writable inside); default: the current one",
    group: "filesystem",
  },
  {
    key: "timeout",
    short: "T",
    value: "SECS",
    help: "after SECS, SIGTERM the command, then SIGKILL after the grace delay; exit 124",
    group: "process",
  },
  {
    key: "grace",
    short: "t",
    value: "SECS",
    help: "grace delay before SIGKILL (timeout, SIGTERM, and SIGINT with -i); default 2",
    group: "process",
  },
  {
    key: "interrupt",
    short: "i",
    help: "SIGINT sent to mini-sandbox terminates the command like SIGTERM",
    group: "process",
  },
  {
    key: "hostname",
    short: "H",
    help: "private hostname 'localhost' (uts namespace)",
    group: "identity",
  },
  {
    key: "root",
    short: "R",
    help: "run as uid/gid 0 inside (no capabilities, mounts stay locked)",
    group: "identity",
  },
  { key: "nobody", short: "U", help: "run as nobody (65534) inside", group: "identity" },
  { key: "tty", short: "P", help: "run with the tty group as gid", group: "identity" },
  { key: "noLoopback", short: "n", help: "no network at all: loopback down", group: "network" },
  {
    key: "rulesFile",
    short: "F",
    value: "FILE",
    repeat: true,
    help: "pasta mode: reach only what FILE allows (IPs, CIDRs, example.com, *.example.com, :PORT)",
    group: "network",
  },
  {
    key: "allow",
    long: "allow",
    value: "RULE",
    repeat: true,
    help: "pasta mode: allow RULE (same syntax as a -F line); repeatable",
    group: "network",
  },
  {
    key: "hostNetwork",
    short: "N",
    help: "share the host's network (no network isolation)",
    group: "network",
  },
  {
    key: "debugLog",
    short: "D",
    value: "FILE",
    help: "write a debug log (plan and executor events) to FILE",
    group: "output",
  },
  {
    key: "verbose",
    long: "verbose",
    help: "print the plan and each step's timing on stderr",
    group: "output",
  },
  {
    key: "dryRun",
    long: "dry-run",
    help: "print the plan and exit without running anything",
    group: "output",
  },
  {
    key: "report",
    long: "report",
    value: "FILE",
    help: "write a JSON report of the run to FILE",
    group: "output",
  },
  { key: "json", long: "json", help: "print the JSON report on stderr at exit", group: "output" },
  {
    key: "debug",
    long: "debug",
    help: "show stack traces of mini-sandbox's own errors",
    group: "output",
  },
  { key: "help", long: "help", help: "show this help", group: "output" },
  { key: "version", long: "version", help: "show the version", group: "output" },
];

export type ParsedFlags = Record<string, string | string[] | boolean | undefined>;

export interface ParsedArgs {
  flags: ParsedFlags;
  /** Which spelling each flag was given as, for error messages. */
  spelled: Record<string, string>;
  /** Every flag in the order given (-M SRC -m DST pairs depend on it). */
  order?: { key: string; value: string | true }[];
  command: string[];
}

const byShort = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short as string, f]));
const byLong = new Map(FLAGS.filter((f) => f.long).map((f) => [f.long as string, f]));

function usageError(message: string): MsError {
  return new MsError("ERR_MS_USAGE", message, { hint: "see 'mini-sandbox --help'" });
}

function readArgFile(arg: string): string[] {
  try {
    return readFileSync(arg.slice(1), "utf8")
      .split("\n")
      .filter((line) => line !== "");
  } catch (error) {
    throw new MsError(
      "ERR_MS_PATH_NOT_FOUND",
      `cannot read argument file ${arg.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      { hint: "@FILE reads one argument per line from FILE" },
    );
  }
}

function set(result: ParsedArgs, spec: FlagSpec, spelling: string, value: string | true): void {
  const prior = result.flags[spec.key];
  if (spec.repeat) {
    result.flags[spec.key] = [...((prior as string[] | undefined) ?? []), value as string];
  } else if (prior !== undefined) {
    if (prior === value && value === true) return;
    throw usageError(`${spelling} was given more than once`);
  } else {
    result.flags[spec.key] = value;
  }
  result.spelled[spec.key] = spelling;
  result.order = [...(result.order ?? []), { key: spec.key, value }];
}

/** Parses mini-sandbox's own arguments; the command is everything from the first non-option on. */
export function parseArgs(argv: string[]): ParsedArgs {
  const args = [...argv];
  const result: ParsedArgs = { flags: {}, spelled: {}, command: [] };
  let expansions = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("@") && arg.length > 1) {
      // @FILE in option position: one argument per line, expanded in place (recursively).
      if (++expansions > 64)
        throw usageError("too many nested @ARGFILE expansions (a file that includes itself?)");
      args.splice(i, 1, ...readArgFile(arg));
      i--;
      continue;
    }
    if (arg === "--") {
      result.command = args.slice(i + 1);
      return result;
    }
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = byLong.get(name);
      if (!spec) throw usageError(`unknown option --${name}`);
      if (spec.value) {
        const value = inline ?? args[++i];
        if (value === undefined) throw usageError(`--${name} needs a value (${spec.value})`);
        set(result, spec, `--${name}`, value);
      } else {
        if (inline !== undefined) throw usageError(`--${name} takes no value`);
        set(result, spec, `--${name}`, true);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let c = 1; c < arg.length; c++) {
        const ch = arg[c] as string;
        const spec = byShort.get(ch);
        if (!spec) throw usageError(`unknown option -${ch}${arg.length > 2 ? ` (in ${arg})` : ""}`);
        if (spec.value) {
          const rest = arg.slice(c + 1);
          const value = rest !== "" ? rest : args[++i];
          if (value === undefined) throw usageError(`-${ch} needs a value (${spec.value})`);
          set(result, spec, `-${ch}`, value);
          break;
        }
        set(result, spec, `-${ch}`, true);
      }
      continue;
    }
    result.command = args.slice(i);
    return result;
  }
  return result;
}

/** Rejects pairs of flags that cannot go together, naming both. */
export function checkConflicts(parsed: ParsedArgs, pairs: [string, string][]): void {
  for (const [a, b] of pairs)
    if (parsed.flags[a] !== undefined && parsed.flags[b] !== undefined)
      throw new MsError(
        "ERR_MS_CONFLICT",
        `${parsed.spelled[a]} and ${parsed.spelled[b]} cannot be used together`,
        {
          hint: "choose one of them",
        },
      );
}

const GROUPS: Record<FlagSpec["group"], string> = {
  mode: "Modes",
  filesystem: "Filesystem",
  process: "Process",
  identity: "Identity",
  network: "Network",
  output: "Output",
};

export function helpText(version: string): string {
  const lines = [
    `mini-sandbox ${version}: run a command in a rootless Linux sandbox`,
    "",
    "Usage:",
    "  mini-sandbox [options] [--] command [args...]",
    "  mini-sandbox doctor          check whether this host can sandbox, with fixes",
    "  mini-sandbox explain [options] [-- command]",
    "                               print the mount table the options give; create nothing",
    "",
    "With no mode flag the host filesystem is visible and read-only, the working",
    "directory is writable, /tmp and /run are private and empty, and the network",
    "is the sandbox's own loopback. Options stop at the first non-option; use --",
    "to run a program whose name starts with '-' or is 'doctor'. @FILE reads one",
    "argument per line from FILE. Relative paths in options start from the",
    "working directory.",
  ];
  for (const group of Object.keys(GROUPS) as FlagSpec["group"][]) {
    const flags = FLAGS.filter((f) => f.group === group);
    if (flags.length === 0) continue;
    lines.push("", `${GROUPS[group]}:`);
    for (const f of flags) {
      const name = [f.short && `-${f.short}`, f.long && `--${f.long}`].filter(Boolean).join(", ");
      const left = `  ${name}${f.value ? ` ${f.value}` : ""}`;
      lines.push(`${left.padEnd(22)} ${f.help}`);
    }
  }
  lines.push(
    "",
    "Exit status: the command's own; 128+n if it died of signal n; 124 on timeout;",
    "125 if mini-sandbox itself failed; 126 if the command cannot be executed;",
    "127 if it was not found.",
  );
  return `${lines.join("\n")}\n`;
}
