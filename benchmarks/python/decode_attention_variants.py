"""Decode-step attention (one token against a 1664-position cache window, 1537 valid) in the ways a TorchScript step can
call it, for GPT-J (16 heads of 256) and Llama-3-8B (32 query / 8 KV heads of 128) shapes, each timed as 50 calls in a
CUDA graph. Diagnostic run with the GPU machine's PyTorch; not part of the library."""
import json, sys, time, os
import torch
from graph_bench import graph_bench
import torch.nn.functional as Fn
dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."
C, P, LB = 1664, 1536, 1664

def bench_us(fn):
    return graph_bench(fn)[0] * 1e6

res = {}
with torch.inference_mode():
    for name, (H, KV, HD) in {"gptj": (16, 16, 256), "llama": (32, 8, 128)}.items():
        G, QKV = H // KV, H + 2 * KV
        cache = torch.randn(C, QKV, HD, device=dev, dtype=dt)
        k = cache.narrow(1, H, KV).permute(1, 0, 2).unsqueeze(0)   # [1, KV, C, HD], token stride QKV*HD
        v = cache.narrow(1, H + KV, KV).permute(1, 0, 2).unsqueeze(0)
        kw, vw = k.narrow(2, 0, LB), v.narrow(2, 0, LB)
        q = torch.randn(QKV, HD, device=dev, dtype=dt).narrow(0, 0, H)
        pos = torch.full((1,), P, dtype=torch.long, device=dev)
        ar = torch.arange(LB, device=dev)
        mb = (ar <= pos).view(1, 1, 1, LB)
        mf = torch.zeros(1, 1, 1, LB, device=dev, dtype=dt).masked_fill(~mb, float("-inf"))
        mf3 = mf.view(1, 1, LB)
        scale = HD ** -0.5
        want = Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), k.narrow(2, 0, P + 1), v.narrow(2, 0, P + 1)).reshape(KV, G, HD).float()
        variants = {
            "sdpa_grouped_boolmask": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kw, vw, mb),
            "sdpa_grouped_floatmask": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kw, vw, mf),
            "sdpa_heads_gqa_floatmask": lambda: Fn.scaled_dot_product_attention(q.view(1, H, 1, HD), kw, vw, mf, enable_gqa=True),
            "efficient_grouped_floatmask": lambda: torch.ops.aten._scaled_dot_product_efficient_attention(q.view(1, KV, G, HD), kw, vw, mf.expand(1, KV, G, LB), False)[0],
            "math_baddbmm_softmax_bmm": lambda: torch.bmm(torch.softmax(torch.baddbmm(mf3, q.view(KV, G, HD), kw[0].transpose(1, 2), alpha=scale), -1), vw[0]),
            "math_matmul_add_softmax_matmul": lambda: torch.matmul(torch.softmax(torch.matmul(q.view(KV, G, HD), kw[0].transpose(1, 2)).mul_(scale).add_(mf3), -1), vw[0]),
            "math_fp32softmax": lambda: torch.bmm(torch.softmax(torch.baddbmm(mf3, q.view(KV, G, HD), kw[0].transpose(1, 2), alpha=scale), -1, dtype=torch.float32).to(dt), vw[0]),
        }
        r = res[name] = {}
        for vn, fn in variants.items():
            try:
                got = fn().reshape(KV, G, HD).float()
                err = (got - want).abs().max().item()
                r[vn] = {"us": bench_us(fn), "max_abs_err": err}
            except Exception as e:
                r[vn] = {"error": str(e)[:300]}
        # Split-KV by hand (flash-decoding): S chunks as a batch, combined by their log-sum-exp.
        for S in (4, 8, 16):
            if LB % S:
                continue
            def fd(S=S):
                kc = kw[0].unflatten(1, (S, LB // S))  # [KV, S, LB/S, HD]
                vc = vw[0].unflatten(1, (S, LB // S))
                s = torch.matmul(q.view(KV, 1, G, HD), kc.transpose(2, 3)).mul_(scale).add_(mf3.view(1, S, 1, LB // S))
                m = s.amax(-1, keepdim=True)
                e = torch.exp(s - m)
                o = torch.matmul(e, vc)  # [KV, S, G, HD]
                l = e.sum(-1, keepdim=True)
                mm = m.amax(1, keepdim=True)
                w = torch.exp(m - mm)
                return ((o * w).sum(1) / (l * w).sum(1))
            try:
                got = fd().reshape(KV, G, HD).float()
                r[f"splitkv_{S}"] = {"us": bench_us(fd), "max_abs_err": (got - want).abs().max().item()}
            except Exception as e:
                r[f"splitkv_{S}"] = {"error": str(e)[:300]}
        r["kv_bytes_at_copy_rate_us"] = 2 * KV * HD * (P + 1) * 2 / 3.02e12 * 1e6
print(json.dumps(res, indent=1))
os.makedirs(out_dir, exist_ok=True)
json.dump(res, open(os.path.join(out_dir, "decode_attention_variants.json"), "w"), indent=1)
