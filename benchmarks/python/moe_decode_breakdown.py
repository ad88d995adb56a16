"""Where a mixture-of-experts FFN's batch-1 decode time goes: the engine's op sequence (MixtureOfExpertsScript, T == 1)
for Qwen3-30B-A3B and a Mixtral-8x7B 2-way shard, whole and op by op, beside a dense GEMV reading the same bytes. Each
timed as one call per layer over distinct layers' weights (more bytes than L2 holds) captured in a CUDA graph.
Diagnostic run with the GPU machine's PyTorch; not part of the library."""
import json, sys, os
import torch
import torch.nn.functional as Fn
from graph_bench import graph_bench

dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."
res = {}
torch.manual_seed(0)
shapes = {"qwen3_30b_a3b": dict(H=2048, E=128, K=8, F=768, layers=8), "mixtral_tp2": dict(H=4096, E=8, K=2, F=7168, layers=3)}

with torch.inference_mode():
    for name, s in shapes.items():
        H, E, K, F, NL = s["H"], s["E"], s["K"], s["F"], s["layers"]
        egu = [torch.randn(E, H, 2 * F, device=dev, dtype=dt) * 0.02 for _ in range(NL)]
        ed = [torch.randn(E, F, H, device=dev, dtype=dt) * 0.02 for _ in range(NL)]
        rt = [torch.randn(H, E, device=dev, dtype=dt) * 0.02 for _ in range(NL)]
        dense = [torch.randn(H, K * 3 * F, device=dev, dtype=dt) * 0.02 for _ in range(NL)]
        y = torch.randn(1, H, device=dev, dtype=dt)
        idx = torch.sort(torch.randperm(E, device=dev)[:K])[0].view(1, K)
        ar = torch.arange(E, device=dev)
        offs = torch.searchsorted(idx.view(-1), ar, right=True).int()
        ye = y.expand(K, H).contiguous()
        u0 = torch._grouped_mm(ye, egu[0], offs)
        a0 = Fn.silu(u0.narrow(1, 0, F)) * u0.narrow(1, F, F)
        z0 = torch._grouped_mm(a0, ed[0], offs)
        gates0 = torch.softmax(torch.mm(y, rt[0]).gather(1, idx).float(), -1).to(dt)
        active_bytes = K * 3 * H * F * 2 + H * E * 2

        def whole():
            for i in range(NL):
                gates = torch.softmax(torch.mm(y, rt[i]).gather(1, idx).float(), -1).to(dt)
                of = torch.searchsorted(idx.view(-1), ar, right=True).int()
                u = torch._grouped_mm(y.expand(K, H).contiguous(), egu[i], of)
                z = torch._grouped_mm(Fn.silu(u.narrow(1, 0, F)) * u.narrow(1, F, F), ed[i], of)
                torch.mm(gates, z)

        pieces = {
            "whole_moe": whole,
            "router_mm": lambda: [torch.mm(y, rt[i]) for i in range(NL)],
            "router_gather_softmax": lambda: [torch.softmax(torch.mm(y, rt[i]).gather(1, idx).float(), -1).to(dt) for i in range(NL)],
            "searchsorted": lambda: [torch.searchsorted(idx.view(-1), ar, right=True).int() for _ in range(NL)],
            "expand_contiguous": lambda: [y.expand(K, H).contiguous() for _ in range(NL)],
            "grouped_gate_up": lambda: [torch._grouped_mm(ye, egu[i], offs) for i in range(NL)],
            "silu_mul": lambda: [Fn.silu(u0.narrow(1, 0, F)) * u0.narrow(1, F, F) for _ in range(NL)],
            "grouped_down": lambda: [torch._grouped_mm(a0, ed[i], offs) for i in range(NL)],
            "gates_mm": lambda: [torch.mm(gates0, z0) for _ in range(NL)],
            "dense_gemv_same_bytes": lambda: [torch.mm(y, dense[i]) for i in range(NL)],
        }
        r = res[name] = {"active_bytes_per_layer": active_bytes}
        for pn, fn in pieces.items():
            try:
                sec = graph_bench(fn, reps=4, n=5)[0] / NL
                r[pn] = {"us_per_layer": round(sec * 1e6, 2)}
                if pn in ("whole_moe", "dense_gemv_same_bytes"):
                    r[pn]["TBps"] = round(active_bytes / sec / 1e12, 3)
                if pn == "grouped_gate_up":
                    r[pn]["TBps"] = round(K * 2 * H * F * 2 / sec / 1e12, 3)
                if pn == "grouped_down":
                    r[pn]["TBps"] = round(K * H * F * 2 / sec / 1e12, 3)
            except Exception as e:
                r[pn] = {"error": str(e)[:300]}
        del egu, ed, rt, dense
        torch.cuda.empty_cache()
print(json.dumps(res, indent=1))
os.makedirs(out_dir, exist_ok=True)
json.dump(res, open(os.path.join(out_dir, "moe_decode_breakdown.json"), "w"), indent=1)
