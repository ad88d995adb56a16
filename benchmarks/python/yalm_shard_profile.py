"""Kernel-level look at YaLM-100B's tensor-parallel rank-0 shard (4-way: 32 heads of 80, FFN 6,827 wide per rank) in one
bf16 decode step shaped like LlmEff's static decode step, captured as a CUDA graph; plus the step's GEMVs and attention at
YaLM's odd shapes against padded ones. Diagnostic run with the GPU machine's PyTorch; not part of the library.
  python3 benchmarks/python/yalm_shard_profile.py [--out DIR] [--layers N]"""
import json, sys, time, os
import torch
import torch.nn.functional as Fn
from graph_bench import graph_bench

dev, dt = "cuda", torch.bfloat16
out_dir = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "."
L = int(sys.argv[sys.argv.index("--layers") + 1]) if "--layers" in sys.argv else 80
h, H, KV, HD, F, V, C = 10240, 32, 32, 80, 6827, 32000, 1024
P, LB = 677, 768  # a mid-plan context (678 positions with the new token) and its 128-position window
QKV, G = H + 2 * KV, H // KV
torch.manual_seed(0)
res = {"layers": L}


def lin(o, i): return torch.randn(o, i, device=dev, dtype=dt) * 0.02
def vec(n, v=0.0): return torch.full((n,), v, device=dev, dtype=dt)


with torch.inference_mode():
    buf = torch.empty(4 << 30, dtype=torch.uint8, device=dev); dst = torch.empty_like(buf)
    for _ in range(3): dst.copy_(buf)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(20): dst.copy_(buf)
    torch.cuda.synchronize(); copy_bw = 2 * 20 * buf.numel() / (time.perf_counter() - t0)  # read + write, as DeviceLimits counts
    del buf, dst
    torch.cuda.empty_cache()
    res["copy_bw_TBps"] = copy_bw / 1e12

    def make_layers(f, n):
        # Weights as the engine holds them: [out, in] matrices used through transposed views.
        return [dict(n1w=vec(h, 1), n1b=vec(h), qkv=lin(QKV * HD, h), qkvb=vec(QKV * HD), o=lin(h, H * HD), ob=vec(h),
                     n2w=vec(h, 1), n2b=vec(h), up=lin(2 * f, h), upb=vec(2 * f), down=lin(h, f), downb=vec(h)) for _ in range(n)]

    def step_fn(layers, f, head, emb, kvc, cos, sin, t, pos):
        kk = [x.narrow(1, H, KV).permute(1, 0, 2).unsqueeze(0) for x in kvc]
        vv = [x.narrow(1, H + KV, KV).permute(1, 0, 2).unsqueeze(0) for x in kvc]

        def step():
            x = Fn.embedding(t, emb)
            ar = torch.arange(LB, device=dev)
            m = torch.zeros(1, 1, 1, LB, dtype=dt, device=dev).masked_fill((ar > pos).view(1, 1, 1, LB), float("-inf"))
            cc = cos.index_select(0, pos); ss = sin.index_select(0, pos)
            for i, w in enumerate(layers):
                y = torch.group_norm(x.view(1, h, 1), 1, w["n1w"], w["n1b"], 1e-5).view(1, h)
                qkv = torch.addmm(w["qkvb"], y, w["qkv"].t()).view(QKV, HD)
                qk = qkv.narrow(0, 0, H + KV); r = qk.roll(HD // 2, -1); qk.mul_(cc).addcmul_(r, ss)
                kvc[i].index_copy_(0, pos, qkv.unsqueeze(0))
                a = Fn.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m)
                x.addmm_(a.view(1, H * HD), w["o"].t()); x.add_(w["ob"])
                y = torch.group_norm(x.view(1, h, 1), 1, w["n2w"], w["n2b"], 1e-5).view(1, h)
                gu = torch.addmm(w["upb"], y, w["up"].t())
                x.addmm_(Fn.silu(gu.narrow(1, 0, f)) * gu.narrow(1, f, f), w["down"].t()); x.add_(w["downb"])
            t.copy_(torch.argmax(torch.mm(x, head.t()), -1))
        return step

    layers = make_layers(F, L)
    emb, head = lin(V, h), lin(V, h)
    cos, sin = torch.randn(C, HD, device=dev, dtype=dt), torch.randn(C, HD, device=dev, dtype=dt)
    kvc = [torch.randn(C, QKV, HD, device=dev, dtype=dt) for _ in range(L)]
    t = torch.zeros(1, dtype=torch.long, device=dev)
    pos = torch.full((1,), P, dtype=torch.long, device=dev)
    wbytes = sum(v.numel() * 2 for w in layers for v in w.values()) + head.numel() * 2
    res["bound_s"] = (wbytes + L * 2 * KV * HD * (P + 1) * 2) / copy_bw
    step = step_fn(layers, F, head, emb, kvc, cos, sin, t, pos)
    res["step_s"], g = graph_bench(step, reps=3)
    res["step_over_bound"] = res["step_s"] / res["bound_s"]

    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3): g.replay()
        torch.cuda.synchronize()
    res["kernels"] = prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=90)
    del g

    # One layer's pieces, each as 50 calls in one graph.
    w = layers[0]
    x1 = torch.randn(1, h, device=dev, dtype=dt)
    def gemv_TBps(xin, wt, bias=None):
        fn = (lambda: torch.addmm(bias, xin, wt.t())) if bias is not None else (lambda: torch.mm(xin, wt.t()))
        sec = graph_bench(fn, reps=50)[0]
        return {"us": sec * 1e6, "TBps": wt.numel() * 2 / sec / 1e12}
    res["gemv_qkv"] = gemv_TBps(x1, w["qkv"], w["qkvb"])
    res["gemv_o"] = gemv_TBps(torch.randn(1, H * HD, device=dev, dtype=dt), w["o"])
    res["gemv_up"] = gemv_TBps(x1, w["up"], w["upb"])
    res["gemv_head"] = gemv_TBps(x1, head)
    for f in (F, 6828, 6832, 6848, 6912):
        down = lin(h, f)
        res[f"gemv_down_K{f}"] = gemv_TBps(torch.randn(1, f, device=dev, dtype=dt), down)
        up = lin(2 * f, h)
        res[f"gemv_up_N{2 * f}"] = gemv_TBps(x1, up)
        del down, up
    # Odd K stored with aligned rows (lda = 6832): the variant measured before in the engine.
    store = lin(h, 6832)
    res["gemv_down_K6827_lda6832"] = gemv_TBps(torch.randn(1, F, device=dev, dtype=dt), store.narrow(1, 0, F))
    del store

    # Attention over one layer's cache at YaLM's head dim 80 and at padded 96/128 (same heads, same context).
    q = torch.randn(1, H, 1, HD, device=dev, dtype=dt)
    kk0 = kvc[0].narrow(1, H, KV).permute(1, 0, 2).unsqueeze(0); vv0 = kvc[0].narrow(1, H + KV, KV).permute(1, 0, 2).unsqueeze(0)
    ar = torch.arange(LB, device=dev)
    mf = torch.zeros(1, 1, 1, LB, dtype=dt, device=dev).masked_fill((ar > pos).view(1, 1, 1, LB), float("-inf"))
    res["attn_hd80_cachelayout_us"] = graph_bench(lambda: Fn.scaled_dot_product_attention(q, kk0.narrow(2, 0, LB), vv0.narrow(2, 0, LB), mf), reps=50)[0] * 1e6
    for hd in (80, 96, 128):
        qq = torch.randn(1, H, 1, hd, device=dev, dtype=dt)
        kc = torch.randn(1, KV, LB, hd, device=dev, dtype=dt); vc = torch.randn(1, KV, LB, hd, device=dev, dtype=dt)
        res[f"attn_hd{hd}_contiguous_us"] = graph_bench(lambda: Fn.scaled_dot_product_attention(qq, kc, vc, mf), reps=50)[0] * 1e6
        res[f"attn_hd{hd}_nomask_exact_us"] = graph_bench(lambda: Fn.scaled_dot_product_attention(qq, kc.narrow(2, 0, P + 1), vc.narrow(2, 0, P + 1)), reps=50)[0] * 1e6
    res["attn_kv_bytes_min_us"] = 2 * KV * HD * (P + 1) * 2 / copy_bw * 1e6

    # The small ops of one layer, each alone.
    gu = torch.randn(1, 2 * F, device=dev, dtype=dt)
    res["silu_mul_us"] = graph_bench(lambda: Fn.silu(gu.narrow(1, 0, F)) * gu.narrow(1, F, F), reps=50)[0] * 1e6
    res["groupnorm_us"] = graph_bench(lambda: torch.group_norm(x1.view(1, h, 1), 1, w["n1w"], w["n1b"], 1e-5), reps=50)[0] * 1e6
    res["add_bias_us"] = graph_bench(lambda: x1.add_(w["ob"]), reps=50)[0] * 1e6

print(json.dumps({k: v for k, v in res.items() if k != "kernels"}, indent=1))
print(res["kernels"])
os.makedirs(out_dir, exist_ok=True)
json.dump(res, open(os.path.join(out_dir, "yalm_shard_profile.json"), "w"), indent=1)
