"""Batched decode step pieces at b = 1..32 for GPT-J (16 heads of 256) and Llama-3-8B (32 query / 8 KV heads of 128):
attention of b tokens against their caches (1537 valid positions of a 1664-position window) in the cache layout of
BatchedDecoderScript ([B, T, H + 2 KV, HD] per layer) and in alternatives, and the step's projections as [b, h] GEMMs;
each timed as 50 calls in a CUDA graph, with the bytes it must read and the rate that gives. Diagnostic run with the GPU
machine's PyTorch; not part of the library."""
import json, sys
import torch
import torch.nn.functional as Fn
from graph_bench import graph_bench

dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."
C, P, LB = 1664, 1536, 1664
res = {}
with torch.inference_mode():
    for name, (H, KV, HD, h, ffn, gated) in {"gptj": (16, 16, 256, 4096, 16384, False), "llama": (32, 8, 128, 4096, 14336, True)}.items():
        G, QKV = H // KV, H + 2 * KV
        r = res[name] = {}
        for B in (1, 4, 16, 32):
            cache = torch.randn(B, C, QKV, HD, device=dev, dtype=dt)
            kk = cache.narrow(2, H, KV).permute(0, 2, 1, 3).narrow(2, 0, LB)      # [B, KV, LB, HD], strided as the engine's
            vv = cache.narrow(2, H + KV, KV).permute(0, 2, 1, 3).narrow(2, 0, LB)
            kc = kk.contiguous()                                                    # a separate [B, KV, T, HD] cache
            vc = vv.contiguous()
            q = torch.randn(B, QKV, HD, device=dev, dtype=dt).narrow(1, 0, H)
            pos = torch.full((1,), P, dtype=torch.long, device=dev)
            ar = torch.arange(LB, device=dev)
            mf = torch.zeros(1, 1, 1, LB, device=dev, dtype=dt).masked_fill((ar > pos).view(1, 1, 1, LB), float("-inf"))
            kv_bytes = 2 * B * KV * (P + 1) * HD * 2
            want = Fn.scaled_dot_product_attention(q.reshape(B, H, 1, HD), kk.narrow(2, 0, P + 1), vv.narrow(2, 0, P + 1), enable_gqa=True).float()
            variants = {
                "engine_sdpa_gqa_floatmask": lambda: Fn.scaled_dot_product_attention(q.reshape(B, H, 1, HD), kk, vv, mf, enable_gqa=True),
                "contiguous_kv_sdpa_gqa_floatmask": lambda: Fn.scaled_dot_product_attention(q.reshape(B, H, 1, HD), kc, vc, mf, enable_gqa=True),
                "grouped_queries_floatmask": lambda: Fn.scaled_dot_product_attention(q.reshape(B, KV, G, HD), kk, vv, mf),
                "exact_length_no_mask": lambda: Fn.scaled_dot_product_attention(q.reshape(B, H, 1, HD), kk.narrow(2, 0, P + 1), vv.narrow(2, 0, P + 1), enable_gqa=True),
                "exact_length_contiguous_no_mask": lambda: Fn.scaled_dot_product_attention(q.reshape(B, H, 1, HD), kc.narrow(2, 0, P + 1), vc.narrow(2, 0, P + 1), enable_gqa=True),
            }
            rb = r[f"b{B}"] = {"kv_bytes": kv_bytes}
            for vn, fn in variants.items():
                try:
                    got = fn().reshape(B, H, 1, HD).float()
                    err = (got - want).abs().max().item()
                    t = graph_bench(fn)[0]
                    rb[vn] = {"us_per_layer": t * 1e6, "gb_per_s": kv_bytes / t / 1e9, "max_abs_err": err}
                except Exception as e:
                    rb[vn] = {"error": str(e)[:300]}
            # The projections of one layer as [B, h] x [h, n] GEMMs (weights read once).
            x = torch.randn(B, h, device=dev, dtype=dt)
            shapes = {"qkv": (h, QKV * HD), "out": (H * HD, h), "up": (h, 2 * ffn if gated else ffn), "down": (ffn, h)}
            for sn, (k_, n_) in shapes.items():
                w = torch.randn(k_, n_, device=dev, dtype=dt)
                xi = torch.randn(B, k_, device=dev, dtype=dt)
                t = graph_bench(lambda: torch.mm(xi, w))[0]
                rb[f"gemm_{sn}"] = {"us": t * 1e6, "gb_per_s": k_ * n_ * 2 / t / 1e9}
            del cache, kc, vc
            torch.cuda.empty_cache()
            print(name, B, json.dumps({k: (v if not isinstance(v, dict) else {kk_: round(vv_, 2) if isinstance(vv_, float) else vv_ for kk_, vv_ in v.items()}) for k, v in rb.items()}), flush=True)
json.dump(res, open(f"{out_dir}/batched_decode_attention.json", "w"), indent=1)
