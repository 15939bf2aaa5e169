#!/usr/bin/env bash
# Self-check of the test world: up, probe everything from the client netns,
# check isolation from the host, down, check nothing is left. Run as root.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MS_WORLD="${MS_WORLD:-mswst}"
W="$HERE/world.sh"
P="$MS_WORLD"
FAILS=0
TMP="$(mktemp -d /tmp/ms-world-selftest.XXXXXX)"
cleanup() { "$W" down >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT

ok()   { echo "ok   - $*"; }
bad()  { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { # check DESC EXPECTED ACTUAL
  if [[ "$3" == "$2" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
contains() { # contains DESC NEEDLE HAYSTACK
  if grep -qF -- "$2" <<<"$3"; then ok "$1"; else bad "$1: '$2' not in '$3'"; fi
}
C() { "$W" exec-client -- "$@"; }
host_snapshot() {
  { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'
    ip -4 route show table all; ip -6 route show table all
    nft list ruleset 2>/dev/null | sha256sum
    sha256sum /etc/resolv.conf
  } | sort
}

echo "# world prefix: $P"
"$W" down >/dev/null 2>&1 || true
before="$(host_snapshot)"
t0=$(date +%s.%N)
"$W" up
t1=$(date +%s.%N)
echo "# world.sh up took $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')s"
"$W" up 2>&1 | grep -q "already up" && ok "up is idempotent" || bad "second up"
"$W" status >/dev/null && ok "status says up" || bad "status"
eval "$("$W" env)"
check "env: client netns" "$P-client" "$MSW_NS_CLIENT"
after="$(host_snapshot)"
check "host links/routes/nft/resolv.conf unchanged by up" "$before" "$after"

# --- DNS -----------------------------------------------------------------------
check "dig A allowed.test"      "203.0.113.10"   "$(C dig +short @198.51.100.53 allowed.test A)"
check "dig AAAA allowed.test"   "2001:db8:1::10" "$(C dig +short @198.51.100.53 allowed.test AAAA)"
check "dig AAAA over v6+tcp"    "2001:db8:1::10" "$(C dig +short +tcp @2001:db8:1::53 allowed.test AAAA)"
check "dig CNAME cname.test"    "allowed.test. 203.0.113.10" "$(C dig +short @198.51.100.53 cname.test A | tr '\n' ' ' | sed 's/ $//')"
check "dig wildcard b.c.wild.test" "203.0.113.10" "$(C dig +short @198.51.100.53 b.c.wild.test)"
check "dig multi.test"          "203.0.113.10 203.0.113.11" "$(C dig +short @198.51.100.53 multi.test | sort | tr '\n' ' ' | sed 's/ $//')"
check "dig rebind.test"         "127.0.0.1"      "$(C dig +short @198.51.100.53 rebind.test)"
check "dig private.test"        "10.77.0.5"      "$(C dig +short @198.51.100.53 private.test)"
check "dig meta.test"           "169.254.169.254" "$(C dig +short @198.51.100.53 meta.test)"
check "dig TXT txt.allowed.test" '"mini-sandbox test world"' "$(C dig +short @198.51.100.53 txt.allowed.test TXT)"
contains "unknown .test is NXDOMAIN" "status: NXDOMAIN" "$(C dig @198.51.100.53 nope.test)"
contains "outside names are NXDOMAIN" "status: NXDOMAIN" "$(C dig @198.51.100.53 example.com)"
check "client resolv.conf (ip netns convention)" "nameserver 198.51.100.53" "$(C cat /etc/resolv.conf)"
check "system resolver in client (getent)" "203.0.113.11" "$(C getent ahostsv4 other.test | awk 'NR==1{print $1}')"

# --- HTTP ----------------------------------------------------------------------
check "curl http://203.0.113.10/"        "hello from 203.0.113.10:80"     "$(C curl -sS -m 5 http://203.0.113.10/)"
check "curl http://203.0.113.11/"        "hello from 203.0.113.11:80"     "$(C curl -sS -m 5 http://203.0.113.11/)"
check "curl http://203.0.113.12/"        "hello from 203.0.113.12:80"     "$(C curl -sS -m 5 http://203.0.113.12/)"
check "curl -6 http://[2001:db8:1::10]/" "hello from [2001:db8:1::10]:80" "$(C curl -6 -sS -m 5 'http://[2001:db8:1::10]/')"
check "curl http://203.0.113.10:8080/"   "hello from 203.0.113.10:8080"   "$(C curl -sS -m 5 http://203.0.113.10:8080/)"
check "curl private 10.77.0.5 (route exists)" "hello from 10.77.0.5:80"   "$(C curl -sS -m 5 http://10.77.0.5/)"
check "curl metadata 169.254.169.254"    "hello from 169.254.169.254:80"  "$(C curl -sS -m 5 http://169.254.169.254/)"
check "curl by name (resolv.conf)"       "hello from 203.0.113.11:80"     "$(C curl -4 -sS -m 5 http://other.test/)"
check "/whoami sees client address"      "client 198.51.100.2"            "$(C curl -sS -m 5 http://203.0.113.10/whoami | cut -d' ' -f1-2)"
check "/big?size=1000000 length"         "1000000"                        "$(C curl -sS -m 10 -o /dev/null -w '%{size_download}' 'http://203.0.113.10/big?size=1000000')"
big="$(C curl -sS -m 60 -o /dev/null -w '%{size_download} %{speed_download}' http://203.0.113.10/big)"
check "/big is 256 MiB" "268435456" "${big%% *}"
echo "#   /big direct throughput: $(awk -v s="${big##* }" 'BEGIN{printf "%.0f MB/s", s/1e6}')"

# --- git over dumb HTTP ---------------------------------------------------------
if C env HOME="$TMP" GIT_CONFIG_NOSYSTEM=1 git clone -q http://203.0.113.10/repo.git "$TMP/clone" 2>"$TMP/git.err"; then
  contains "git clone http://203.0.113.10/repo.git" "mini-sandbox test world" "$(cat "$TMP/clone/README")"
else
  bad "git clone: $(cat "$TMP/git.err")"
fi

# --- UDP echo --------------------------------------------------------------------
check "udp echo 203.0.113.10:7"    "ping10" "$(echo ping10 | C socat -T 2 - UDP4:203.0.113.10:7)"
check "udp echo 203.0.113.11:7"    "ping11" "$(echo ping11 | C socat -T 2 - UDP4:203.0.113.11:7)"
check "udp echo [2001:db8:1::10]:7" "ping6" "$(echo ping6 | C socat -T 2 - 'UDP6:[2001:db8:1::10]:7')"

# --- node helper -------------------------------------------------------------------
node_out="$(cd "$HERE" && node --input-type=module -e "
import { readWorld, runInClient, dnsLog } from './world.mjs';
const w = readWorld();
const r = await runInClient(['curl', '-s', 'http://' + w.MSW_HOST_EVIL + '/'], { user: 'nobody', cwd: '/' });
const id = await runInClient(['id', '-un'], { user: 'nobody', cwd: '/' });
console.log([r.code, r.stdout.trim(), id.stdout.trim(), dnsLog().includes('allowed.test')].join('|'));
" 2>&1)" || true
check "world.mjs runInClient as nobody + dnsLog" "0|hello from 203.0.113.12:80|nobody|true" "$node_out"

# --- dnsmasq query log ----------------------------------------------------------------
dlog="$(cat "$MSW_DNS_LOG")"
for n in "query[A] allowed.test from 198.51.100.2" "query[AAAA] allowed.test from 2001:db8::2" \
         "query[A] cname.test" "query[TXT] txt.allowed.test" "query[A] other.test"; do
  contains "dns log has '$n'" "$n" "$dlog"
done
if grep -q "never-asked.test" <<<"$dlog"; then bad "dns log has unexpected name"; else ok "dns log lacks never-asked.test"; fi

# --- isolation ------------------------------------------------------------------------
check "client routes: only default via upstream" \
  "default via 198.51.100.1 dev eth0|198.51.100.0/24 dev eth0 proto kernel scope link src 198.51.100.2" \
  "$(ip -n "$P-client" -4 route show table all | grep -v '^local\|^broadcast' | sed 's/ *$//' | paste -sd'|')"
check "client links: lo + eth0 only" "lo eth0" "$(ip -n "$P-client" -o link | awk -F': ' '{sub(/@.*/,"",$2); print $2}' | paste -sd' ')"
check "upstream has no v4 default route" "" "$(ip -n "$P-up" -4 route show default)"
check "upstream has no v6 default route" "" "$(ip -n "$P-up" -6 route show default)"
check "upstream does not forward"        "0 0" "$(ip netns exec "$P-up" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | paste -sd' ')"
# every link in upstream stays inside upstream or leads to the client netns
# (a peer in the root netns would show up as "link-netnsid N" or another name)
bad_links="$(ip -n "$P-up" -o -d link | awk -v c="$P-client" '
  { name=$2; sub(/@.*/,"",name); sub(/:$/,"",name)
    if ($0 ~ /link-netnsid /) print name
    else if (match($0, /link-netns [^ ]+/)) { split(substr($0,RSTART,RLENGTH),a," "); if (a[2]!=c) print name } }')"
check "upstream has exactly one cross-netns link (eth0 -> client)" "eth0" \
  "$(ip -n "$P-up" -o -d link | grep -E 'link-netns(id)? ' | awk '{n=$2; sub(/@.*/,"",n); print n}' | paste -sd' ')"
check "upstream veths only lead to client/upstream" "" "$bad_links"
if C curl -s -m 2 http://192.0.2.1/ >/dev/null 2>&1; then bad "unknown address reachable"; else ok "non-world address 192.0.2.1 unreachable"; fi

# --- down -----------------------------------------------------------------------------
pids="$(cat "$MSW_STATE_DIR"/*.pid | paste -sd' ')"
"$W" down
"$W" down >/dev/null 2>&1 && ok "down is idempotent" || bad "second down"
check "no netns with prefix left" "" "$(ip netns list | awk '{print $1}' | grep -E "^$P-(up|client)\$" || true)"
alive=""  # zombies waiting for their (foreign) parent to reap them count as gone
for p in $pids; do st="$(ps -o stat= -p "$p" 2>/dev/null || true)"; [[ -n "$st" && "$st" != Z* ]] && alive+="$p "; done
check "no world processes left (pids $pids)" "" "$alive"
check "no dnsmasq/httpd of the world left" "" "$(pgrep -af "ms-world-$P\." || true)"
[[ ! -e "$MSW_STATE_DIR" ]] && ok "state dir removed" || bad "state dir left: $MSW_STATE_DIR"
[[ ! -e "/etc/netns/$P-client" ]] && ok "/etc/netns/$P-client removed" || bad "/etc/netns/$P-client left"
[[ ! -e "/run/ms-test-world/$P.statedir" ]] && ok "registry entry removed" || bad "registry entry left"
check "host links/routes/nft/resolv.conf unchanged after down" "$before" "$(host_snapshot)"
"$W" status >/dev/null 2>&1 && bad "status after down should fail" || ok "status reports down"

echo
if [[ $FAILS -eq 0 ]]; then echo "selftest: ALL PASSED"; else echo "selftest: $FAILS FAILED"; exit 1; fi
