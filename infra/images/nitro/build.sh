#!/usr/bin/env bash
# Builds the enclave image and its EIF, and prints the PCRs to register:
#   infra/images/nitro/build.sh            (from the repository root)
#   veritee operator register --pcrs enclave.pcrs.json --model ... --model-config ...
# Pins come from infra/images/nitro/pins.env; a rebuild of one commit
# reproduces PCR0.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source infra/images/nitro/pins.env
if ! [[ "$BASE_IMAGE" =~ @sha256:[0-9a-f]{64}$ ]]; then
  echo "build.sh: BASE_IMAGE must be pinned by digest (name@sha256:<64 hex>); see pins.env" >&2
  exit 2
fi
epoch="$(git log -1 --format=%ct)"
tag="veritee-enclave:$(git rev-parse --short=12 HEAD)"
docker build --file infra/images/nitro/Dockerfile \
  --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg DEBIAN_SNAPSHOT="$DEBIAN_SNAPSHOT" \
  --build-arg SOURCE_DATE_EPOCH="$epoch" \
  --tag "$tag" .
nitro-cli build-enclave --docker-uri "$tag" --output-file enclave.eif | tee enclave.pcrs.json
