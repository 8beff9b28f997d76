#!/bin/busybox sh
# busybox udhcpc's hook: applies the lease it got to eth0.
case "$1" in
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for gateway in $router; do ip route add default via "$gateway" dev "$interface"; done
    : > /etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
    ;;
esac
