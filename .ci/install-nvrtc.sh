#!/usr/bin/env bash
# Best effort: NVRTC alone (Debian's non-free libnvrtc11.2, CUDA 11.8) lets the CPU tests compile every run-time CUDA
# kernel for sm_80 and sm_90 without a GPU (KernelCompileTests); they skip where it is absent. Adds the non-free
# component of the machine's own main Debian source, so no host is named here.
set -u
if ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so'; then exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "NVRTC not installed (not root); the kernel compile tests skip" >&2; exit 0; }
. /etc/os-release 2>/dev/null || true
main=/etc/apt/sources.list.d/debian.sources
list=/etc/apt/sources.list.d/llmeff-nonfree.sources
if [ ! -f "$list" ] && [ -f "$main" ] && [ -n "${VERSION_CODENAME:-}" ]; then
  uri=$(awk '/^URIs:/ { print $2; exit }' "$main")
  key=$(awk '/^Signed-By:/ { print $2; exit }' "$main")
  [ -n "$uri" ] && printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: non-free\nSigned-By: %s\n' "$uri" "$VERSION_CODENAME" "$key" > "$list"
fi
if timeout 300 apt-get update -qq >/dev/null 2>&1 \
  && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq libnvrtc11.2 libnvrtc-builtins11.8 >/dev/null 2>&1; then
  echo "NVRTC installed for the kernel compile tests"
else
  echo "NVRTC could not be installed; the kernel compile tests skip" >&2
fi
exit 0
