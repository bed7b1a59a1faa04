#!/bin/sh
# Three (or N) throw-away ssh hosts on this machine, for trying `faultline run --hosts ssh`
# without other machines: one network namespace per host on a bridge, an sshd inside each that
# only listens on the namespace's address, a throw-away host key and client key, and an
# inventory that uses them.
#
#   sudo scripts/ssh-test-hosts.sh up [N]     # prints the inventory's path
#   sudo faultline run --hosts ssh --inventory /tmp/flssh/hosts.yaml ...
#   sudo scripts/ssh-test-hosts.sh down
#
# Names start with `flssh-` (namespaces flssh-n<i>, bridge flssh-br, veths flssh-v<i>), which
# faultline's cleanup of dead controllers does not take for its own, and the /24 of 10.213.0.0/16
# is chosen under faultline's lock (/run/faultline-netns.lock), skipping any in use, so runs
# pick others while these hosts live. Nothing is routed: the hosts reach only each other and
# this machine (the bridge's address .1).
set -eu

STATE=/tmp/flssh
BRIDGE=flssh-br
LOCK=/run/faultline-netns.lock

up() {
    n=${1:-3}
    if [ -e "$STATE" ]; then
        echo "ssh-test-hosts: $STATE exists; run '$0 down' first" >&2
        exit 1
    fi
    mkdir -p "$STATE" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$STATE/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$STATE/client_key"
    cp "$STATE/client_key.pub" "$STATE/authorized_keys"
    printf 'Host *\n  UserKnownHostsFile %s/known_hosts\n  IdentitiesOnly yes\n  LogLevel ERROR\n' \
        "$STATE" > "$STATE/ssh_config"
    # Choose a free /24 and claim it (the bridge's address) under faultline's lock.
    exec 9> "$LOCK"
    flock 9
    subnet=""
    for s in $(seq 250 -1 1); do
        if ! ip -o -4 addr show | grep -q " 10\.213\.$s\."; then subnet=$s; break; fi
    done
    [ -n "$subnet" ] || { echo "ssh-test-hosts: no free /24 in 10.213.0.0/16" >&2; exit 1; }
    ip link add "$BRIDGE" type bridge
    ip link set "$BRIDGE" type bridge nf_call_iptables 0 2>/dev/null || true
    ip addr add "10.213.$subnet.1/24" dev "$BRIDGE"
    flock -u 9
    ip link set "$BRIDGE" up
    echo "hosts:" > "$STATE/hosts.yaml"
    for i in $(seq 1 "$n"); do
        ns=flssh-n$i
        addr=10.213.$subnet.$((10 + i))
        ip netns add "$ns"
        ip link add "flssh-v$i" type veth peer name eth0 netns "$ns"
        ip link set "flssh-v$i" master "$BRIDGE" up
        ip -n "$ns" addr add "$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set lo up
        cat > "$STATE/sshd_config_$i" <<CONF
ListenAddress $addr
Port 22
HostKey $STATE/host_key
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile $STATE/sshd_$i.pid
CONF
        ip netns exec "$ns" /usr/sbin/sshd -f "$STATE/sshd_config_$i" -E "$STATE/sshd_$i.log"
        printf '  - {address: %s, user: root, identity: client_key}\n' "$addr" >> "$STATE/hosts.yaml"
    done
    echo "ssh_config: ssh_config" >> "$STATE/hosts.yaml"
    echo "$STATE/hosts.yaml"
}

down() {
    for ns in $(ip netns list | awk '{print $1}' | grep '^flssh-n' || true); do
        for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns"
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -rf "$STATE"
}

case "${1:-}" in
    up) up "${2:-3}" ;;
    down) down ;;
    *) echo "usage: $0 up [N] | down" >&2; exit 2 ;;
esac
