// Types for world.mjs (see README.md).
export type WorldEnv = Record<string, string>;

export const WORLD_SH: string;
export function parseEnv(text: string): WorldEnv;
export function readWorld(prefix?: string): WorldEnv;
export function startWorld(options?: { prefix?: string }): Promise<WorldEnv>;
export function stopWorld(options?: { prefix?: string }): Promise<void>;
export function withWorld<T>(
  fn: (world: WorldEnv) => Promise<T>,
  options?: { prefix?: string },
): Promise<T>;
export function dnsLog(options?: { world?: WorldEnv | null; detailed?: false }): string[];
export function dnsLog(options: {
  world?: WorldEnv | null;
  detailed: true;
}): { type: string; name: string; from: string }[];
export function dnsLogMark(options?: { world?: WorldEnv | null }): number;
export function dnsLogSince(mark: number, options?: { world?: WorldEnv | null }): string[];
export interface ClientResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}
export function runInClient(
  argv: string[],
  options?: {
    user?: string;
    env?: Record<string, string>;
    cwd?: string;
    input?: string | Buffer;
    timeout?: number;
    encoding?: BufferEncoding;
    world?: WorldEnv;
  },
): Promise<ClientResult>;
