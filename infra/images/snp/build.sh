#!/usr/bin/env bash
# Builds the measured SEV-SNP guest and prints its launch measurement:
#   infra/images/snp/build.sh <out dir>                (the bundled model)
#   infra/images/snp/build.sh <out dir> --sealed-model m.sealed --model-config m.json --key-broker https://verifier
# Then: veritee operator register --measurement <printed>, and on the SNP host
# infra/images/snp/launch-qemu.sh <disk> <out dir>/boot.json.
# Needs: Node (the version pins.env names), npm run build done, apt-get (Debian's
# package tools: apt-get download, dpkg-deb), cpio, gzip, busybox-static, ldd.
# The kernel .deb is checked against its pinned SHA-256 before it is opened.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out="${1:?usage: build.sh <out dir> [--sealed-model F --model-config F --key-broker URL]}"
shift
source infra/images/snp/pins.env
if [ "$(node --version)" != "$NODE_VERSION" ]; then
  echo "build.sh: node is $(node --version); pins.env names $NODE_VERSION" >&2
  exit 2
fi
if ! [[ "$OVMF_AMDSEV_SHA256" =~ ^[0-9a-f]{64}$ ]]; then
  echo "build.sh: pin OVMF_AMDSEV_SHA256 in pins.env (sha256sum of your OvmfPkg/AmdSev build)" >&2
  exit 2
fi
echo "$OVMF_AMDSEV_SHA256  $OVMF_AMDSEV" | sha256sum --check --quiet
mkdir -p "$out/kernel"
deb="$out/kernel/${KERNEL_PACKAGE}_${KERNEL_VERSION}_amd64.deb"
if [ ! -f "$deb" ]; then
  (cd "$out/kernel" && apt-get download "${KERNEL_PACKAGE}=${KERNEL_VERSION}") \
    || curl -fsSL -o "$deb" "https://snapshot.debian.org/archive/debian-security/${DEBIAN_SNAPSHOT}/pool/updates/main/l/linux-signed-amd64/$(basename "$deb")"
fi
echo "$KERNEL_DEB_SHA256  $deb" | sha256sum --check --quiet
rm -rf "$out/kernel/root" && mkdir -p "$out/kernel/root"
dpkg-deb -x "$deb" "$out/kernel/root"
release="${KERNEL_PACKAGE#linux-image-}"
modules=()
for module in $KERNEL_MODULES; do
  modules+=(--module "$out/kernel/root/lib/modules/$release/kernel/$module")
done
epoch="$(git log -1 --format=%ct)"
exec node --conditions=veritee-source --import tsx cli/src/main.ts operator snp-guest \
  --kernel "$out/kernel/root/boot/vmlinuz-$release" --ovmf "$OVMF_AMDSEV" --out "$out" \
  --epoch "$epoch" "${modules[@]}" "$@"
