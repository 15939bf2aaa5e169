import { encodePlan, MsError, mountIndexOfWireStep, type Plan } from "@ms/plan";
import { runDirect } from "./_direct.js";
import {
  type ExecutorErrorEvent,
  type ExecutorEvent,
  errorFromEvent,
  parseEvent,
} from "./_events.js";
import { findExecutor } from "./_executor-path.js";

/** Signals the runtime passes on to the sandbox while it runs. */
export const FORWARDED_SIGNALS = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
] as const;

export interface HookContext {
  /** Host pid of the sandbox's pid 1; its namespaces are at /proc/PID/ns. */
  pid: number;
  plan: Plan;
}

/** Something that must happen outside the sandbox before the command starts (e.g. pasta). */
export interface RunHook {
  name: string;
  /** Runs once the namespaces exist. Returns what to undo at the end. */
  attach(context: HookContext): Promise<HookHandle>;
}

export interface HookHandle {
  /** Called after the sandbox has exited (or failed), always. */
  detach(): Promise<void>;
}

export interface RunOptions {
  /** `inherit` (the default) hands the caller's stdin/stdout/stderr to the command. */
  stdio?: "inherit" | "pipe";
  hooks?: RunHook[];
  onEvent?: (event: ExecutorEvent) => void;
  /** Path of the executor, for frontends that ship it elsewhere. */
  executor?: string;
  /** Forward the caller's signals to the sandbox (default true with inherited stdio). */
  forwardSignals?: boolean;
}

export interface RunResult {
  /** The command's exit status; 128+n if it died of signal n; 124 on timeout. */
  exitCode: number;
  /** The signal that ended the command, or null. */
  signal: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  events: ExecutorEvent[];
}

/**
 * Runs a plan: starts the executor with the encoded plan, runs the hooks
 * when the sandbox is ready, releases it, forwards signals and resolves
 * with the command's status. Rejects with an MsError when the sandbox
 * could not be set up or the command could not be started (never a
 * command's own failure). Nothing is left behind: hooks are always
 * detached and the executor dies with this process.
 */
export async function runPlan(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const executor = options.executor ?? findExecutor();
  if (!executor)
    throw new MsError("ERR_MS_EXECUTOR", "the native executor (ms-executor) is missing", {
      hint: "build it: run 'pnpm build' in the mini-sandbox checkout (needs a C compiler and make)",
    });
  const hooks = options.hooks ?? [];
  const wait = plan.waitForRelease || hooks.length > 0;
  // Encoded (and validated) once; with hooks the executor must wait for release.
  const wirePlan = encodePlan(
    wait && !plan.waitForRelease ? { ...plan, waitForRelease: true } : plan,
  );
  const pipe = options.stdio === "pipe";

  const args = ["--plan-fd", "3", "--status-fd", "4", "--parent-pid", String(process.pid)];
  const forward = options.forwardSignals ?? !pipe;
  if (!wait && !pipe) {
    const direct = runDirect(executor, args, wirePlan, forward ? FORWARDED_SIGNALS : []);
    if (direct) {
      let outcome: Awaited<typeof direct>;
      try {
        outcome = await direct;
      } catch (error) {
        throw executorError(executor, error);
      }
      const events = outcome.status
        .split("\n")
        .map(parseEvent)
        .filter((e): e is ExecutorEvent => e !== null);
      for (const event of events) options.onEvent?.(event);
      return finish(events, firstSetupError(plan, events), outcome, "", "");
    }
  }
  if (wait) args.push("--block-fd", "5");
  const { spawn } = await import("node:child_process");
  const child = spawn(executor, args, {
    stdio: [
      pipe ? "ignore" : "inherit",
      pipe ? "pipe" : "inherit",
      pipe ? "pipe" : "inherit",
      "pipe",
      "pipe",
      wait ? "pipe" : "ignore",
    ],
  });

  const events: ExecutorEvent[] = [];
  const handles: HookHandle[] = [];
  let stdout = "";
  let stderr = "";
  let setupError: MsError | null = null;
  let hookError: MsError | null = null;
  const forwarders = forward
    ? FORWARDED_SIGNALS.map((sig) => {
        const fn = () => child.kill(sig);
        process.on(sig, fn);
        return [sig, fn] as const;
      })
    : [];

  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const [, , , planPipe, statusPipe, blockPipe] = child.stdio as unknown as [
    unknown,
    unknown,
    unknown,
    NodeJS.WritableStream,
    NodeJS.ReadableStream,
    NodeJS.WritableStream | null,
  ];
  planPipe.on("error", () => {}); // the executor may die before reading it all
  planPipe.end(wirePlan);
  blockPipe?.on("error", () => {});

  let sandboxPid = 0;
  let readySeen = false;
  const release = async () => {
    try {
      for (const hook of hooks) handles.push(await hook.attach({ pid: sandboxPid, plan }));
      blockPipe?.write("1");
    } catch (error) {
      hookError = MsError.from(error);
      // Not released: closing the block pipe makes the executor stop.
    }
    blockPipe?.end();
  };

  let buffered = "";
  statusPipe.setEncoding("utf8");
  statusPipe.on("data", (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const event = parseEvent(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      if (!event) continue;
      events.push(event);
      options.onEvent?.(event);
      // pid 1 may report "ready" before its parent reports its pid: release
      // only once both are known, whatever order they arrive in.
      if (event.event === "child-pid") {
        sandboxPid = (event as { pid: number }).pid;
        if (readySeen) void release();
      } else if (event.event === "ready") {
        readySeen = true;
        if (sandboxPid > 0) void release();
      } else if (event.event === "error" && !setupError)
        setupError = firstSetupError(plan, [event]);
    }
  });

  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    },
  );

  let outcome: { code: number | null; signal: NodeJS.Signals | null };
  try {
    outcome = await closed;
  } catch (error) {
    throw executorError(executor, error);
  } finally {
    for (const [sig, fn] of forwarders) process.off(sig, fn);
    for (const handle of handles.reverse()) await handle.detach().catch(() => {});
  }

  if (hookError) throw hookError;
  return finish(events, setupError, outcome, stdout, stderr);
}

function executorError(executor: string, error: unknown): MsError {
  return new MsError(
    "ERR_MS_EXECUTOR",
    `cannot start the executor ${executor}: ${(error as Error).message}`,
    {
      cause: error,
      hint: "check that the file exists and is executable (rebuild with 'pnpm build')",
    },
  );
}

/** The first structured error the executor reported, as an MsError. */
function firstSetupError(plan: Plan, events: ExecutorEvent[]): MsError | null {
  const e = events.find((x) => x.event === "error") as ExecutorErrorEvent | undefined;
  if (!e) return null;
  const index = e.step >= 0 ? mountIndexOfWireStep(plan, e.step) : null;
  return errorFromEvent(e, index, index === null ? undefined : plan.mounts[index]?.type);
}

/** Turns the executor's events and exit into the run's result, or its error. */
function finish(
  events: ExecutorEvent[],
  setupError: MsError | null,
  outcome: { code: number | null; signal: string | null },
  stdout: string,
  stderr: string,
): RunResult {
  if (setupError) throw setupError;
  const exit = events.find((e) => e.event === "exit") as
    | { code: number; signal: number; timedOut: boolean; launched: boolean }
    | undefined;
  if (!exit) {
    const how = outcome.signal
      ? `was killed by ${outcome.signal}`
      : `exited with status ${outcome.code}`;
    throw new MsError("ERR_MS_EXECUTOR", `the sandbox ${how} before the command finished`, {
      hint: "this is a bug in mini-sandbox unless something killed it; rerun with --verbose",
      details: { events },
    });
  }
  return {
    exitCode: exit.code,
    signal: exit.signal > 0 ? exit.signal : null,
    timedOut: exit.timedOut,
    stdout,
    stderr,
    events,
  };
}
