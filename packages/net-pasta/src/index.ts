export type { DnsRecord, DroppedAnswer, FilteredAnswer } from "./_dns-policy.js";
export {
  FORWARDED_TYPES,
  filterAnswer,
  MAX_GRANT_SECONDS,
  MIN_GRANT_SECONDS,
} from "./_dns-policy.js";
export type { DnsGrant, FirewallInput } from "./_firewall.js";
export { DNS_STUB, firewallScript, grantScript, NFT_TABLE } from "./_firewall.js";
export type { Address, Family, Prefix } from "./_ip.js";
export {
  ALWAYS_DENIED,
  formatAddress,
  formatPrefix,
  parseAddress,
  parsePrefix,
  prefixContains,
  specialRange,
} from "./_ip.js";
export type { NetworkMode, NetworkPlan, PastaNetwork } from "./_network.js";
export { networkPlan, PASTA_RESOLV_CONF } from "./_network.js";
export type { PortRange, Rule } from "./_rules.js";
export {
  explicitlyAllowed,
  nameRules,
  normalizeName,
  parseRule,
  parseRules,
  ruleMatchesName,
  rulesFromPlan,
} from "./_rules.js";
