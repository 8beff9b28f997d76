#!/bin/sh
# Inside the Nitro Enclave: no network, only vsock. Expose the enclave API on
# vsock port 7001 (the parent relays to it), reach KMS through the parent's
# nitro-enclaves-vsock-proxy (vsock 8000 -> kms.<region>.amazonaws.com:443,
# TLS end to end), and the instance role's credentials through the parent's
# `vsock-proxy 8002 169.254.169.254 80`, so the AWS SDK's usual chain works.
set -eu
# A sealed model baked in by build.sh: where it is, its pin, and the region of its KMS key.
if [ -f /opt/veritee/model/model.env ]; then
  set -a
  . /opt/veritee/model/model.env
  set +a
fi
region="${AWS_REGION:-eu-west-1}"
export AWS_REGION="$region"
ip link set lo up 2>/dev/null || true
ip addr add 169.254.169.254/32 dev lo 2>/dev/null || true
echo "127.0.0.1 kms.${region}.amazonaws.com" >> /etc/hosts
socat TCP-LISTEN:443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8000 &
socat TCP-LISTEN:80,bind=169.254.169.254,fork,reuseaddr VSOCK-CONNECT:3:8002 &
socat VSOCK-LISTEN:7001,fork,reuseaddr TCP:127.0.0.1:7001 &
exec node /opt/veritee/enclave/dist/main.js
