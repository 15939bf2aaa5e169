/**
 * The fast way to run the executor when nothing has to happen while it
 * runs (no hooks, the caller's own stdio): spawned through Node's process
 * handle, with the plan and the status in unlinked temporary files instead
 * of pipes. Loading node:child_process (and the stream, net and dgram
 * modules behind its pipes) costs about 12 ms of a CLI's start-up, close
 * to what the whole sandbox costs. Returns null where the handle is not
 * available, and the runtime uses child_process instead.
 */
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface ProcessHandle {
  pid: number;
  onexit: (code: number, signal: string) => void;
  spawn(options: unknown): number;
  close(): void;
}

function processHandle(): (new () => ProcessHandle) | null {
  try {
    const binding = (
      process as unknown as { binding(name: string): { Process?: new () => ProcessHandle } }
    ).binding("process_wrap");
    return typeof binding.Process === "function" ? binding.Process : null;
  } catch {
    return null;
  }
}

export interface DirectOutcome {
  code: number;
  signal: string | null;
  /** What the executor wrote on its status descriptor. */
  status: string;
}

/** Runs the executor with inherited stdio; resolves with its exit and its status lines. */
export function runDirect(
  executor: string,
  args: string[],
  wire: string,
  signals: readonly NodeJS.Signals[],
): Promise<DirectOutcome> | null {
  const Process = processHandle();
  if (!Process) return null;
  // A private directory; the files are unlinked as soon as they are open,
  // so nothing stays on disk even if this process is killed. Without a
  // writable temporary directory, the runtime uses pipes instead.
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), "ms-run-"));
  } catch {
    return null;
  }
  let planFd = -1;
  let statusFd = -1;
  try {
    writeFileSync(join(dir, "plan"), wire, { mode: 0o600 });
    planFd = openSync(join(dir, "plan"), "r");
    statusFd = openSync(join(dir, "status"), "w+", 0o600);
  } catch {
    if (planFd >= 0) closeSync(planFd);
    planFd = -1;
  } finally {
    for (const name of ["plan", "status"])
      try {
        unlinkSync(join(dir, name));
      } catch {
        // not created
      }
    rmdirSync(dir);
  }
  if (planFd < 0 || statusFd < 0) return null;
  const child = new Process();
  return new Promise((resolve, reject) => {
    const forwarders = signals.map((sig) => {
      const fn = () => {
        try {
          process.kill(child.pid, sig);
        } catch {
          // already gone
        }
      };
      process.on(sig, fn);
      return [sig, fn] as const;
    });
    const done = () => {
      for (const [sig, fn] of forwarders) process.off(sig, fn);
      closeSync(planFd);
    };
    child.onexit = (code, signal) => {
      done();
      child.close();
      const size = fstatSync(statusFd).size;
      const buffer = Buffer.alloc(size);
      readSync(statusFd, buffer, 0, size, 0);
      closeSync(statusFd);
      resolve({ code, signal: signal || null, status: buffer.toString("utf8") });
    };
    const err = child.spawn({
      file: executor,
      args: [executor, ...args],
      cwd: process.cwd(),
      envPairs: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
      stdio: [
        { type: "inherit", fd: 0 },
        { type: "inherit", fd: 1 },
        { type: "inherit", fd: 2 },
        { type: "fd", fd: planFd },
        { type: "fd", fd: statusFd },
      ],
      detached: false,
      windowsHide: false,
      windowsVerbatimArguments: false,
    });
    if (err !== 0) {
      done();
      closeSync(statusFd);
      reject(new Error(`spawn failed (libuv error ${err})`));
    }
  });
}
