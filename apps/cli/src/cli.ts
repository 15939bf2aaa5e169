import { appendFileSync, realpathSync } from "node:fs";
import { describeMounts, formatMountTable } from "@ms/fs-overlay";
import type { Change } from "@ms/fs-overlay/storage";
import type { ExecutorEvent, RunResult } from "@ms/namespaces/runtime";
import { formatPlan, MsError } from "@ms/plan";
import { planFilesystem, planSandbox } from "@ms/policy";
import { helpText, type ParsedArgs, parseArgs } from "./_flags.js";
import { afterRun, formatChanges, startFsRun } from "./_fs.js";
import { networkRun } from "./_network.js";
import { toSandboxOptions } from "./_options.js";
import { type Report, writeReport } from "./_report.js";

declare const __MS_VERSION__: string;
const VERSION = typeof __MS_VERSION__ === "string" ? __MS_VERSION__ : "0.0.0-dev";

const err = (s: string) => process.stderr.write(s);

async function run(parsed: ParsedArgs): Promise<number> {
  const started = performance.now();
  const verbose = Boolean(parsed.flags.verbose);
  const debugLog = parsed.flags.debugLog as string | undefined;
  const log = (line: string) => {
    if (verbose) err(`mini-sandbox: ${line}\n`);
    if (debugLog) appendFileSync(debugLog, `${new Date().toISOString()} ${line}\n`);
  };
  // Only read /etc/group when -P asks for it: start-up is on the hot path.
  const ttyGidValue = parsed.flags.tty
    ? (await import("@ms/namespaces/probe")).probeTtyGid()
    : null;
  const options = toSandboxOptions(parsed, {
    cwd: realpathSync(process.cwd()),
    env: process.env as Record<string, string>,
    ttyGid: ttyGidValue,
  });
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  // Per-run directories (overlay storage, -o/-h roots) exist from here on:
  // removed in the finally below, also on errors and forwarded signals.
  const fsRun = startFsRun(options, options.fs, process.env, Boolean(parsed.flags.dryRun));
  try {
    const host = { uid, gid, ttyGid: ttyGidValue, ...(fsRun.host ? { fs: fsRun.host } : {}) };
    const { plan, notices } = planSandbox(fsRun.options, host);
    for (const notice of notices) err(`mini-sandbox: ${notice}\n`);

    if (parsed.flags.dryRun) {
      process.stdout.write(formatPlan(plan));
      return 0;
    }
    if (debugLog)
      appendFileSync(debugLog, `mini-sandbox ${VERSION}\n${formatPlan(plan)}`, { mode: 0o600 });
    if (verbose) err(formatPlan(plan));
    if (plan.network.mode === "host")
      log("network: sharing the host's network (-N): no network isolation");

    const reportPath = parsed.flags.report as string | undefined;
    const wantReport = Boolean(reportPath || parsed.flags.json);
    const events: ExecutorEvent[] = [];
    const onEvent = (event: ExecutorEvent) => {
      events.push(event);
      if (verbose || debugLog)
        log(`+${(performance.now() - started).toFixed(1)}ms ${JSON.stringify(event)}`);
    };
    const { findExecutor, runPlan } = await import("@ms/namespaces/runtime");
    const net = await networkRun(plan, { env: process.env, cwd: options.cwd, log });
    const areas = fsRun.prepare(plan.mounts);
    let result: RunResult | null = null;
    let failure: MsError | null = null;
    let changes: Change[] | null = null;
    try {
      result = await runPlan(plan, { onEvent, hooks: net.hooks });
      if (options.fs.changes || options.fs.keepChanges) {
        const after = afterRun(options.fs, areas, findExecutor());
        changes = after.changes;
        if (changes) err(formatChanges(changes, options.fs.keepChanges));
        else if (after.kept.length)
          err(`mini-sandbox: overlay changes kept in ${options.fs.keepChanges}\n`);
      }
    } catch (error) {
      failure = MsError.from(error);
    }
    if (wantReport) {
      const report: Report = {
        version: 1,
        exitCode: result?.exitCode ?? failure?.exitCode ?? 125,
        timedOut: result?.timedOut ?? false,
        signal: result?.signal ?? null,
        error: failure
          ? {
              code: failure.code,
              message: failure.message,
              ...(failure.hint ? { hint: failure.hint } : {}),
            }
          : null,
        plan,
        events,
        ...(changes ? { changes } : {}),
        ...(net.report() ? { network: net.report() } : {}),
      };
      if (reportPath) writeReport(reportPath, report);
      if (parsed.flags.json) err(`${JSON.stringify(report)}\n`);
    }
    for (const line of net.summary()) log(line);
    if (failure) throw failure;
    const r = result as RunResult;
    if (r.timedOut)
      err(
        `mini-sandbox: timed out after ${options.timeout?.afterMs ?? 0} ms; the command was stopped\n`,
      );
    log(`exit ${r.exitCode} after ${(performance.now() - started).toFixed(1)}ms`);
    return r.exitCode;
  } finally {
    fsRun.cleanup();
  }
}

/**
 * `mini-sandbox explain [options] [-- command]`: the mount table the options
 * give (path, kind, source), built exactly as a run would, creating nothing.
 */
function explain(parsed: ParsedArgs): number {
  const withCommand = parsed.command.length ? parsed : { ...parsed, command: ["true"] };
  const options = toSandboxOptions(withCommand, {
    cwd: realpathSync(process.cwd()),
    env: process.env as Record<string, string>,
    ttyGid: null,
  });
  const fsRun = startFsRun(options, options.fs, process.env, true);
  const host = {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    ttyGid: null,
    ...(fsRun.host ? { fs: fsRun.host } : {}),
  };
  const layout = planFilesystem(fsRun.options, host);
  const rows = describeMounts(layout.mounts);
  if (parsed.flags.json) {
    process.stdout.write(
      `${JSON.stringify({ mode: options.fs.mode, cwd: layout.cwd, mounts: rows }, null, 2)}\n`,
    );
    return 0;
  }
  for (const notice of layout.notices) err(`mini-sandbox: ${notice}\n`);
  process.stdout.write(`mode: ${options.fs.mode}; the command starts in ${layout.cwd}\n\n`);
  process.stdout.write(formatMountTable(rows));
  return 0;
}

/** The one error boundary: a known MsError prints message, hint and code; anything else is a bug. */
function report(error: unknown, debug: boolean): number {
  if (error instanceof MsError) {
    err(`mini-sandbox: ${error.message}\n`);
    if (error.hint) err(`  hint: ${error.hint}\n`);
    err(`  (${error.code})\n`);
    if (debug && error.stack) err(`${error.stack}\n`);
    return error.exitCode;
  }
  err(
    `mini-sandbox: internal error (this is a bug): ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (debug && error instanceof Error && error.stack) err(`${error.stack}\n`);
  return 125;
}

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes("--debug");
  try {
    if (argv[0] === "doctor") {
      const { doctor } = await import("./_doctor.js");
      return await doctor((s) => process.stdout.write(s));
    }
    if (argv[0] === "explain") {
      const parsed = parseArgs(argv.slice(1));
      debug = Boolean(parsed.flags.debug);
      return explain(parsed);
    }
    const parsed = parseArgs(argv);
    debug = Boolean(parsed.flags.debug);
    if (parsed.flags.help) {
      process.stdout.write(helpText(VERSION));
      return 0;
    }
    if (parsed.flags.version) {
      process.stdout.write(`mini-sandbox ${VERSION}\n`);
      return 0;
    }
    return await run(parsed);
  } catch (error) {
    return report(error, debug);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = report(error, true);
  },
);
