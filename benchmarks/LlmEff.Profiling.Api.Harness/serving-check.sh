#!/usr/bin/env bash
# End-to-end check of the API profiler on the GPU machine (docs/benchmarks.md, "API profiling against a GPU server"):
# the harness's OpenAI-compatible server over a real PyTorch decoder on the GPU, profiled by the packed `llmeff` CLI
# with the paper's grid (the denoised fit) and a concurrency sweep, every request exported; the server records its own
# per-token times beside it. Prepare here:  ../shared/gpu/pack.sh src/LlmEff.Cli/LlmEff.Cli.csproj
# Run there (carrying .gpu):                bash benchmarks/LlmEff.Profiling.Api.Harness/serving-check.sh "$OUT/api"
# Here, without a GPU (the server's sleep stand-in):  SERVER_ARGS="--backend sleep" bash .../serving-check.sh /tmp/api
set -uo pipefail
out=${1:?usage: serving-check.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
export DOTNET_ROOT=/tmp/dotnet-rt DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ -x "$DOTNET_ROOT/dotnet" ] || { mkdir -p "$DOTNET_ROOT"; tar -C "$DOTNET_ROOT" -xJf "$root/.gpu/dotnet.tar.xz"; }
llmeff() { "$DOTNET_ROOT/dotnet" "$root/.gpu/app/LlmEff.Cli/llmeff.dll" "$@"; }

port=8000
setsid python3 "$here/openai_server.py" --port $port --stats "$out/server-stats.jsonl" ${SERVER_ARGS:-} > "$out/server.log" 2>&1 < /dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 120); do grep -q '^ready' "$out/server.log" 2>/dev/null && break; sleep 1; done
grep -q '^ready' "$out/server.log" || { echo "server did not start:"; cat "$out/server.log"; exit 1; }
cat "$out/server.log"
url=http://127.0.0.1:$port/v1/
common=(--url $url --model gpt-1b-random --api-key-env "" --token-ids --stream)

# 1. The paper's grid, one request at a time: the denoised fit (minimum over trials), every request exported.
llmeff profile api "${common[@]}" --journal "$out/grid.jsonl" --prompts 1,256,512,1024,1536 --outputs 1,8,32,64 --trials ${TRIALS:-3} \
  -o "$out/profiled-model.json" --export-requests "$out/grid-requests.json" 2>&1 | tr '\r' '\n' | grep -v ETA | tee "$out/grid.txt"

# 2. The concurrency sweep (Figure 6 style): p = 512, o = 64, 32 requests per level, goodput against SLOs.
llmeff profile api "${common[@]}" --journal "$out/load.jsonl" --concurrency ${LEVELS:-1,2,4,8,16} --max-requests ${PER_LEVEL:-32} --prompts 512 --outputs 64 \
  --slo ttft=0.5,tpot=0.05 --export-requests "$out/load-requests.json" --summary "$out/load-summary.json" 2>&1 | tr '\r' '\n' | grep -v 'requests, ' | tee "$out/load.txt"
