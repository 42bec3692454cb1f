#!/usr/bin/env bash
# Packs the GPU checks for a machine that has a GPU but no Node and no network (tools/device/README.md):
#   .dev/node/node.xz          this machine's Node binary (x86-64 Linux, glibc)
#   .dev/run/*.mjs             gpu-check, graph-parity, conv-probe and text-encoder-batch bundled with esbuild
#                              (onnxruntime-node and sharp stay outside: native code)
#   .dev/run/modules.tar.xz    node_modules with just those two and what they load
#   .gl/*.deb                  the Vulkan loader and libglvnd, which Dawn (onnxruntime's WebGPU) needs there
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .dev/node .dev/run .gl
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for path in /.dev/ /.gl/; do grep -qxF "$path" "$exclude" 2>/dev/null || echo "$path" >>"$exclude"; done

for tool in gpu-check graph-parity conv-probe text-encoder-batch; do
  npx esbuild "tools/device/$tool.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --external:onnxruntime-node --external:sharp \
    --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" \
    --outfile=".dev/run/$tool.mjs"
done

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/node_modules/onnxruntime-node/bin/napi-v6/linux" "$staging/node_modules/@img"
cp -r node_modules/onnxruntime-node/{package.json,dist,lib} "$staging/node_modules/onnxruntime-node/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$staging/node_modules/onnxruntime-node/bin/napi-v6/linux/"
for package in onnxruntime-common sharp detect-libc semver @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64; do
  cp -r "node_modules/$package" "$staging/node_modules/$package"
done
tar -C "$staging" -cJf .dev/run/modules.tar.xz node_modules
[ -s .dev/node/node.xz ] || xz -T0 -9 -c "$(command -v node)" >.dev/node/node.xz

lists=/tmp/apt-amd64
mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update >/dev/null
(cd .gl && apt-get "${apt[@]}" download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libgles2 libopengl0 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
du -sh .dev/node .dev/run .gl
