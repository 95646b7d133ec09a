#!/usr/bin/env bash
# Prepares .cache/gpu-check/ (gitignored), the one folder `run` carries to the GPU machine for
# bench/gpu/device-check.sh (docs/gpu-check.md): the bench bundled into one file (no tsx there),
# a Node binary, and the few node_modules files that hold native code or WebAssembly, xz-packed.
# Run it here, on x86-64 Linux, after every change to the bench or the engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.cache/gpu-check
rm -rf "$out" && mkdir -p "$out"
npx esbuild bench/gpu/main.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/bench-gpu.mjs" --log-level=warning \
  --external:onnxruntime-node --external:onnxruntime-web --external:onnxruntime-web/webgpu \
  --external:webgpu --external:sharp \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
ow=node_modules/onnxruntime-web
on=node_modules/onnxruntime-node
tar -cJf "$out/node_modules.tar.xz" \
  $ow/package.json $ow/dist/ort.webgpu.bundle.min.mjs \
  $ow/dist/ort-wasm-simd-threaded.asyncify.mjs $ow/dist/ort-wasm-simd-threaded.asyncify.wasm \
  $on/package.json $on/dist $on/bin/napi-v*/linux/x64 \
  node_modules/onnxruntime-common \
  node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"
(cd "$out" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "note: libvulkan1 not downloaded"
git rev-parse HEAD > "$out/commit"
du -ch "$out"/* | tail -n +1
