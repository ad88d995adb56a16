#!/usr/bin/env bash
# Runs a chosen set of harness steps in one GPU call, each in its own process (libtorch keeps a freed model's memory),
# under a shared deadline, and brings back what fits the device tool's few returned files: each step's log tail, a
# one-line summary per step and one tarball of every step's result folder. Run on the GPU machine from the repository
# root after ../shared/gpu/pack.sh (carry .gpu):
#   STEPS="kc bj bl" END=400 bash benchmarks/LlmEff.Profiling.Torch.Gpu/gpu-steps.sh
# TW, when set, is the attention split's busy-warp target for the blf/bjf steps (--attention-target-warps); MAXB, when
# set, limits the bl/blf steps' batch sizes to MAXB (--max-batch).
# Every run-time kernel is launched as a programmatic dependent of the one before it (the engine's default on sm_90+);
# steps ending in n (kcn gcn bln bjn mqn mxn) are their step with the kernels launched one after another
# (--no-dependent-launch), and those ending in d ask for the default explicitly; run each beside its plain step to compare.
# END is the wall-clock budget in seconds for all steps (a step that would start with under 30 s left is skipped).
# Where this machine's TorchSharp was patched for the CPU tests (../shared/torchsharp-cpu), pack.sh does not carry the
# shim the patched library needs: copy $NUGET_PACKAGES/torchsharp/*/runtimes/linux-x64/native/libiosinit.so into
# .gpu/app/LlmEff.Profiling.Torch.Gpu/ after packing (checked below before any step runs).
set -u
L=.gpu/app/LlmEff.Profiling.Torch.Gpu/libLibTorchSharp.so
if readelf -d "$L" 2>/dev/null | grep -q 'libiosinit.so' && [ ! -f "$(dirname "$L")/libiosinit.so" ]; then
  echo "$L needs libiosinit.so beside it (CPU-patched TorchSharp): copy it from the NuGet folder after pack.sh" >&2; exit 2
fi
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
# The candidate of the attention sweep (step "as", run before) whose times for the model's shape $1 have the lowest
# geometric mean, over batch sizes $4, relative to the engine's (split for 1,056 busy warps, variant 0); $2 is the key's
# suffix with {c} for the candidate, $3 the candidates; prints $5 (the engine's) when the sweep's results are missing.
best() {
  python3 - "$W/as/results.json" "$@" <<'PY' 2>/dev/null || echo "$5"
import json, math, sys
r = json.load(open(sys.argv[1]))["attention_sweep"]
m, key, cands, bs, default = sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split(), sys.argv[6]
us = lambda k: float(r[k].split()[2])
ok = [c for c in cands if all(f"{m}_b{b}_{key.format(c=c)}" in r for b in bs)]
print(min([(0.0, default)] + [(sum(math.log(us(f"{m}_b{b}_{key.format(c=c)}") / us(f"{m}_b{b}_warps1056")) for b in bs), c) for c in ok])[1])
PY
}
for s in ${STEPS:-kc gc bj bl mq mx}; do
  case $s in
    kc) step kc 120 --kernel-check --kernel-check-only ;;
    dg) step dg 330 --dense-grid ;;
    # Steps ending in i: single-query prefill interpreted at every prompt size (--no-prefill-graphs), the baseline of the
    # prefill graphs (the engine replays prompts of up to 512 tokens as CUDA graphs).
    dgi) step dgi 330 --dense-grid --no-prefill-graphs ;;
    mqi) step mqi 150 --moe --no-prefill-graphs --model Qwen ;;
    mxi) step mxi 150 --moe --no-prefill-graphs --model Mixtral ;;
    gc) step gc 150 --graph-check --graph-check-only ;;
    as) step as 120 --attention-sweep --attention-sweep-only ;;
    gs) step gs 120 --gemm-sweep --gemm-sweep-only ;;
    bj) step bj 220 --batching --steps-only --model gpt-j ;;
    bl) step bl 220 --batching --steps-only ${MAXB:+--max-batch $MAXB} --model Meta-Llama-3 ;;
    blt|bjt)
      # The batched step with the warp-tile attention (form 0) at the split the sweep (step "as", run before) found best for
      # the model's shape: the busy-warp target whose times over b = 1 … 32 have the lowest geometric mean relative to 1,056.
      m=llama; M=Meta-Llama-3; [ "$s" = bjt ] && { m=gptj; M=gpt-j; }
      tw=$(best $m 'warps{c}' "528 1056 1584 2112 3168 4224" "1 2 4 8 16 32" 1056)
      echo "$s: attention target warps $tw" | tee -a "$OUT/summary.txt"
      step $s 140 --batching --steps-only --attention-form 0 --attention-target-warps "$tw" --model $M ;;
    blv|bjv|blx|mqv)
      # The batched step with the warp-tile attention (form 0) in the variant the sweep (step "as", run before) found best
      # for the model's shape: the lowest geometric mean over b = 1 … 32 (b = 1 for the mixture) of its time relative to variant 0.
      # blx: the same with the residual adds of the output and down projections left to the next norm.
      # mqv: Qwen3-30B-A3B's single-query step (the --moe figures) with the variant best for its shape (G = 8).
      m=llama; M=Meta-Llama-3; [ "$s" = bjv ] && { m=gptj; M=gpt-j; }; [ "$s" = mqv ] && m=qwen3moe
      x=; [ "$s" = blx ] && x=--defer-residual-adds
      bs="1 2 4 8 16 32"; [ "$s" = mqv ] && bs=1
      av=$(best $m 'variant{c}' "1 2 3 4 5 6 7" "$bs" 0)
      echo "$s: attention variant $av" | tee -a "$OUT/summary.txt"
      if [ "$s" = mqv ]; then step mqv 150 --moe --attention-form 0 --attention-variant "$av" --model Qwen
      else step $s 140 --batching --steps-only --attention-form 0 --attention-variant "$av" $x --model $M; fi ;;
    blT|bjT|gsT)
      # libtorch's TunableOp: every GEMM shape timed against cuBLAS/cuBLASLt's candidate algorithms on its first (eager)
      # call, the fastest kept (also inside the captured graphs); the results file comes back with the step's folder.
      mkdir -p "$W/$s"
      # Candidates are timed over a 256 MiB rotation of copies (past the L2 cache), as a decode step reads its weights.
      export PYTORCH_TUNABLEOP_ENABLED=1 PYTORCH_TUNABLEOP_TUNING=1 PYTORCH_TUNABLEOP_VERBOSE=1 PYTORCH_TUNABLEOP_ROTATING_BUFFER_SIZE=256 PYTORCH_TUNABLEOP_FILENAME="$W/$s/tunableop.csv"
      case $s in
        blT) step blT 200 --batching --steps-only --model Meta-Llama-3 ;;
        bjT) step bjT 200 --batching --steps-only --model gpt-j ;;
        gsT) step gsT 150 --gemm-sweep --gemm-sweep-only ;;
      esac
      unset PYTORCH_TUNABLEOP_ENABLED PYTORCH_TUNABLEOP_TUNING PYTORCH_TUNABLEOP_VERBOSE PYTORCH_TUNABLEOP_ROTATING_BUFFER_SIZE PYTORCH_TUNABLEOP_FILENAME ;;
    bj1) step bj1 100 --batching --steps-only --one-call-step --model gpt-j ;;
    bl1) step bl1 100 --batching --steps-only --one-call-step --model Meta-Llama-3 ;;
    bjs) step bjs 100 --batching --steps-only --no-attention-kernel --model gpt-j ;;
    bls) step bls 100 --batching --steps-only --no-attention-kernel --model Meta-Llama-3 ;;
    bfj) step bfj 300 --batching --model gpt-j ;;
    bfl) step bfl 300 --batching --model Meta-Llama-3 ;;
    tp) step tp 240 --tp-real --nccl ;;
    # The weight prefetch experiments ran with the warp-tile attention (which issues modes 2 and 4 itself).
    blp1|blp2|blp3|blp4) step $s 140 --batching --steps-only --attention-form 0 --weight-prefetch "${s#blp}" --model Meta-Llama-3 ;;
    bjp1|bjp2|bjp3|bjp4) step $s 140 --batching --steps-only --attention-form 0 --weight-prefetch "${s#bjp}" --model gpt-j ;;
    mqp1|mqp3) step $s 150 --moe --weight-prefetch "${s#mqp}" --model Qwen ;;
    mxp1|mxp2|mxp3) step $s 150 --moe --weight-prefetch "${s#mxp}" --model Mixtral ;;
    # The decode attention kernel in one form for every shape (AttentionKernelForm: 0 warp tiles, 1 pipelined), not the engine's choice.
    blf0|blf1) step $s 140 --batching --steps-only --attention-form "${s#blf}" ${TW:+--attention-target-warps $TW} ${MAXB:+--max-batch $MAXB} --model Meta-Llama-3 ;;
    bjf0|bjf1) step $s 140 --batching --steps-only --attention-form "${s#bjf}" ${TW:+--attention-target-warps $TW} --model gpt-j ;;
    mqf0|mqf1) step $s 150 --moe --attention-form "${s#mqf}" --model Qwen ;;
    gcf0|gcf1) step $s 150 --graph-check --graph-check-only --attention-form "${s#gcf}" ;;
    # Every run-time kernel launched as a programmatic dependent of the one before it (--dependent-launch).
    kcd) step kcd 120 --kernel-check --kernel-check-only --dependent-launch ;;
    gcd) step gcd 150 --graph-check --graph-check-only --dependent-launch ;;
    bld) step bld 140 --batching --steps-only --dependent-launch ${MAXB:+--max-batch $MAXB} --model Meta-Llama-3 ;;
    bjd) step bjd 140 --batching --steps-only --dependent-launch --model gpt-j ;;
    mqd) step mqd 150 --moe --dependent-launch --model Qwen ;;
    mxd) step mxd 150 --moe --dependent-launch --model Mixtral ;;
    kcn) step kcn 120 --kernel-check --kernel-check-only --no-dependent-launch ;;
    gcn) step gcn 150 --graph-check --graph-check-only --no-dependent-launch ;;
    bln) step bln 140 --batching --steps-only --no-dependent-launch ${MAXB:+--max-batch $MAXB} --model Meta-Llama-3 ;;
    bjn) step bjn 140 --batching --steps-only --no-dependent-launch --model gpt-j ;;
    mqn) step mqn 150 --moe --no-dependent-launch --model Qwen ;;
    mxn) step mxn 150 --moe --no-dependent-launch --model Mixtral ;;
    mq) step mq 150 --moe --model Qwen ;;
    mx) step mx 150 --moe --model Mixtral ;;
    *) echo "unknown step $s (kc gc dg dgi mqi mxi as gs gsT blT bjT blt bjt blv bjv blx mqv bj bl bj1 bl1 bjs bls bfj bfl tp mq mx blp1-4 bjp1-4 mqp1 mqp3 mxp1-3 blf0-1 bjf0-1 mqf0-1 gcf0-1 kcd gcd bld bjd mqd mxd kcn gcn bln bjn mqn mxn)" | tee -a "$OUT/summary.txt" ;;
  esac
done
