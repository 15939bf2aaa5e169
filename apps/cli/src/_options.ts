import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { MsError } from "@ms/plan";
import type { SandboxOptions } from "@ms/policy";
import { checkConflicts, type ParsedArgs } from "./_flags.js";
import { type FsRequest, fsRequest } from "./_fs.js";
import { networkOption } from "./_network.js";

function seconds(parsed: ParsedArgs, key: string, allowZero: boolean): number | undefined {
  const raw = parsed.flags[key];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (
    typeof raw !== "string" ||
    raw.trim() === "" ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0) ||
    value > 2_000_000
  )
    throw new MsError(
      "ERR_MS_USAGE",
      `${parsed.spelled[key]} needs a number of seconds, got ${JSON.stringify(raw)}`,
      {
        hint: `for example ${parsed.spelled[key]} 30 or ${parsed.spelled[key]} 0.5`,
      },
    );
  return Math.round(value * 1000);
}

function directory(path: string, flag: string): string {
  let stat: import("node:fs").Stats;
  try {
    stat = statSync(path);
  } catch {
    throw new MsError("ERR_MS_PATH_NOT_FOUND", `${flag}: ${path} does not exist`, {
      hint: "name an existing directory",
    });
  }
  if (!stat.isDirectory()) throw new MsError("ERR_MS_USAGE", `${flag}: ${path} is not a directory`);
  // Canonical: the filesystem modes compare it with the home and other paths.
  return realpathSync(path);
}

export interface CliContext {
  cwd: string;
  env: Record<string, string>;
  ttyGid: number | null;
}

/** Policy options plus what only the CLI acts on (the filesystem flags' host side). */
export interface CliOptions extends SandboxOptions {
  fs: FsRequest;
}

/** Maps parsed flags onto policy options; all validation of user input happens here. */
export function toSandboxOptions(parsed: ParsedArgs, ctx: CliContext): CliOptions {
  checkConflicts(parsed, [
    ["root", "nobody"],
    ["noLoopback", "hostNetwork"],
  ]);
  if (parsed.command.length === 0)
    throw new MsError("ERR_MS_USAGE", "no command given", {
      hint: "usage: mini-sandbox [options] [--] command [args...]",
    });
  if (parsed.command[0] === "") throw new MsError("ERR_MS_USAGE", "the command name is empty");
  const workdir = parsed.flags.workdir as string | undefined;
  const cwd =
    workdir === undefined
      ? ctx.cwd
      : directory(resolve(ctx.cwd, workdir), parsed.spelled.workdir ?? "-W");
  const timeoutMs = seconds(parsed, "timeout", true);
  const graceMs = seconds(parsed, "grace", true);
  if (parsed.flags.tty && ctx.ttyGid === null)
    throw new MsError("ERR_MS_USAGE", "-P: this host has no 'tty' group", { hint: "drop -P" });
  return {
    command: parsed.command,
    cwd,
    identity: parsed.flags.root ? "root" : parsed.flags.nobody ? "nobody" : "caller",
    ttyGroup: Boolean(parsed.flags.tty),
    hostname: parsed.flags.hostname ? "localhost" : null,
    network: networkOption(parsed, ctx.cwd),
    timeout: timeoutMs ? { afterMs: timeoutMs, graceMs: graceMs ?? 2000 } : null,
    ...(graceMs !== undefined ? { graceMs } : {}),
    interruptTerminates: Boolean(parsed.flags.interrupt),
    env: ctx.env,
    fs: fsRequest(parsed, cwd),
  };
}
