using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Api.LocalModel;

/// <summary>
/// A GPT-style decoder (pre-LayerNorm blocks, learned positions, tied embeddings) with random weights and a KV
/// cache, on TorchSharp's CPU build: the real computation of autoregressive inference, one prompt-encoding pass
/// yielding the first token and then one single-token pass per further token.
/// </summary>
internal sealed class TinyDecoder : IDisposable
{
    private readonly int _hidden;
    private readonly int _heads;
    private readonly Tensor _embed;
    private readonly Tensor _positions;
    private readonly Layer[] _layers;
    private readonly Tensor _finalNormWeight;
    private readonly Tensor _finalNormBias;

    public TinyDecoder(int vocabulary, int hidden, int layers, int heads, int maxContext, int seed)
    {
        _hidden = hidden;
        _heads = heads;
        torch.random.manual_seed(seed);
        _embed = torch.randn(vocabulary, hidden) * 0.02;
        _positions = torch.randn(maxContext, hidden) * 0.02;
        _layers = Enumerable.Range(0, layers).Select(_ => new Layer(hidden)).ToArray();
        _finalNormWeight = torch.ones(hidden);
        _finalNormBias = torch.zeros(hidden);
        ParameterCount = (vocabulary * (long)hidden) + (maxContext * (long)hidden) + (layers * 12L * hidden * hidden);
    }

    public long ParameterCount { get; }

    /// <summary>Generates exactly <paramref name="count"/> greedy tokens, yielding each as soon as it exists.</summary>
    public IEnumerable<long> Generate(IReadOnlyList<int> prompt, int count)
    {
        using var noGrad = torch.no_grad();
        var cache = new (Tensor K, Tensor V)?[_layers.Length];
        try
        {
            var ids = prompt.Count == 0 ? new long[] { 0 } : prompt.Select(i => (long)i).ToArray();
            var next = Step(ids, 0, cache);
            yield return next;
            var position = ids.Length;
            for (var i = 1; i < count; i++)
            {
                next = Step([next], position++, cache);
                yield return next;
            }
        }
        finally
        {
            foreach (var entry in cache)
            {
                entry?.K.Dispose();
                entry?.V.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _embed.Dispose();
        _positions.Dispose();
        _finalNormWeight.Dispose();
        _finalNormBias.Dispose();
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }
    }

    private long Step(long[] ids, int start, (Tensor K, Tensor V)?[] cache)
    {
        using var scope = torch.NewDisposeScope();
        var n = ids.Length;
        var d = _hidden / _heads;
        var x = _embed.index_select(0, torch.tensor(ids)) + _positions.narrow(0, start, n);
        for (var l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            var h = torch.nn.functional.layer_norm(x, [_hidden], layer.Norm1Weight, layer.Norm1Bias);
            var qkv = h.matmul(layer.Qkv).reshape(n, 3, _heads, d).permute(1, 2, 0, 3); // [3, heads, n, d]
            var q = qkv[0].unsqueeze(0);
            var k = qkv[1].unsqueeze(0);
            var v = qkv[2].unsqueeze(0);
            if (cache[l] is { } past)
            {
                k = torch.cat([past.K, k], 2);
                v = torch.cat([past.V, v], 2);
                past.K.Dispose();
                past.V.Dispose();
            }

            cache[l] = (k.DetachFromDisposeScope(), v.DetachFromDisposeScope());
            // Causal masking matters only when several query positions attend at once (the prompt pass).
            var attention = torch.nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, n > 1);
            x = x + attention.squeeze(0).permute(1, 0, 2).reshape(n, _hidden).matmul(layer.Out);
            var h2 = torch.nn.functional.layer_norm(x, [_hidden], layer.Norm2Weight, layer.Norm2Bias);
            x = x + torch.nn.functional.gelu(h2.matmul(layer.Up)).matmul(layer.Down);
        }

        var last = torch.nn.functional.layer_norm(x[n - 1], [_hidden], _finalNormWeight, _finalNormBias);
        return last.matmul(_embed.t()).argmax().item<long>();
    }

    private sealed class Layer : IDisposable
    {
        public Layer(int hidden)
        {
            Qkv = torch.randn(hidden, 3 * hidden) * 0.02;
            Out = torch.randn(hidden, hidden) * 0.02;
            Up = torch.randn(hidden, 4 * hidden) * 0.02;
            Down = torch.randn(4 * hidden, hidden) * 0.02;
            Norm1Weight = torch.ones(hidden);
            Norm1Bias = torch.zeros(hidden);
            Norm2Weight = torch.ones(hidden);
            Norm2Bias = torch.zeros(hidden);
        }

        public Tensor Qkv { get; }

        public Tensor Out { get; }

        public Tensor Up { get; }

        public Tensor Down { get; }

        public Tensor Norm1Weight { get; }

        public Tensor Norm1Bias { get; }

        public Tensor Norm2Weight { get; }

        public Tensor Norm2Bias { get; }

        public void Dispose()
        {
            foreach (var t in new[] { Qkv, Out, Up, Down, Norm1Weight, Norm1Bias, Norm2Weight, Norm2Bias })
            {
                t.Dispose();
            }
        }
    }
}
