using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmEff.Core;

/// <content>Batch prediction: many queries at once, four lanes at a time with AVX, bit for bit as <see cref="Predict"/>.</content>
public sealed partial class RuntimeModel
{
    /// <summary>
    /// Predicts many queries at once: <paramref name="destinationSeconds"/>[i] = <c>Predict(promptTokens[i], outputTokens[i])</c>,
    /// bit for bit, vectorised where the CPU allows. This is how a whole benchmark is estimated in milliseconds.
    /// </summary>
    /// <exception cref="ArgumentException">Span lengths differ, or a token count is invalid (the destination is then partly written).</exception>
    public void PredictBatch(ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens, Span<double> destinationSeconds)
    {
        if (outputTokens.Length != promptTokens.Length)
        {
            throw new ArgumentException($"outputTokens has {outputTokens.Length} entries but promptTokens has {promptTokens.Length}; pass one output length per prompt.", nameof(outputTokens));
        }

        if (destinationSeconds.Length < promptTokens.Length)
        {
            throw new ArgumentException($"destinationSeconds holds {destinationSeconds.Length} values but there are {promptTokens.Length} queries; pass a destination at least as long as the inputs.", nameof(destinationSeconds));
        }

        var i = 0;
        if (Avx.IsSupported && PromptEncodingMode == PromptEncodingMode.Interpolate && promptTokens.Length >= Vector256<double>.Count)
        {
            i = PredictBatchAvx(promptTokens, outputTokens, destinationSeconds);
        }

        for (; i < promptTokens.Length; i++)
        {
            var p = promptTokens[i];
            var o = outputTokens[i];
            if (p < 0 || o < 1)
            {
                ThrowInvalidBatchEntry(promptTokens, outputTokens);
            }

            destinationSeconds[i] = Combine(EvaluatePromptEncoding(p), p, o);
        }
    }

    /// <summary>Predicts every query and returns the runtimes as a new array.</summary>
    public double[] PredictBatch(ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens)
    {
        var result = new double[promptTokens.Length];
        PredictBatch(promptTokens, outputTokens, result);
        return result;
    }

    private int PredictBatchAvx(ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens, Span<double> destination)
    {
        var f = PromptEncoding;
        var hingeX = f.HingeX;
        var hingeC = f.HingeSlopeChange;
        var x0 = Vector256.Create(f.X0);
        var y0 = Vector256.Create(f.Y0);
        var slope = Vector256.Create(f.BaseSlope);
        var g = Vector256.Create(PerOutputTokenSeconds);
        var g1 = Vector256.Create(PerOutputTokenContextSeconds);
        var hinged = ContextKneeTokens != 0;
        var knee = Vector256.Create((double)ContextKneeTokens);
        var twoKnee = Vector256.Create(2.0 * ContextKneeTokens);
        var two = Vector256.Create(2.0);
        var half = Vector256.Create(0.5);
        var overhead = Vector256.Create(OverheadSeconds);
        var one = Vector256.Create(1.0);
        var zero = Vector256<double>.Zero;
        var minP = Vector128.Create(int.MaxValue);
        var minO = Vector128.Create(int.MaxValue);

        ref var pRef = ref MemoryMarshal.GetReference(promptTokens);
        ref var oRef = ref MemoryMarshal.GetReference(outputTokens);
        ref var dRef = ref MemoryMarshal.GetReference(destination);
        var n = promptTokens.Length - (promptTokens.Length % Vector256<double>.Count);
        var i = 0;
        for (; i < n; i += Vector256<double>.Count)
        {
            var pi = Vector128.LoadUnsafe(ref pRef, (nuint)i);
            var oi = Vector128.LoadUnsafe(ref oRef, (nuint)i);
            minP = Sse41.Min(minP, pi);
            minO = Sse41.Min(minO, oi);
            var p = Avx.ConvertToVector256Double(pi);
            var pe = y0 + (slope * (p - x0));
            for (var k = 0; k < hingeX.Length; k++)
            {
                pe += Vector256.Create(hingeC[k]) * Avx.Max(zero, p - Vector256.Create(hingeX[k]));
            }

            pe = Avx.Max(zero, pe);
            var o = Avx.ConvertToVector256Double(oi);
            var steps = o - one;
            // The hinge sums (i − c0) over the steps' contexts i = max(p, c0) … p + o − 2 as RuntimeModelFitter.ContextSum does.
            Vector256<double> contextSum;
            if (hinged)
            {
                var lo = Avx.Max(p, knee);
                var hi = p + o - two;
                contextSum = Avx.Max(zero, hi - lo + one) * (lo + hi - twoKnee) * half;
            }
            else
            {
                contextSum = steps * ((two * p) + (o - two)) * half;
            }

            var t = Avx.Max(zero, pe + (g * steps) + (g1 * contextSum) + overhead);
            t.StoreUnsafe(ref dRef, (nuint)i);
        }

        if (Vector128.LessThanAny(minP, Vector128<int>.Zero) || Vector128.LessThanAny(minO, Vector128.Create(1)))
        {
            ThrowInvalidBatchEntry(promptTokens, outputTokens);
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalidBatchEntry(ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens)
    {
        for (var i = 0; i < promptTokens.Length; i++)
        {
            if (promptTokens[i] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens[i], $"promptTokens[{i}] is negative; prompt sizes are token counts, 0 or more.");
            }

            if (outputTokens[i] < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(outputTokens), outputTokens[i], $"outputTokens[{i}] is {outputTokens[i]}; a query generates at least 1 token (the first comes from prompt encoding).");
            }
        }
    }
}
