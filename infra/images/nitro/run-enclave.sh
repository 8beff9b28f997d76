#!/bin/sh
# Inside the Nitro Enclave: no network, only vsock. Expose the enclave API on
# vsock port 7001 (the parent relays to it with socat), and reach KMS through
# the parent's `vsock-proxy 8000 kms.<region>.amazonaws.com 443` (CID 3).
set -eu
region="${AWS_REGION:-eu-west-1}"
ip link set lo up 2>/dev/null || true
echo "127.0.0.1 kms.${region}.amazonaws.com" >> /etc/hosts
socat TCP-LISTEN:443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8000 &
socat VSOCK-LISTEN:7001,fork,reuseaddr TCP:127.0.0.1:7001 &
exec node /opt/veritee/enclave/dist/main.js
