using LlmEff.Core.Architecture;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Precomputed, parameter-free position tables: rotary cosines and sines (rotate-half convention, over the whole head
/// dimension) or ALiBi biases. Built once per model on its device so a decode step only slices them.
/// </summary>
internal sealed class PositionTables : IDisposable
{
    private PositionTables(Tensor? cos, Tensor? sin, Tensor? alibi)
    {
        Cos = cos;
        Sin = sin;
        Alibi = alibi;
        if (sin is not null)
        {
            var half = sin.shape[1] / 2;
            SignedSin = cat([-sin.narrow(1, 0, half), sin.narrow(1, half, half)], 1);
        }
    }

    /// <summary>Rotary cosines <c>[maxT, headDim]</c> in the model dtype, or null.</summary>
    public Tensor? Cos { get; }

    /// <summary>Rotary sines <c>[maxT, headDim]</c> in the model dtype, or null.</summary>
    public Tensor? Sin { get; }

    /// <summary>Sines with the first half negated, so that rotate-half is <c>roll(x, headDim/2) · SignedSin</c> (one op fewer).</summary>
    public Tensor? SignedSin { get; }

    /// <summary>ALiBi biases <c>[heads, maxT]</c> = slope · key position in the model dtype, or null.</summary>
    public Tensor? Alibi { get; }

    public static PositionTables Create(TransformerArchitecture arch, int maxTokens, ScalarType dtype, Device device, double rotaryBase, int headStart = 0, int? heads = null)
    {
        using var noGrad = no_grad();
        switch (arch.Positions)
        {
            case PositionalScheme.Rotary:
            {
                var half = arch.HeadDim / 2;
                if (arch.HeadDim % 2 != 0)
                {
                    throw new ArgumentException($"{arch.Name}: rotary embeddings need an even head dimension, got {arch.HeadDim}.", nameof(arch));
                }

                var inv = pow(rotaryBase, -arange(0, half, ScalarType.Float32, device) / half);
                var angles = outer(arange(0, maxTokens, ScalarType.Float32, device), inv);
                var full = cat([angles, angles], -1);
                return new PositionTables(full.cos().to(dtype), full.sin().to(dtype), null);
            }

            case PositionalScheme.Alibi:
            {
                // A tensor-parallel shard keeps the slopes of its own heads.
                var slopes = tensor(AlibiSlopes(arch.Heads).Skip(headStart).Take(heads ?? arch.Heads).ToArray(), ScalarType.Float32, device);
                var table = outer(slopes, arange(0, maxTokens, ScalarType.Float32, device));
                return new PositionTables(null, null, table.to(dtype));
            }

            default:
                return new PositionTables(null, null, null);
        }
    }

    /// <summary>ALiBi head slopes (Press et al., 2022): a geometric sequence, interleaved for head counts that are not powers of 2.</summary>
    public static float[] AlibiSlopes(int heads)
    {
        static IEnumerable<double> PowerOfTwo(int n)
        {
            var start = Math.Pow(2, -8.0 / n);
            return Enumerable.Range(1, n).Select(i => Math.Pow(start, i));
        }

        var closest = 1 << (int)Math.Floor(Math.Log2(heads));
        var slopes = PowerOfTwo(closest).ToList();
        if (closest < heads)
        {
            slopes.AddRange(PowerOfTwo(2 * closest).Where((_, i) => i % 2 == 0).Take(heads - closest));
        }

        return slopes.Select(s => (float)s).ToArray();
    }

    /// <summary>Reference rotary embedding of <c>x [1, T, heads, headDim]</c> at positions <c>start..start+T-1</c>.</summary>
    public Tensor ApplyRotary(Tensor x, long start)
    {
        var t = x.shape[1];
        var half = x.shape[3] / 2;
        var rotated = cat([-x.narrow(3, half, half), x.narrow(3, 0, half)], 3);
        return (x * Cos!.narrow(0, start, t).unsqueeze(1)) + (rotated * Sin!.narrow(0, start, t).unsqueeze(1));
    }

    /// <summary>Reference ALiBi bias <c>[heads, T, T]</c> for a sequence from position 0 (row constants cancel in softmax).</summary>
    public Tensor AlibiBias(long tokens) => Alibi!.narrow(1, 0, tokens).unsqueeze(1).expand(-1, tokens, -1);

    /// <summary>The tables in the order <see cref="DecoderScript"/> indexes them after the model tensors.</summary>
    public IEnumerable<Tensor> ScriptTensors()
    {
        foreach (var t in new[] { Cos, SignedSin, Alibi })
        {
            if (t is not null)
            {
                yield return t;
            }
        }
    }

    public void Dispose()
    {
        Cos?.Dispose();
        Sin?.Dispose();
        SignedSin?.Dispose();
        Alibi?.Dispose();
    }
}
