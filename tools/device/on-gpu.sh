#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, after tools/device/pack.sh's files arrived there: unpacks Node
# (if /opt/zimage-node has none yet), the modules and the Vulkan loader, then the four checks; their JSON goes to
# ${OUT:-.dev/out}. With TURBO_DIR set to a webnn/Z-Image-Turbo download (its model.json beside it), the text-encoder
# batch check also runs on that export, the one it exists for.
set -uo pipefail
out=${OUT:-.dev/out}
mkdir -p "$out" /opt/zimage-node
export PATH=/opt/zimage-node:$PATH
if ! command -v node >/dev/null; then
  [ -s .dev/node/node.xz ] || { echo "no Node here and no .dev/node/node.xz to unpack"; exit 3; }
  xz -dc .dev/node/node.xz >/opt/zimage-node/node && chmod +x /opt/zimage-node/node
fi
[ "${1:-}" = node-only ] && { node --version; exit 0; }
for deb in .gl/*.deb; do dpkg -x "$deb" /; done
ldconfig
(cd .dev/run && tar -xJf modules.tar.xz) || exit 4
# Where the loader does not find NVIDIA's Vulkan driver by itself.
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
timeout 120 node .dev/run/conv-probe.mjs webgpu >"$out/conv-probe.json" 2>"$out/conv-probe.err"; echo "conv-probe rc=$?"
timeout 150 node .dev/run/graph-parity.mjs --provider webgpu >"$out/graph-parity.json" 2>"$out/graph-parity.err"; echo "graph-parity rc=$?"
timeout 200 node .dev/run/gpu-check.mjs --providers cpu,webgpu --runs 7 >"$out/gpu-check.json" 2>"$out/gpu-check.err"; echo "gpu-check rc=$?"
timeout 120 node .dev/run/text-encoder-batch.mjs --providers cpu,webgpu >"$out/text-encoder-batch.json" 2>"$out/text-encoder-batch.err"; echo "text-encoder-batch rc=$?"
if [ -n "${TURBO_DIR:-}" ]; then
  timeout 600 node .dev/run/text-encoder-batch.mjs --model "$TURBO_DIR" --providers webgpu >"$out/text-encoder-batch-turbo.json" 2>"$out/text-encoder-batch-turbo.err"
  echo "text-encoder-batch (turbo) rc=$?"
fi
cat "$out/conv-probe.json" "$out/graph-parity.json" "$out/gpu-check.json" "$out/text-encoder-batch.json"
