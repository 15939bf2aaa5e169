// Node helper for the mini-sandbox test world (see README.md).
// Plain ESM, no dependencies, node:child_process only. Must run as root.
//
//   import { withWorld, runInClient, dnsLog } from '@ms/test-vm';
//   await withWorld(async (world) => {
//     const r = await runInClient(['curl', '-s', 'http://203.0.113.10/'], { user: 'mstest' });
//     assert.equal(r.stdout, 'hello from 203.0.113.10:80\n');
//     assert.ok(dnsLog().includes('allowed.test'));
//   });
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const WORLD_SH = fileURLToPath(new URL("./world.sh", import.meta.url));

let current = null; // env of the world started by this module (or last read)

function worldEnv(prefix) {
  const env = { ...process.env };
  if (prefix) env.MS_WORLD = prefix;
  return env;
}

function sh(args, prefix) {
  return execFileSync("bash", [WORLD_SH, ...args], {
    env: worldEnv(prefix),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 16 << 20,
  });
}

/** Parse `KEY='value'` lines as printed by `world.sh env`. */
export function parseEnv(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) {
      v = v.slice(1, -1).replace(/'\\''/g, "'");
    }
    out[m[1]] = v;
  }
  return out;
}

/** Read the env of a running world (default prefix: $MS_WORLD or "msw"). */
export function readWorld(prefix = process.env.MS_WORLD) {
  current = parseEnv(sh(["env"], prefix));
  return current;
}

/** Bring the world up (idempotent) and return its env as an object. */
export async function startWorld({ prefix = process.env.MS_WORLD } = {}) {
  sh(["up"], prefix);
  return readWorld(prefix);
}

/** Tear the world down completely (idempotent). */
export async function stopWorld({ prefix = current?.MS_WORLD ?? process.env.MS_WORLD } = {}) {
  sh(["down"], prefix);
  if (!prefix || current?.MS_WORLD === prefix) current = null;
}

/** startWorld(), run fn(world), always stopWorld(). */
export async function withWorld(fn, opts = {}) {
  const world = await startWorld(opts);
  try {
    return await fn(world);
  } finally {
    await stopWorld({ prefix: world.MS_WORLD });
  }
}

function needWorld(world) {
  const w = world ?? current ?? readWorld();
  if (!w) throw new Error("test world is not up");
  return w;
}

/**
 * Queries seen by the world's dnsmasq, in order.
 * dnsLog()                -> ['allowed.test', 'allowed.test', ...] (names)
 * dnsLog({ detailed: true }) -> [{ type: 'A', name: 'allowed.test', from: '198.51.100.2' }, ...]
 */
export function dnsLog({ world, detailed = false } = {}) {
  const w = needWorld(world);
  let text = "";
  try {
    text = readFileSync(w.MSW_DNS_LOG, "utf8");
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  const out = [];
  for (const line of text.split("\n")) {
    const m = /\bquery\[([A-Za-z0-9]+)\] (\S+) from (\S+)/.exec(line);
    if (!m) continue;
    out.push(detailed ? { type: m[1], name: m[2], from: m[3] } : m[2]);
  }
  return out;
}

/** Number of log lines so far; pass to dnsLogSince() to see only newer queries. */
export function dnsLogMark({ world } = {}) {
  return dnsLog({ world, detailed: true }).length;
}
export function dnsLogSince(mark, opts = {}) {
  return dnsLog(opts).slice(mark);
}

/**
 * Run argv inside the client namespace (`ip netns exec`), optionally as another
 * user (`runuser -u USER --`). Resolves to { code, signal, stdout, stderr }
 * (never rejects on a non-zero exit; rejects only if spawning fails).
 * Options: user, env (replaces the environment), cwd, input (string/Buffer for
 * stdin), timeout (ms, default 120000; SIGKILL to the whole process group on
 * expiry, result has timedOut: true), encoding ('utf8' or
 * 'buffer'), world.
 */
export function runInClient(argv, opts = {}) {
  const { user, env, cwd, input, timeout = 120_000, encoding = "utf8", world } = opts;
  if (!Array.isArray(argv) || argv.length === 0)
    throw new TypeError("argv must be a non-empty array");
  const w = needWorld(world);
  const full = ["netns", "exec", w.MSW_NS_CLIENT];
  if (user) full.push("runuser", "-u", String(user), "--");
  full.push(...argv.map(String));
  return new Promise((resolve, reject) => {
    const child = spawn("ip", full, {
      env: env ?? process.env,
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true, // own process group, so a timeout also kills runuser's child
    });
    const out = [];
    const err = [];
    let timedOut = false;
    const timer =
      timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              child.kill("SIGKILL");
            }
          }, timeout)
        : null;
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const dec = (b) =>
        encoding === "buffer" ? Buffer.concat(b) : Buffer.concat(b).toString(encoding);
      resolve({ code, signal, timedOut, stdout: dec(out), stderr: dec(err) });
    });
    child.stdin.on("error", () => {}); // child may exit without reading stdin
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
