#!/usr/bin/env bash
# Builds the enclave image and its EIF, and prints the PCRs to register:
#   infra/images/nitro/build.sh                      (the bundled model)
#   infra/images/nitro/build.sh --sealed-model model.sealed --model-config model.json
#   veritee operator register --pcrs enclave.pcrs.json --model ... --model-config ...
# With a sealed model (`veritee operator seal-model`), the image opens it at
# start with a key KMS releases to this image only; AWS_REGION must name the
# region of its KMS key. Pins come from infra/images/nitro/pins.env; a rebuild
# of one commit with the same sealed file reproduces PCR0.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sealed="" config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sealed-model) sealed="$2"; shift 2 ;;
    --model-config) config="$2"; shift 2 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if { [ -n "$sealed" ] && [ -z "$config" ]; } || { [ -z "$sealed" ] && [ -n "$config" ]; }; then
  echo "build.sh: --sealed-model and --model-config go together" >&2
  exit 2
fi
source infra/images/nitro/pins.env
if ! [[ "$BASE_IMAGE" =~ @sha256:[0-9a-f]{64}$ ]]; then
  echo "build.sh: BASE_IMAGE must be pinned by digest (name@sha256:<64 hex>); see pins.env" >&2
  exit 2
fi
stage=infra/images/nitro/.model
rm -rf "$stage" && mkdir -p "$stage"
if [ -n "$sealed" ]; then
  : "${AWS_REGION:?build.sh: set AWS_REGION to the region of the model key}"
  # The pin is the weights' SHA-256 from the sealed header, which the GCM tag authenticates.
  sha="$(node -e 'const b=require("fs").readFileSync(process.argv[1]);if(b.subarray(0,4).toString()!=="VSM1")process.exit(1);const n=b.readUInt32BE(4);process.stdout.write(JSON.parse(b.subarray(8,8+n)).sha256)' "$sealed")" \
    || { echo "build.sh: $sealed is not a sealed model (veritee.sealed-model/v1)" >&2; exit 2; }
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || { echo "build.sh: $sealed has no weights hash" >&2; exit 2; }
  cp "$sealed" "$stage/model.sealed"
  cp "$config" "$stage/model.json"
  # A v2 config pins files beside it (tokenizer, dictionary): they go beside it in the image.
  node -e 'const f=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).files??{};for(const n of Object.keys(f)){if(!/^[A-Za-z0-9._-]{1,128}$/.test(n)||n.startsWith("."))process.exit(1);console.log(n)}' "$config" > "$stage/.files" \
    || { echo "build.sh: $config names a file that is not a plain name" >&2; exit 2; }
  while read -r file; do cp "$(dirname "$config")/$file" "$stage/$file"; done < "$stage/.files"
  rm "$stage/.files"
  cat > "$stage/model.env" <<ENV
VERITEE_MODEL=/opt/veritee/model/model.sealed
VERITEE_MODEL_CONFIG=/opt/veritee/model/model.json
VERITEE_MODEL_SHA256=$sha
VERITEE_MODEL_KEY_RELEASE=kms
AWS_REGION=$AWS_REGION
ENV
fi
epoch="$(git log -1 --format=%ct)"
tag="veritee-enclave:$(git rev-parse --short=12 HEAD)"
docker build --file infra/images/nitro/Dockerfile \
  --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg DEBIAN_SNAPSHOT="$DEBIAN_SNAPSHOT" \
  --build-arg SOURCE_DATE_EPOCH="$epoch" \
  --tag "$tag" .
nitro-cli build-enclave --docker-uri "$tag" --output-file enclave.eif | tee enclave.pcrs.json
