#!/usr/bin/env bash
# Runs a chosen set of harness steps in one GPU call, each in its own process (libtorch keeps a freed model's memory),
# under a shared deadline, and brings back what fits the device tool's few returned files: each step's log tail, a
# one-line summary per step and one tarball of every step's result folder. Run on the GPU machine from the repository
# root after ../shared/gpu/pack.sh (carry .gpu):
#   STEPS="kc bj bl" END=400 bash benchmarks/LlmEff.Profiling.Torch.Gpu/gpu-steps.sh
# END is the wall-clock budget in seconds for all steps (a step that would start with under 30 s left is skipped).
set -u
A="bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu"
OUT=${OUT:?set OUT to the folder to bring back}
W=/tmp/llmeff-steps; mkdir -p "$W"; T0=$(date +%s); END=${END:-540}
step() {
  local name=$1 t=$2; shift 2
  local left=$(( END - ($(date +%s) - T0) ))
  if [ "$left" -lt 30 ]; then echo "$name skipped (deadline)" | tee -a "$OUT/summary.txt"; return; fi
  [ "$t" -gt "$left" ] && t=$left
  local s; s=$(date +%s)
  timeout "$t" $A "$@" --out "$W/$name" > "$W/$name.log" 2>&1
  echo "$name rc=$? $(( $(date +%s) - s ))s" | tee -a "$OUT/summary.txt"
  tail -c 5000 "$W/$name.log" > "$OUT/$name.log"
  tar czf "$OUT/results.tgz" -C "$W" --exclude='*.log' . 2>/dev/null
}
for s in ${STEPS:-kc gc bj bl mq mx}; do
  case $s in
    kc) step kc 120 --kernel-check --kernel-check-only ;;
    gc) step gc 150 --graph-check --graph-check-only ;;
    bj) step bj 140 --batching --steps-only --model gpt-j ;;
    bl) step bl 140 --batching --steps-only --model Meta-Llama-3 ;;
    bj1) step bj1 100 --batching --steps-only --one-call-step --model gpt-j ;;
    bl1) step bl1 100 --batching --steps-only --one-call-step --model Meta-Llama-3 ;;
    bjs) step bjs 100 --batching --steps-only --no-attention-kernel --model gpt-j ;;
    bls) step bls 100 --batching --steps-only --no-attention-kernel --model Meta-Llama-3 ;;
    bfj) step bfj 300 --batching --model gpt-j ;;
    bfl) step bfl 300 --batching --model Meta-Llama-3 ;;
    tp) step tp 240 --tp-real --nccl ;;
    mq) step mq 150 --moe --model Qwen ;;
    mx) step mx 150 --moe --model Mixtral ;;
    *) echo "unknown step $s (kc gc bj bl bj1 bl1 bjs bls bfj bfl tp mq mx)" | tee -a "$OUT/summary.txt" ;;
  esac
done
