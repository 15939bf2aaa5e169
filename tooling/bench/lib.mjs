// Shared helpers for `pnpm bench`: interleaved runs, medians, ratios.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = `${REPO}/apps/cli/bin/mini-sandbox`;
export const RUNS = Number(process.env.MS_BENCH_RUNS ?? 30);

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time of one run of argv, in ms; throws if it fails. */
export function timeOnce(argv, options = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: "ignore", ...options });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}`);
  return ms;
}

/**
 * Runs each named command `runs` times, interleaved (a, b, c, a, b, c, ...)
 * so that machine noise hits all of them alike; returns medians in ms.
 */
export async function interleaved(cases, runs = RUNS, warmup = 3) {
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < warmup + runs; i++)
    for (const [name, fn] of Object.entries(cases)) {
      const ms = await fn();
      if (i >= warmup) times[name].push(ms);
    }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function line(label, ms, base, baseLabel, target) {
  const ratio = ms / base;
  const verdict =
    target === undefined
      ? ""
      : ratio <= target
        ? `  (target <= ${target}x: met)`
        : `  (target <= ${target}x: NOT met)`;
  return `  ${label.padEnd(56)} ${ms.toFixed(1).padStart(8)} ms   ${ratio.toFixed(2)}x ${baseLabel}${verdict}`;
}
