"""Minimal OpenAI-compatible /v1/completions server over a real transformer decode loop (docs/benchmarks.md).

The model is a GPT-style transformer with random weights in plain PyTorch (no weights can be downloaded on the
GPU machine); its runtime is that of the real architecture: one prompt-encoding pass that yields the first token,
then one single-token pass per further token with a KV cache, i.e. t = PE(p) + (o-1)g. One request at a time
uses the GPU (no batching), so concurrent requests queue, as on a simple single-GPU deployment.
Prompts must be token ids; exactly max_tokens tokens are generated (no EOS), and usage is reported.

  python3 openai_server.py --port 8000 [--backend torch|sleep] [--layers 16] [--hidden 2048] [--stats stats.jsonl]

--stats appends one JSON line per request with the server-side times: seconds waiting for the GPU, the prompt-encoding
pass to the first token, and the mean decode step (compute only, the time the client spends reading a token excluded),
the per-token time a client-side fit of g is checked against.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8000)
parser.add_argument("--backend", choices=["torch", "sleep"], default="torch")
parser.add_argument("--layers", type=int, default=16)
parser.add_argument("--hidden", type=int, default=2048)
parser.add_argument("--model-name", default="gpt-1b-random")
parser.add_argument("--stats", default=None)
args = parser.parse_args()
stats_lock = threading.Lock()


def timed(steps):
    """Yields the tokens of `steps` and fills `timing` with the compute seconds of the first and of the later steps,
    the time spent suspended in the caller (writing the token out) excluded."""
    timing = {"first": None, "decode": 0.0, "steps": 0, "outside": 0.0}

    def run():
        it = iter(steps)
        back = None
        while True:
            t0 = time.perf_counter()
            if back is not None:
                timing["outside"] += t0 - back
            try:
                token = next(it)
            except StopIteration:
                return
            dt = time.perf_counter() - t0
            if timing["first"] is None:
                timing["first"] = dt
            else:
                timing["decode"] += dt
                timing["steps"] += 1
            yield token
            back = time.perf_counter()

    return run(), timing


def record(prompt_tokens, n, queued, timing, stream):
    if not args.stats:
        return
    line = {"prompt_tokens": prompt_tokens, "output_tokens": n, "stream": stream, "queue_seconds": queued,
            "first_token_seconds": timing["first"],
            "decode_seconds_per_token": timing["decode"] / timing["steps"] if timing["steps"] else None,
            "outside_seconds": timing["outside"]}
    with stats_lock, open(args.stats, "a") as f:
        f.write(json.dumps(line) + "\n")

gpu = threading.Lock()


class SleepBackend:
    """Stand-in with PE(p) = 10 ms + 10 us * p and g = 5 ms, to check the HTTP side without a GPU."""

    def generate(self, ids, n):
        time.sleep(0.010 + 1e-5 * len(ids))
        yield 0
        for _ in range(n - 1):
            time.sleep(0.005)
            yield 0


class TorchBackend:
    """GPT-style decoder (pre-LayerNorm blocks, learned positions, tied embeddings) with random weights and a KV
    cache, in plain PyTorch fp16: the same architecture as the CPU server's TinyDecoder, without a framework's
    per-step bookkeeping, so the measured g is the model's rather than Python's."""

    def __init__(self):
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        torch.manual_seed(0)
        h, L = args.hidden, args.layers
        self.h, self.heads = h, h // 128
        dev, dt = "cuda", torch.float16

        def w(*shape):
            return (torch.randn(*shape, device=dev) * 0.02).to(dt)

        self.embed, self.pos = w(100352, h), w(4096, h)
        self.layers = [dict(qkv=w(h, 3 * h), out=w(h, h), up=w(h, 4 * h), down=w(4 * h, h)) for _ in range(L)]
        params = 100352 * h + 4096 * h + L * 12 * h * h
        print(f"model: GPT-style, {L} layers, hidden {h}, {params / 1e9:.2f} B parameters, fp16, "
              f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
        for _ in self.generate(list(range(1, 1537)), 4):  # warm-up: kernels, allocator
            pass

    def _step(self, ids, start, cache):
        torch, F, h, nh = self.torch, self.F, self.h, self.heads
        n = ids.shape[0]
        x = self.embed[ids] + self.pos[start:start + n]
        for i, layer in enumerate(self.layers):
            y = F.layer_norm(x, (h,))
            q, k, v = (y @ layer["qkv"]).view(n, 3, nh, h // nh).permute(1, 2, 0, 3).unsqueeze(1)
            if cache[i] is not None:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=n > 1)
            x = x + a.squeeze(0).permute(1, 0, 2).reshape(n, h) @ layer["out"]
            x = x + F.gelu(F.layer_norm(x, (h,)) @ layer["up"]) @ layer["down"]
        return (F.layer_norm(x[-1], (h,)) @ self.embed.t()).argmax()

    def generate(self, ids, n):
        torch = self.torch
        with torch.inference_mode():
            cache = [None] * len(self.layers)
            x = torch.tensor(ids or [1], device="cuda")
            nxt = self._step(x, 0, cache)
            yield int(nxt.item())  # .item() synchronises: the token exists on the host
            position = x.shape[0]
            for _ in range(n - 1):
                nxt = self._step(nxt.view(1), position, cache)
                position += 1
                yield int(nxt.item())


backend = SleepBackend() if args.backend == "sleep" else TorchBackend()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One small write per streamed token: without TCP_NODELAY, Nagle's algorithm could hold a token back for an ACK.
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def _json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length))
        if self.path != "/v1/completions":
            return self._json(404, {"error": {"message": "only /v1/completions"}})
        prompt = req.get("prompt")
        if not isinstance(prompt, list):
            return self._json(400, {"error": {"message": "send the prompt as token ids"}})
        n = int(req["max_tokens"])
        usage = {"prompt_tokens": len(prompt), "completion_tokens": n, "total_tokens": len(prompt) + n}
        arrived = time.perf_counter()
        if not req.get("stream"):
            with gpu:
                queued = time.perf_counter() - arrived
                steps, timing = timed(backend.generate(prompt, n))
                tokens = list(steps)
            record(len(prompt), n, queued, timing, False)
            return self._json(200, {"id": "cmpl", "object": "text_completion", "model": args.model_name,
                                    "choices": [{"index": 0, "text": " ".join(map(str, tokens)), "finish_reason": "length"}],
                                    "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with gpu:
            queued = time.perf_counter() - arrived
            steps, timing = timed(backend.generate(prompt, n))
            for i, t in enumerate(steps):
                chunk = {"choices": [{"index": 0, "text": f" {t}", "finish_reason": "length" if i == n - 1 else None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
        record(len(prompt), n, queued, timing, True)
        if (req.get("stream_options") or {}).get("include_usage"):
            self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"ready on 127.0.0.1:{args.port}", flush=True)
server.serve_forever()
