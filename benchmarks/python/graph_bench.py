"""Shared by the decode diagnostics: time a callable as `reps` calls captured in one CUDA graph (best of `n` replays)."""
import time
import torch


def graph_bench(fn, reps=50, n=5):
    """Seconds per call: three eager warm-up calls on a side stream, then `reps` calls captured and replayed `n` times."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(reps):
            fn()
    g.replay()
    torch.cuda.synchronize()
    best = 1e9
    for _ in range(n):
        t0 = time.perf_counter()
        g.replay()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best, g
