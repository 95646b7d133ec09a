#!/usr/bin/env bash
# The one command for the GPU machine (docs/gpu-check.md): unpacks .cache/gpu-check/ (made by
# bench/gpu/prepare-device.sh), builds the full-size random GenDR pack there, and runs
# `npm run bench:gpu` (bundled) on WebGPU fp16 and, for comparison, onnxruntime-node; logs,
# JSON reports and nvidia-smi memory samples go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
c=.cache/gpu-check
OUT=${OUT:-/tmp/gpu-check-out}
mkdir -p "$OUT" /tmp/gpu-check
log="$OUT/device-check.log"
exec > >(tee "$log") 2>&1
for f in "$c"/*.deb; do [ -e "$f" ] && dpkg -x "$f" / && ldconfig; done
if command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] < 20)'; then
  NODE=node
else
  xz -dc "$c/node.xz" > /tmp/gpu-check/node && chmod +x /tmp/gpu-check/node && NODE=/tmp/gpu-check/node
fi
tar -xJf "$c/node_modules.tar.xz" -C "$c"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -z "${VK_ICD_FILENAMES:-}" ] && [ -e "$icd" ] && export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
echo "node $($NODE --version); commit $(cat $c/commit); VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
smi() { # samples used GPU memory every 0.2 s into $OUT/$1-smi.csv while "$@" runs
  local name=$1; shift
  (while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null; sleep 0.2; done) > "$OUT/$name-smi.csv" &
  local s=$!; "$@"; local rc=$?; kill $s 2>/dev/null
  echo "$name: rc $rc, nvidia-smi peak $(sort -n "$OUT/$name-smi.csv" | tail -1) MiB used"
}
bench() { timeout "${BENCH_TIMEOUT:-240}" $NODE "$c/bench-gpu.mjs" --preset gendr --random \
  --dtype fp16 --size 128 --cache /tmp/gpu-check/packs "$@"; }
smi webgpu bench --runtime webgpu --runs 2 --json "$OUT/webgpu.json"
smi node bench --runtime node --runs 1 --parity-size 0 --json "$OUT/node.json"
