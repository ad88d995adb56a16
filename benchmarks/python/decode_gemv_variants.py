"""Batch-1 projections (y[1, K] times a [N, K] bf16 weight) in the ways libtorch offers, for the GEMV shapes of GPT-J-6B
and Llama-3-8B decode steps, plus one-row norm variants; each timed as 50 calls in a CUDA graph. Diagnostic run with the
GPU machine's PyTorch; not part of the library."""
import json, sys, time, os
import torch
from graph_bench import graph_bench
import torch.nn.functional as Fn
dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."

def bench_s(fn):
    return graph_bench(fn)[0]

res = {}
shapes = {"gptj_qkv": (12288, 4096), "gptj_o": (4096, 4096), "gptj_up": (16384, 4096), "gptj_down": (4096, 16384),
          "llama_qkv": (6144, 4096), "llama_o": (4096, 4096), "llama_gateup": (28672, 4096), "llama_down": (4096, 14336),
          "davinci8_qkv": (4608, 12288), "davinci8_up": (6144, 12288), "davinci8_down": (12288, 6144)}
with torch.inference_mode():
    for name, (N, K) in shapes.items():
        W = torch.randn(N, K, device=dev, dtype=dt) * 0.02
        b = torch.zeros(N, device=dev, dtype=dt)
        y = torch.randn(1, K, device=dev, dtype=dt)
        x = torch.zeros(1, N, device=dev, dtype=dt)
        v = {
            "mm_yWt": lambda: torch.mm(y, W.t()),
            "linear": lambda: Fn.linear(y, W),
            "mv_Wy": lambda: torch.mv(W, y.view(-1)),
            "mm_Wyt": lambda: torch.mm(W, y.view(K, 1)),
            "addmm_bias": lambda: torch.addmm(b, y, W.t()),
            "x_addmm_": lambda: x.addmm_(y, W.t()),
            "x_addmv_": lambda: x.view(-1).addmv_(W, y.view(-1)),
        }
        r = res[name] = {"bytes": N * K * 2}
        for vn, fn in v.items():
            try:
                sec = bench_s(fn)
                r[vn] = {"us": round(sec * 1e6, 2), "TBps": round(N * K * 2 / sec / 1e12, 3)}
            except Exception as e:
                r[vn] = {"error": str(e)[:200]}
        del W
    for h in (4096, 12288):
        xx = torch.randn(1, h, device=dev, dtype=dt); w = torch.ones(h, device=dev, dtype=dt); bb = torch.zeros(h, device=dev, dtype=dt)
        nv = {
            "layer_norm": lambda: Fn.layer_norm(xx, [h], w, bb, 1e-5),
            "rms_norm": lambda: Fn.rms_norm(xx, [h], w, 1e-5),
            "group_norm_1group": lambda: Fn.group_norm(xx.view(1, h, 1), 1, w, bb, 1e-5),
            "var_mean_chain": lambda: (lambda vm: torch.addcmul(bb, (xx - vm[1]) * torch.rsqrt(vm[0] + 1e-5), w))(torch.var_mean(xx, -1, keepdim=True, correction=0)),
            "layer_norm_fp32_in": lambda: Fn.layer_norm(xx.float(), [h], None, None, 1e-5),
        }
        r = res[f"norm_{h}"] = {}
        for vn, fn in nv.items():
            try:
                r[vn] = round(bench_s(fn) * 1e6, 2)
            except Exception as e:
                r[vn] = str(e)[:200]
print(json.dumps(res, indent=1))
os.makedirs(out_dir, exist_ok=True)
json.dump(res, open(os.path.join(out_dir, "decode_gemv_variants.json"), "w"), indent=1)
