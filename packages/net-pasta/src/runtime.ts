/**
 * The pasta-mode runtime: a run hook that attaches pasta, the firewall and
 * the filtering DNS service to a sandbox. Loaded only when pasta mode is
 * used (it starts processes and sockets; the default path never loads it).
 */
export type { DeniedName, DnsFilter, DnsFilterOptions } from "./_dns-server.js";
export { startDnsFilter } from "./_dns-server.js";
export type { BlockedAttempt, NetworkReport, PastaHook, PastaHookOptions } from "./_hook.js";
export { pastaHook } from "./_hook.js";
export type { NamespaceFds, PastaProcess } from "./_pasta.js";
export { nftIn, startPasta } from "./_pasta.js";
