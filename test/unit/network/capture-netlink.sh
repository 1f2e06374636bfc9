#!/bin/bash
# Recipe for the known-good bytes in netlink.test.ts: what iproute2 sends for the same requests,
# captured with strace inside throwaway network namespaces (root; touches no host interface).
# The sequence number (bytes 8..11) differs per run; the test sets the same one.
set -euo pipefail
N=tdt-cap$$
ip netns add $N; ip netns add ${N}b
trap 'ip netns del $N; ip netns del ${N}b' EXIT
cap() { local ns=$1; shift; ip netns exec "$ns" strace -e trace=sendmsg -e write=3 "$@" 2>&1 |
  awk '/^sendmsg/{buf=""} /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] /{ for(i=3;i<=18;i++) if ($i ~ /^[0-9a-f][0-9a-f]$/) buf=buf $i } END{print buf}'; }
echo "bridge $(cap $N ip link add tdbr0 type bridge)"
echo "veth $(cap $N ip link add td12345678901 mtu 1500 master tdbr0 up type veth peer name eth0 mtu 1500 netns ${N}b)"
echo "addr $(cap $N ip addr add 172.29.0.1/16 dev tdbr0)"
ip netns exec ${N}b ip link set eth0 up
ip netns exec ${N}b ip addr add 172.29.0.2/16 dev eth0
echo "route $(cap ${N}b ip route add default via 172.29.0.1)"
echo "up $(cap ${N}b ip link set lo up)"
echo "del $(cap $N ip link del td12345678901)"
