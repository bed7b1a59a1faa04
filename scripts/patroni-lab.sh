#!/bin/bash
# A Patroni lab on this machine: three network namespaces on a bridge, each one host running an
# etcd member, and Patroni 3 managing PostgreSQL 15 as the `postgres` account. What faultline's
# `postgres-patroni` system definition starts per node, by hand, to measure and try it.
#
#   sudo scripts/patroni-lab.sh up [async|sync|sync-strict]   # default async; waits until ready
#   sudo scripts/patroni-lab.sh status                         # patronictl list
#   sudo scripts/patroni-lab.sh kill-leader                    # SIGKILL the leader host's processes
#   sudo scripts/patroni-lab.sh restart N                      # start node N's etcd and Patroni again
#   sudo scripts/patroni-lab.sh down                           # processes, namespaces, bridge, dirs
#
# Names start with `flpg-` (namespaces flpg-n<i>, bridge flpg-br, veths flpg-v<i>), which
# faultline's cleanup of dead controllers does not take for its own; the /24 of 10.213.0.0/16 is
# chosen under faultline's lock (/run/faultline-netns.lock), as scripts/ssh-test-hosts.sh does.
# Nothing is routed: the hosts reach only each other and this machine (the bridge's .1).
# In each namespace: etcd client :2379, peer :2380, Patroni REST :8008, PostgreSQL :5432.
# Everything lives in /tmp/flpg: n<i>/{etcd,pgdata,patroni.yml,*.log,*.pid} (n<i> owned by postgres).
set -euo pipefail

LAB=/tmp/flpg
BRIDGE=flpg-br
LOCK=/run/faultline-netns.lock
NODES=3
PG_BIN=/usr/lib/postgresql/15/bin

ns() { echo "flpg-n$1"; }
addr() { echo "10.213.$(cat "$LAB/subnet").$((10 + $1))"; }
in_ns() { local i=$1; shift; ip netns exec "$(ns "$i")" "$@"; }

require() {
    local missing=()
    command -v etcd >/dev/null || missing+=("etcd (Debian: apt-get install etcd-server)")
    command -v patroni >/dev/null || missing+=("patroni (Debian: apt-get install patroni)")
    [ -x "$PG_BIN/postgres" ] || missing+=("PostgreSQL 15 (Debian: apt-get install postgresql-15)")
    id postgres >/dev/null 2>&1 || missing+=("the postgres account (Debian: apt-get install postgresql-15)")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "patroni-lab: missing: ${missing[*]}" >&2
        exit 3
    fi
}

# The Patroni configuration of node $1 with replication mode $2.
patroni_yml() {
    local i=$1 mode=$2 sync=false strict=false
    case $mode in
        async) ;;
        sync) sync=true ;;
        sync-strict) sync=true; strict=true ;;
        *) echo "patroni-lab: replication must be async, sync or sync-strict, not $mode" >&2; exit 2 ;;
    esac
    local me; me=$(addr "$i")
    local hosts=""
    for j in $(seq 1 $NODES); do hosts="$hosts${hosts:+, }$(addr "$j"):2379"; done
    cat <<YAML
scope: flpg
name: n$i
restapi:
  listen: $me:8008
  connect_address: $me:8008
etcd3:
  hosts: [$hosts]
bootstrap:
  dcs:
    # Patroni's documented minima (ttl 20, loop_wait 1, retry_timeout 3), which keep its rule
    # loop_wait + 2 * retry_timeout <= ttl.
    ttl: 20
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    synchronous_mode: $sync
    synchronous_mode_strict: $strict
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        synchronous_commit: "${SYNCHRONOUS_COMMIT:-on}"
  initdb:
    - encoding: UTF8
    - data-checksums
postgresql:
  listen: $me:5432
  connect_address: $me:5432
  data_dir: $LAB/n$i/pgdata
  bin_dir: $PG_BIN
  pgpass: $LAB/n$i/pgpass
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
    rewind: {username: rewinder, password: rewinder}
  parameters:
    unix_socket_directories: $LAB/n$i
  # The lab's namespaces reach only each other and this machine: trust, as faultline's client
  # sends no password.
  pg_hba:
    - local all all trust
    - host all all 0.0.0.0/0 trust
    - host replication all 0.0.0.0/0 trust
YAML
}

start_etcd() {
    local i=$1 cluster="" state=${2:-new}
    for j in $(seq 1 $NODES); do cluster="$cluster${cluster:+,}n$j=http://$(addr "$j"):2380"; done
    local me; me=$(addr "$i")
    in_ns "$i" setsid etcd --name "n$i" --data-dir "$LAB/n$i/etcd" \
        --listen-client-urls "http://$me:2379,http://127.0.0.1:2379" \
        --advertise-client-urls "http://$me:2379" \
        --listen-peer-urls "http://$me:2380" --initial-advertise-peer-urls "http://$me:2380" \
        --initial-cluster "$cluster" --initial-cluster-state "$state" \
        --initial-cluster-token flpg --heartbeat-interval 100 --election-timeout 1000 \
        >> "$LAB/n$i/etcd.log" 2>&1 < /dev/null &
    echo $! > "$LAB/n$i/etcd.pid"
}

start_patroni() {
    local i=$1
    in_ns "$i" setsid setpriv --reuid postgres --regid postgres --init-groups \
        patroni "$LAB/n$i/patroni.yml" >> "$LAB/n$i/patroni.log" 2>&1 < /dev/null &
    echo $! > "$LAB/n$i/patroni.pid"
}

# A leader (REST /leader) whose pg_stat_replication shows both replicas streaming (Patroni
# 3.0.2's /cluster says "running" for a replica whether it streams or not).
ready() {
    local l; l=$(leader) || return 1
    local n; n=$("$PG_BIN/psql" -h "$(addr "$l")" -U postgres -d postgres -qAt \
        -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null) || return 1
    [ "$n" = 2 ]
}

up() {
    local mode=${1:-async}
    require
    if [ -e "$LAB" ]; then
        echo "patroni-lab: $LAB exists; run '$0 down' first" >&2
        exit 1
    fi
    local t0; t0=$(date +%s.%N)
    mkdir -p "$LAB"
    chmod 755 "$LAB"
    # Choose a free /24 and claim it (the bridge's address) under faultline's lock.
    exec 9> "$LOCK"
    flock 9
    local subnet=""
    for s in $(seq 200 -1 1); do
        if ! ip -o -4 addr show | grep -q " 10\.213\.$s\."; then subnet=$s; break; fi
    done
    [ -n "$subnet" ] || { echo "patroni-lab: no free /24 in 10.213.0.0/16" >&2; exit 1; }
    echo "$subnet" > "$LAB/subnet"
    ip link add "$BRIDGE" type bridge
    ip link set "$BRIDGE" type bridge nf_call_iptables 0 2>/dev/null || true
    ip addr add "10.213.$subnet.1/24" dev "$BRIDGE"
    flock -u 9
    exec 9>&-
    ip link set "$BRIDGE" up
    echo "$mode" > "$LAB/mode"
    for i in $(seq 1 $NODES); do
        ip netns add "$(ns "$i")"
        ip link add "flpg-v$i" type veth peer name eth0 netns "$(ns "$i")"
        ip link set "flpg-v$i" master "$BRIDGE" up
        ip -n "$(ns "$i")" addr add "$(addr "$i")/24" dev eth0
        ip -n "$(ns "$i")" link set eth0 up
        ip -n "$(ns "$i")" link set lo up
        # Patroni's initdb or basebackup creates pgdata (0700) in the node's folder, which must
        # belong to postgres.
        mkdir -p "$LAB/n$i"
        chown postgres:postgres "$LAB/n$i"
        patroni_yml "$i" "$mode" > "$LAB/n$i/patroni.yml"
        chown postgres:postgres "$LAB/n$i/patroni.yml"
    done
    for i in $(seq 1 $NODES); do start_etcd "$i"; done
    for i in $(seq 1 $NODES); do start_patroni "$i"; done
    local deadline=$((SECONDS + 120))
    until ready; do
        if [ $SECONDS -ge $deadline ]; then
            echo "patroni-lab: not ready after 120 s; see $LAB/n*/patroni.log" >&2
            status || true
            exit 1
        fi
        sleep 0.2
    done
    local t1; t1=$(date +%s.%N)
    echo "patroni-lab: up ($mode) on 10.213.$subnet.0/24: leader and 2 replicas streaming after $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
}

status() {
    in_ns 1 patronictl -c "$LAB/n1/patroni.yml" list
}

# The pids of node $1: every process in its namespace. Not the tree under its etcd and Patroni:
# Patroni starts the postmaster the way pg_ctl does (setsid, double fork), so the postmaster's
# parent is init, not Patroni, and no parent link leads from Patroni to PostgreSQL.
node_pids() {
    ip netns pids "$(ns "$1")" 2>/dev/null || true
}

# The leader's node number, from REST /leader (200 on the leader only).
leader() {
    for i in $(seq 1 $NODES); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$(addr "$i"):8008/leader" || true)
        [ "$code" = 200 ] && { echo "$i"; return 0; }
    done
    return 1
}

# SIGKILL the leader host's whole tree (etcd, Patroni, PostgreSQL), stopped first so nothing
# forks or restarts in between; then time until another node takes a write.
kill_leader() {
    local old; old=$(leader) || { echo "patroni-lab: no leader" >&2; exit 1; }
    local pids; pids=$(node_pids "$old")
    kill -STOP $pids 2>/dev/null || true
    pids=$(node_pids "$old")
    local t0; t0=$(date +%s.%N)
    kill -KILL $pids 2>/dev/null || true
    rm -f "$LAB/n$old/etcd.pid" "$LAB/n$old/patroni.pid"
    echo "patroni-lab: killed n$old ($(echo $pids | wc -w) processes)"
    local deadline=$((SECONDS + 120)) new=""
    while [ $SECONDS -lt $deadline ]; do
        for i in $(seq 1 $NODES); do
            [ "$i" = "$old" ] && continue
            if "$PG_BIN/psql" -h "$(addr "$i")" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
                -c "SET statement_timeout = 1000; CREATE TABLE IF NOT EXISTS lab_probe (t timestamptz); INSERT INTO lab_probe VALUES (now())" \
                >/dev/null 2>&1; then
                new=$i
                break 2
            fi
        done
        sleep 0.1
    done
    local t1; t1=$(date +%s.%N)
    [ -n "$new" ] || { echo "patroni-lab: no new leader took a write after 120 s" >&2; exit 1; }
    echo "patroni-lab: n$new took a write $(python3 -c "print(f'{$t1 - $t0:.1f}')") s after the kill of n$old"
}

restart() {
    local i=$1
    start_etcd "$i" existing
    start_patroni "$i"
}

down() {
    for n in $(ip netns list | awk '{print $1}' | grep '^flpg-n' || true); do
        for pid in $(ip netns pids "$n"); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$n"
    done
    # A namespace's veth goes when the kernel gets round to freeing the namespace, which on a
    # loaded machine can be after the next `up`: delete them here.
    for i in $(seq 1 $NODES); do ip link del "flpg-v$i" 2>/dev/null || true; done
    ip link del "$BRIDGE" 2>/dev/null || true
    # Let the killed processes go before their folders.
    sleep 0.5
    rm -rf "$LAB"
}

case "${1:-}" in
    up) up "${2:-async}" ;;
    status) status ;;
    kill-leader) kill_leader ;;
    restart) restart "${2:?node number}" ;;
    leader) leader ;;
    down) down ;;
    *) echo "usage: $0 up [async|sync|sync-strict] | status | leader | kill-leader | restart N | down" >&2; exit 2 ;;
esac
