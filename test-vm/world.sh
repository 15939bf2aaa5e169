#!/usr/bin/env bash
# mini-sandbox "test world": a private, fully offline network made of two
# network namespaces (upstream + client) joined by a veth pair. See README.md.
#
#   world.sh up | down | status | env | exec-client -- CMD... | exec-up -- CMD...
#
# Env: MS_WORLD  name prefix (default "msw"): namespaces are ${MS_WORLD}-up and
#                ${MS_WORLD}-client, so several worlds can coexist.
#
# Nothing here touches the root namespace's interfaces, routes, firewall or
# resolver: every link is created directly inside the new namespaces, and the
# upstream namespace has no default route and no link to the root namespace.
set -Eeuo pipefail

P="${MS_WORLD:-msw}"
if [[ ! "$P" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$ ]]; then
  echo "world.sh: invalid MS_WORLD '$P' (use [A-Za-z0-9_-], max 32 chars)" >&2
  exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NS_UP="$P-up"
NS_CLIENT="$P-client"
REGDIR=/run/ms-test-world            # registry: one file per world -> state dir
REC="$REGDIR/$P.statedir"
NETNS_ETC_DIR="/etc/netns/$NS_CLIENT"

# --- addresses (documentation ranges only) ----------------------------------
GW4=198.51.100.1        GW6=2001:db8::1
CLIENT4=198.51.100.2    CLIENT6=2001:db8::2
DNS4=198.51.100.53      DNS6=2001:db8:1::53
HOST_ALLOWED=203.0.113.10 HOST_OTHER=203.0.113.11 HOST_EVIL=203.0.113.12
HOST6=2001:db8:1::10
PRIVATE=10.77.0.5       METADATA=169.254.169.254
HTTP_LISTEN=(
  "$HOST_ALLOWED:80" "$HOST_OTHER:80" "$HOST_EVIL:80" "[$HOST6]:80"
  "$PRIVATE:80" "$METADATA:80" "$HOST_ALLOWED:8080"
)
UDP_ECHO=("$HOST_ALLOWED" "$HOST_OTHER")
UDP_ECHO6=("$HOST6")

log() { echo "world[$P]: $*" >&2; }
die() { log "error: $*"; exit 1; }
need_root() { [[ $EUID -eq 0 ]] || die "must run as root"; }

ns_exists() { [[ -e "/run/netns/$1" ]]; }

# A "dummy" interface inside upstream. Some kernels (like the CI one) have no
# dummy driver; then a veth pair with both ends inside upstream does the job.
add_dummy() {
  if ! ip -n "$NS_UP" link add "$1" type dummy 2>/dev/null; then
    ip -n "$NS_UP" link add "$1" type veth peer name "$1-peer"
    ip -n "$NS_UP" link set "$1-peer" up
  fi
}

state_dir() {
  # Prints the recorded state dir (empty if none). Only trusts our own naming.
  local s=""
  [[ -f "$REC" ]] && s="$(cat "$REC")"
  if [[ -n "$s" && "$s" == /tmp/ms-world-"$P".* && -d "$s" ]]; then
    printf '%s\n' "$s"
  fi
}

# Serialise up/down of all worlds (they share /run/netns and /etc/netns).
take_lock() { exec 9<"$HERE/world.sh"; flock 9; }

# --- checks --------------------------------------------------------------------
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
pidfile_alive() { [[ -f "$1" ]] && pid_alive "$(cat "$1")"; }

expected_listeners() {
  local a
  for a in "${HTTP_LISTEN[@]}"; do echo "tcp $a"; done
  for a in "$DNS4:53" "[$DNS6]:53"; do echo "tcp $a"; echo "udp $a"; done
  for a in "${UDP_ECHO[@]}"; do echo "udp $a:7"; done
  for a in "${UDP_ECHO6[@]}"; do echo "udp [$a]:7"; done
}

missing_listeners() {
  # Prints expected listening sockets that are not (yet) present in upstream.
  local have
  have="$( { ip netns exec "$NS_UP" ss -Hlnt | awk '{print "tcp " $4}'
             ip netns exec "$NS_UP" ss -Hlnu | awk '{print "udp " $4}'; } 2>/dev/null || true)"
  expected_listeners | while read -r l; do
    grep -qxF -- "$l" <<<"$have" || echo "$l"
  done
}

is_up() {
  local s
  s="$(state_dir)"
  [[ -n "$s" ]] && ns_exists "$NS_UP" && ns_exists "$NS_CLIENT" \
    && [[ -f "$NETNS_ETC_DIR/resolv.conf" ]] \
    && pidfile_alive "$s/dnsmasq.pid" && pidfile_alive "$s/httpd.pid" \
    && [[ -z "$(missing_listeners)" ]]
}

# --- up ----------------------------------------------------------------------
setup_netns() {
  local s="$1" ns
  for ns in "$NS_UP" "$NS_CLIENT"; do
    ns_exists "$ns" && die "namespace $ns exists but world is not recorded; run 'down' first"
  done
  [[ -d /run/netns ]] || touch "$REGDIR/created-run-netns"
  ip netns add "$NS_UP"
  ip netns add "$NS_CLIENT"
  for ns in "$NS_UP" "$NS_CLIENT"; do
    # No DAD delays, no router advertisements: addresses usable immediately.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_ra=0 \
      net.ipv6.conf.all.accept_ra=0
    ip -n "$ns" link set lo up
  done
  # upstream must never route anything anywhere
  ip netns exec "$NS_UP" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0

  # veth pair created directly inside the namespaces (never in the root ns)
  ip -n "$NS_UP" link add eth0 type veth peer name eth0 netns "$NS_CLIENT"

  # upstream: router side of the link + "internet" addresses on dummies
  ip -n "$NS_UP" addr add "$GW4/24" dev eth0
  ip -n "$NS_UP" addr add "$GW6/64" dev eth0 nodad
  ip -n "$NS_UP" link set eth0 up
  add_dummy inet0
  ip -n "$NS_UP" addr add "$HOST_ALLOWED/24" dev inet0
  ip -n "$NS_UP" addr add "$HOST_OTHER/24" dev inet0
  ip -n "$NS_UP" addr add "$HOST_EVIL/24" dev inet0
  ip -n "$NS_UP" addr add "$DNS4/32" dev inet0
  ip -n "$NS_UP" addr add "$HOST6/64" dev inet0 nodad
  ip -n "$NS_UP" addr add "$DNS6/64" dev inet0 nodad
  ip -n "$NS_UP" link set inet0 up
  add_dummy lan0       # "private LAN host"
  ip -n "$NS_UP" addr add "$PRIVATE/24" dev lan0
  ip -n "$NS_UP" link set lan0 up
  add_dummy meta0      # fake cloud metadata service
  ip -n "$NS_UP" addr add "$METADATA/32" dev meta0
  ip -n "$NS_UP" link set meta0 up

  # client: the machine under test
  ip -n "$NS_CLIENT" addr add "$CLIENT4/24" dev eth0
  ip -n "$NS_CLIENT" addr add "$CLIENT6/64" dev eth0 nodad
  ip -n "$NS_CLIENT" link set eth0 up
  ip -n "$NS_CLIENT" route add default via "$GW4" dev eth0
  ip -n "$NS_CLIENT" -6 route add default via "$GW6" dev eth0

  [[ -d /etc/netns ]] || touch "$REGDIR/created-etc-netns"
  mkdir -p "$NETNS_ETC_DIR"
  printf 'nameserver %s\n' "$DNS4" >"$NETNS_ETC_DIR/resolv.conf"
  chmod 0644 "$NETNS_ETC_DIR/resolv.conf"
}

start_dns() {
  local s="$1"
  : >"$s/dnsmasq.log"
  ip netns exec "$NS_UP" dnsmasq \
    --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --user=root --group=root \
    --pid-file="$s/dnsmasq.pid" \
    --log-queries --log-facility="$s/dnsmasq.log" \
    --bind-interfaces --listen-address="$DNS4" --listen-address="$DNS6" \
    --local-ttl=1 --auth-ttl=1 \
    --local=/test/ \
    --local=/#/ \
    --host-record=allowed.test,$HOST_ALLOWED,$HOST6 \
    --host-record=other.test,$HOST_OTHER \
    --host-record=evil.test,$HOST_EVIL \
    --host-record=v6only.test,$HOST6 \
    --host-record=dns.test,$DNS4,$DNS6 \
    --address=/wild.test/$HOST_ALLOWED \
    --cname=cname.test,allowed.test \
    --host-record=rebind.test,127.0.0.1 \
    --host-record=private.test,$PRIVATE \
    --host-record=meta.test,$METADATA \
    --host-record=multi.test,$HOST_ALLOWED \
    --host-record=multi.test,$HOST_OTHER \
    --txt-record=txt.allowed.test,"mini-sandbox test world" \
    </dev/null >"$s/dnsmasq.out" 2>&1 9<&- \
    || { cat "$s/dnsmasq.out" >&2; die "dnsmasq failed to start"; }
}

make_git_repo() {
  local s="$1" work="$1/git-work"
  mkdir -p "$s/www"
  (
    export HOME="$s" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    export GIT_AUTHOR_NAME="test world" GIT_AUTHOR_EMAIL="world@example.test"
    export GIT_COMMITTER_NAME="test world" GIT_COMMITTER_EMAIL="world@example.test"
    export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
    git init -q --bare --initial-branch=main "$s/www/repo.git"
    git init -q --initial-branch=main "$work"
    printf 'hello from the mini-sandbox test world repository\n' >"$work/README"
    git -C "$work" add README
    git -C "$work" commit -q -m "initial commit"
    git -C "$work" push -q "$s/www/repo.git" main
    git -C "$s/www/repo.git" update-server-info
  )
  rm -rf "$work"
}

start_bg() {
  # start_bg NAME CMD... : run CMD in upstream, detached, pid -> $s/NAME.pid
  local s="$STATE" name="$1"; shift
  ip netns exec "$NS_UP" setsid "$@" </dev/null >"$s/$name.out" 2>&1 9<&- &
  echo $! >"$s/$name.pid"
}

cmd_up() {
  need_root
  take_lock
  if is_up; then
    log "already up (state $(state_dir))"
    return 0
  fi
  if [[ -f "$REC" ]] || ns_exists "$NS_UP" || ns_exists "$NS_CLIENT" || [[ -d "$NETNS_ETC_DIR" ]]; then
    log "partial world found, cleaning it first"
    do_down
  fi
  local t0=$SECONDS
  mkdir -p "$REGDIR"
  STATE="$(mktemp -d "/tmp/ms-world-$P.XXXXXX")"
  chmod 0700 "$STATE"
  printf '%s\n' "$STATE" >"$REC"
  trap 'log "up failed, tearing down"; do_down' ERR
  trap 'do_down; exit 1' INT TERM

  setup_netns "$STATE"
  start_dns "$STATE"
  make_git_repo "$STATE"
  start_bg httpd python3 -u "$HERE/httpd.py" --state "$STATE" --git-root "$STATE/www" "${HTTP_LISTEN[@]}"
  local a i=0
  for a in "${UDP_ECHO[@]}"; do
    start_bg "udp-echo-$a" socat -T 2 "UDP4-RECVFROM:7,bind=$a,fork" PIPE
  done
  for a in "${UDP_ECHO6[@]}"; do
    start_bg "udp-echo-${a//:/-}" socat -T 2 "UDP6-RECVFROM:7,bind=[$a],fork" PIPE
  done

  # wait for every socket to be listening (max ~15 s)
  local missing=""
  for i in $(seq 1 150); do
    missing="$(missing_listeners)"
    [[ -z "$missing" ]] && break
    pidfile_alive "$STATE/httpd.pid" || { cat "$STATE/httpd.out" >&2; false; }
    sleep 0.1
  done
  if [[ -n "$missing" ]]; then
    log "not listening after 15s:"; echo "$missing" >&2
    false
  fi
  trap - ERR INT TERM
  log "up in $((SECONDS - t0))s (state $STATE)"
}

# --- down --------------------------------------------------------------------
kill_ns_procs() {
  local ns="$1" pids i
  ns_exists "$ns" || return 0
  pids="$(ip netns pids "$ns" 2>/dev/null || true)"
  [[ -z "$pids" ]] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 1 30); do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [[ -z "$pids" ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.1
}

do_down() {
  local s ns f
  s="$(state_dir)"
  # processes we started (by pid), then anything still living in our netns
  if [[ -n "$s" ]]; then
    for f in "$s"/*.pid; do
      [[ -f "$f" ]] || continue
      kill -TERM "$(cat "$f")" 2>/dev/null || true
    done
  fi
  for ns in "$NS_CLIENT" "$NS_UP"; do kill_ns_procs "$ns"; done
  for ns in "$NS_CLIENT" "$NS_UP"; do
    if ns_exists "$ns"; then ip netns del "$ns"; fi
  done
  rm -rf "$NETNS_ETC_DIR"
  [[ -n "$s" ]] && rm -rf "$s"
  rm -f "$REC"
  # /etc/netns and /run/netns: removed only if a world created them and no
  # world (nor anybody else) uses them any more.
  if ! compgen -G "$REGDIR/*.statedir" >/dev/null; then
    if [[ -f "$REGDIR/created-etc-netns" ]]; then
      rmdir /etc/netns 2>/dev/null && rm -f "$REGDIR/created-etc-netns" || true
    fi
    if [[ -f "$REGDIR/created-run-netns" && -d /run/netns && -z "$(ls -A /run/netns)" ]]; then
      umount /run/netns 2>/dev/null || true
      rmdir /run/netns 2>/dev/null && rm -f "$REGDIR/created-run-netns" || true
    fi
  fi
  rmdir "$REGDIR" 2>/dev/null || true
  return 0
}

cmd_down() {
  need_root
  take_lock
  do_down
  log "down"
}

# --- status / env / exec -----------------------------------------------------
cmd_status() {
  local s rc=0
  s="$(state_dir)"
  echo "world:      $P"
  echo "state dir:  ${s:-<none>}"
  for ns in "$NS_UP" "$NS_CLIENT"; do
    if ns_exists "$ns"; then echo "netns:      $ns present"; else echo "netns:      $ns MISSING"; rc=1; fi
  done
  if [[ -n "$s" ]]; then
    for f in "$s"/*.pid; do
      [[ -f "$f" ]] || continue
      if pidfile_alive "$f"; then echo "process:    $(basename "$f" .pid) pid $(cat "$f") running"
      else echo "process:    $(basename "$f" .pid) NOT running"; rc=1; fi
    done
  else
    rc=1
  fi
  if ns_exists "$NS_UP"; then
    local m; m="$(missing_listeners)"
    if [[ -n "$m" ]]; then echo "listeners:  missing: $(echo $m)"; rc=1; else echo "listeners:  all present"; fi
  fi
  [[ -f "$NETNS_ETC_DIR/resolv.conf" ]] && echo "resolv:     $NETNS_ETC_DIR/resolv.conf" || { echo "resolv:     MISSING"; rc=1; }
  if [[ $rc -eq 0 ]]; then echo "status:     up"; else echo "status:     down/partial"; fi
  return $rc
}

cmd_env() {
  local s
  s="$(state_dir)"
  [[ -n "$s" ]] || die "world is not up"
  kv() { printf "%s='%s'\n" "$1" "$2"; }
  kv MS_WORLD "$P"
  kv MSW_STATE_DIR "$s"
  kv MSW_NS_UP "$NS_UP"
  kv MSW_NS_CLIENT "$NS_CLIENT"
  kv MSW_DNS_LOG "$s/dnsmasq.log"
  kv MSW_DNS4 "$DNS4"
  kv MSW_DNS6 "$DNS6"
  kv MSW_RESOLV_CONF "$NETNS_ETC_DIR/resolv.conf"
  kv MSW_GW4 "$GW4"
  kv MSW_GW6 "$GW6"
  kv MSW_CLIENT4 "$CLIENT4"
  kv MSW_CLIENT6 "$CLIENT6"
  kv MSW_HOST_ALLOWED "$HOST_ALLOWED"
  kv MSW_HOST_OTHER "$HOST_OTHER"
  kv MSW_HOST_EVIL "$HOST_EVIL"
  kv MSW_HOST6 "$HOST6"
  kv MSW_PRIVATE "$PRIVATE"
  kv MSW_METADATA "$METADATA"
  kv MSW_HTTP_PORT 80
  kv MSW_HTTP_ALT_PORT 8080
  kv MSW_HTTP_LISTEN "${HTTP_LISTEN[*]}"
  kv MSW_UDP_ECHO "$(printf '%s:7 ' "${UDP_ECHO[@]}")[${UDP_ECHO6[0]}]:7"
  kv MSW_GIT_URL "http://$HOST_ALLOWED/repo.git"
  kv MSW_BIG_URL "http://$HOST_ALLOWED/big"
  kv MSW_HTTP_LOG_DIR "$s"
}

cmd_exec() {
  local ns="$1"; shift
  [[ "${1:-}" == "--" ]] && shift
  [[ $# -gt 0 ]] || die "usage: world.sh exec-client -- CMD..."
  ns_exists "$ns" || die "namespace $ns does not exist (world not up?)"
  exec ip netns exec "$ns" "$@"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  exec-client) shift; cmd_exec "$NS_CLIENT" "$@" ;;
  exec-up) shift; cmd_exec "$NS_UP" "$@" ;;
  *) echo "usage: MS_WORLD=prefix $0 up|down|status|env|exec-client -- CMD...|exec-up -- CMD..." >&2; exit 2 ;;
esac
