"""Kernel-level look at one bf16 decode step shaped like LlmEff's static decode step (same ops, same weight and cache
layouts), captured as a CUDA graph, for GPT-J-6B and Llama-3-8B shapes; plus attention and GEMV micro-benchmarks.
Diagnostic run with the GPU machine's PyTorch; not part of the library.
  python3 benchmarks/python/decode_step_profile.py [--out DIR]"""
import json, sys, time, os
import torch
from graph_bench import graph_bench
import torch.nn.functional as Fn

dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."
C, P = 1664, 1536
torch.manual_seed(0)
res = {}


def lin(o, i): return torch.randn(o, i, device=dev, dtype=dt) * 0.02
def vec(n, v=0.0): return torch.full((n,), v, device=dev, dtype=dt)

CFG = {
    "gptj": dict(h=4096, H=16, KV=16, HD=256, F=16384, L=28, V=50400, gated=False, ln=True, bias=True),
    "llama": dict(h=4096, H=32, KV=8, HD=128, F=14336, L=32, V=128256, gated=True, ln=False, bias=False),
}

with torch.inference_mode():
    buf = torch.empty(4 << 30, dtype=torch.uint8, device=dev); dst = torch.empty_like(buf)
    for _ in range(3): dst.copy_(buf)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(20): dst.copy_(buf)
    torch.cuda.synchronize(); copy_bw = 20 * buf.numel() / (time.perf_counter() - t0)
    del buf, dst
    res["copy_bw_TBps"] = copy_bw / 1e12

    for name, c in CFG.items():
        h, H, KV, HD, F, L, V = c["h"], c["H"], c["KV"], c["HD"], c["F"], c["L"], c["V"]
        G, QKV = H // KV, H + 2 * KV
        r = res[name] = {}
        layers = [dict(n1w=vec(h, 1), n1b=vec(h), qkv=lin(QKV * HD, h), qkvb=vec(QKV * HD), o=lin(h, H * HD), ob=vec(h),
                       n2w=vec(h, 1), n2b=vec(h), up=lin((2 if c["gated"] else 1) * F, h), upb=vec((2 if c["gated"] else 1) * F),
                       down=lin(h, F), downb=vec(h)) for _ in range(L)]
        emb, head = lin(V, h), lin(V, h)
        cos, sin = torch.randn(C, HD, device=dev, dtype=dt), torch.randn(C, HD, device=dev, dtype=dt)
        kvc = [torch.randn(C, QKV, HD, device=dev, dtype=dt) for _ in range(L)]
        kk = [x.narrow(1, H, KV).permute(1, 0, 2).unsqueeze(0) for x in kvc]
        vv = [x.narrow(1, H + KV, KV).permute(1, 0, 2).unsqueeze(0) for x in kvc]
        t = torch.zeros(1, dtype=torch.long, device=dev)
        pos = torch.full((1,), P, dtype=torch.long, device=dev)
        LB = 1664

        def norm(x, w, b):
            return Fn.layer_norm(x, [h], w, b, 1e-5) if c["ln"] else Fn.rms_norm(x, [h], w, 1e-5)

        def proj(x, w, b):
            return torch.addmm(b, x, w.t()) if c["bias"] else torch.mm(x, w.t())

        def step(attn=True, small=True):
            x = Fn.embedding(t, emb)
            ar = torch.arange(LB, device=dev)
            m = (ar <= pos).view(1, 1, 1, LB)
            cc = cos.index_select(0, pos); ss = sin.index_select(0, pos)
            for i in range(L):
                w = layers[i]
                y = norm(x, w["n1w"], w["n1b"]) if small else x
                qkv = proj(y, w["qkv"], w["qkvb"]).view(QKV, HD)
                if small:
                    qk = qkv.narrow(0, 0, H + KV); rr = qk.roll(HD // 2, -1); qk.mul_(cc).addcmul_(rr, ss)
                    kvc[i].index_copy_(0, pos, qkv.unsqueeze(0))
                if attn:
                    a = Fn.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, KV, G, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m)
                    a = a.transpose(1, 2).reshape(1, H * HD)
                else:
                    a = qkv.narrow(0, 0, H).reshape(1, H * HD)
                x.addmm_(a, w["o"].t())
                if c["bias"] and small: x.add_(w["ob"])
                y = norm(x, w["n2w"], w["n2b"]) if small else x
                u = proj(y, w["up"], w["upb"])
                act = Fn.silu(u.narrow(1, 0, F)) * u.narrow(1, F, F) if c["gated"] else Fn.gelu(u, approximate="tanh")
                x.addmm_(act, w["down"].t())
                if c["bias"] and small: x.add_(w["downb"])
            t.copy_(torch.argmax(torch.mm(x, head.t()), -1))

        wbytes = sum(v.numel() * 2 for w in layers for v in w.values()) + head.numel() * 2
        r["bound_weights_s"] = wbytes / copy_bw
        r["bound_kv1537_s"] = (wbytes + L * 2 * KV * HD * (P + 1) * 2) / copy_bw
        r["step_full_s"], g = graph_bench(step, reps=3)
        r["step_no_attention_s"], _ = graph_bench(lambda: step(attn=False), reps=3)
        r["step_gemms_only_s"], _ = graph_bench(lambda: step(attn=False, small=False), reps=3)

        # Attention variants over one layer's cache at context P+1.
        q = torch.randn(1, H * HD, device=dev, dtype=dt)
        i0 = 0
        ar = torch.arange(LB, device=dev); mb = (ar <= pos).view(1, 1, 1, LB)
        mf = torch.zeros(1, 1, 1, LB, device=dev, dtype=dt).masked_fill(~mb, float("-inf"))
        kc = torch.randn(1, KV, C, HD, device=dev, dtype=dt); vc = torch.randn(1, KV, C, HD, device=dev, dtype=dt)
        att = {
            "grouped_boolmask_cachelayout": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kk[0].narrow(2, 0, LB), vv[0].narrow(2, 0, LB), mb),
            "grouped_floatmask_cachelayout": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kk[0].narrow(2, 0, LB), vv[0].narrow(2, 0, LB), mf),
            "grouped_nomask_exact_cachelayout": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kk[0].narrow(2, 0, P + 1), vv[0].narrow(2, 0, P + 1)),
            "grouped_boolmask_contiguous": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kc.narrow(2, 0, LB), vc.narrow(2, 0, LB), mb),
            "grouped_nomask_exact_contiguous": lambda: Fn.scaled_dot_product_attention(q.view(1, KV, G, HD), kc.narrow(2, 0, P + 1), vc.narrow(2, 0, P + 1)),
            "math_matmul_softmax_contiguous": lambda: torch.matmul(torch.softmax((torch.matmul(q.view(1, KV, G, HD), kc.narrow(2, 0, LB).transpose(2, 3)) * HD ** -0.5) + mf, -1), vc.narrow(2, 0, LB)),
            "math_matmul_softmax_cachelayout": lambda: torch.matmul(torch.softmax((torch.matmul(q.view(1, KV, G, HD), kk[0].narrow(2, 0, LB).transpose(2, 3)) * HD ** -0.5) + mf, -1), vv[0].narrow(2, 0, LB)),
        }
        for k, fn in att.items():
            try:
                r[f"attn_{k}_us"] = graph_bench(fn, reps=50)[0] * 1e6
            except Exception as e:
                r[f"attn_{k}_us"] = str(e)[:200]
        r["attn_kv_bytes_min_us"] = 2 * KV * HD * (P + 1) * 2 / copy_bw * 1e6

        for wn, (xin, wt) in {"qkv": (torch.randn(1, h, device=dev, dtype=dt), layers[0]["qkv"]), "up": (torch.randn(1, h, device=dev, dtype=dt), layers[0]["up"]),
                              "down": (torch.randn(1, F, device=dev, dtype=dt), layers[0]["down"]), "head": (torch.randn(1, h, device=dev, dtype=dt), head)}.items():
            sec = graph_bench(lambda: torch.mm(xin, wt.t()), reps=50)[0]
            r[f"gemv_{wn}_TBps"] = wt.numel() * 2 / sec / 1e12

        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(3): g.replay()
            torch.cuda.synchronize()
        r["kernels"] = prof.key_averages().table(sort_by="cuda_time_total", row_limit=20, max_name_column_width=70)
        del layers, kvc, kk, vv, g
        torch.cuda.empty_cache()

for name in CFG:
    print(name, json.dumps({k: v for k, v in res[name].items() if k != "kernels"}, indent=1))
    print(res[name]["kernels"])
os.makedirs(out_dir, exist_ok=True)
json.dump(res, open(os.path.join(out_dir, "decode_step_profile.json"), "w"), indent=1)
