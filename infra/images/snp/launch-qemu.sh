#!/usr/bin/env bash
# Launches the SEV-SNP guest on a bare-metal SNP host with exactly the inputs
# boot.json pins, so its MEASUREMENT is the one `veritee operator measure-snp
# --boot-config boot.json` prints. Usage: launch-qemu.sh <disk image> [boot.json]
set -euo pipefail
disk="$1"
config="${2:-$(dirname "$0")/boot.json}"
field() { node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=process.argv[2].split(".").reduce((o,k)=>o?.[k],c);process.stdout.write(v==null?"":String(v))' "$config" "$1"; }
ovmf="$(field ovmf.path)"
echo "$(field ovmf.sha256)  $ovmf" | sha256sum --check --quiet
direct=()
if [ -n "$(field kernel.path)" ]; then
  echo "$(field kernel.sha256)  $(field kernel.path)" | sha256sum --check --quiet
  direct+=(-kernel "$(field kernel.path)" -append "$(field append)")
  if [ -n "$(field initrd.path)" ]; then
    echo "$(field initrd.sha256)  $(field initrd.path)" | sha256sum --check --quiet
    direct+=(-initrd "$(field initrd.path)")
  fi
fi
exec qemu-system-x86_64 -enable-kvm -nographic \
  -machine q35,confidential-guest-support=sev0,memory-backend=ram1 \
  -object memory-backend-memfd,id=ram1,size=8G,share=true,prealloc=false \
  -object "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on" \
  -cpu "$(field vcpuType)" -smp "$(field vcpus)" -m 8G \
  -bios "$ovmf" "${direct[@]}" \
  -drive "if=virtio,format=qcow2,file=$disk"
