using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Host issue cost and device time of single ops called from a TorchScript loop, at decode-step shapes (Llama-3-8B:
/// h 4096, 32 heads, 8 KV heads, head dim 128, context 1024). Tells which ops make a decode step host-bound.
/// </summary>
internal static class OpCosts
{
    private const string Script = """
def loop_none(x: Tensor, n: int) -> Tensor:
    for i in range(n):
        pass
    return x

def loop_view(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = x.view(4096, 1)
    return y

def loop_narrow(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = x.narrow(1, 0, 128)
    return y

def loop_add_(x: Tensor, n: int) -> Tensor:
    for i in range(n):
        x.add_(x)
    return x

def loop_mul(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = x * x
    return y

def loop_silu(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = torch.silu(x)
    return y

def loop_roll(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = x.roll(64, -1)
    return y

def loop_rms_norm(x: Tensor, w: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = torch.rms_norm(x, [4096], w, 1e-5)
    return y

def loop_layer_norm(x: Tensor, w: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = torch.layer_norm(x, [4096], w, w, 1e-5)
    return y

def loop_mm(x: Tensor, w: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = torch.mm(x, w)
    return y

def loop_addmm_(x: Tensor, w: Tensor, n: int) -> Tensor:
    for i in range(n):
        x.addmm_(x, w)
    return x

def loop_mv(v: Tensor, w: Tensor, n: int) -> Tensor:
    y = v
    for i in range(n):
        y = torch.mv(w, v)
    return y

def loop_addmv_(v: Tensor, w: Tensor, n: int) -> Tensor:
    for i in range(n):
        v.addmv_(w, v)
    return v

def loop_linear(x: Tensor, w: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = torch.linear(x, w)
    return y

def loop_sdpa(q: Tensor, k: Tensor, v: Tensor, n: int) -> Tensor:
    y = q
    for i in range(n):
        y = torch.scaled_dot_product_attention(q, k, v, None, 0.0, False)
    return y

def loop_bmm_attention(q: Tensor, k: Tensor, v: Tensor, n: int) -> Tensor:
    y = q
    for i in range(n):
        y = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(2, 3)), -1), v)
    return y

def loop_copy_select(c: Tensor, s: Tensor, n: int) -> Tensor:
    for i in range(n):
        c[i].copy_(s)
    return c

""";

    public static Dictionary<string, object> Measure(Device device)
    {
        using var scope = NewDisposeScope();
        using var unit = jit.compile(Script);
        var bf = ScalarType.BFloat16;
        var x = randn([1, 4096], bf, device);
        var w = randn([4096], bf, device);
        var wsq = randn([4096, 4096], bf, device).t();
        var cache = randn([1100, 16, 128], bf, device);
        var q = randn([1, 8, 4, 128], bf, device);
        var k = cache.narrow(1, 0, 8).permute(1, 0, 2).unsqueeze(0).narrow(2, 0, 1024);
        var v = cache.narrow(1, 8, 8).permute(1, 0, 2).unsqueeze(0).narrow(2, 0, 1024);
        var s = randn([16, 128], bf, device);
        var cases = new (string Name, object[] Args)[]
        {
            ("loop_none", [x]), ("loop_view", [x]), ("loop_narrow", [x]), ("loop_add_", [x.clone()]), ("loop_mul", [x]),
            ("loop_silu", [x]), ("loop_roll", [x]), ("loop_rms_norm", [x, w]), ("loop_layer_norm", [x, w]), ("loop_mm", [x, wsq]),
            ("loop_addmm_", [x.clone(), wsq]), ("loop_mv", [x.view(4096), wsq.t()]), ("loop_addmv_", [x.view(4096).clone(), wsq.t()]),
            ("loop_linear", [x, wsq.t()]), ("loop_sdpa", [q, k, v]), ("loop_bmm_attention", [q, k, v]), ("loop_copy_select", [cache, s]),
        };
        var result = new Dictionary<string, object>();
        const int n = 200;
        using var inference = inference_mode();
        foreach (var (name, args) in cases)
        {
            var full = args.Append(n).ToArray();
            for (var r = 0; r < 3; r++)
            {
                ((Tensor)unit.invoke(name, full)).Dispose();
            }

            DeviceLimits.Sync(device);
            double host = double.MaxValue, total = double.MaxValue;
            for (var r = 0; r < 5; r++)
            {
                var sw = Stopwatch.StartNew();
                ((Tensor)unit.invoke(name, full)).Dispose();
                var issued = sw.Elapsed.TotalSeconds;
                DeviceLimits.Sync(device);
                host = Math.Min(host, issued);
                total = Math.Min(total, sw.Elapsed.TotalSeconds);
            }

            result[name] = new { host_us_per_op = host / n * 1e6, total_us_per_op = total / n * 1e6 };
        }

        return result;
    }
}
