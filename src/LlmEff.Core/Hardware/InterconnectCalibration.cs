using MathNet.Numerics.LinearAlgebra;

namespace LlmEff.Core.Hardware;

/// <summary>
/// Fits the communication model's link parameters to measured all-reduces: <c>t = α + 2(N−1)/N · S / B</c> (the model
/// <see cref="CommunicationModel.AllReduceSeconds"/> uses), by least squares on the relative error, so 8 KB messages
/// (where α dominates) and 256 MB ones (where B does) count alike.
/// </summary>
public static class InterconnectCalibration
{
    /// <summary>Fits <c>α</c> and <c>B</c> to <paramref name="samples"/> (any mix of rank counts).</summary>
    /// <param name="samples">Timed all-reduces; at least two distinct <c>2(N−1)/N · S</c>, to separate latency from bandwidth.</param>
    /// <param name="name">Name of the fitted link, e.g. <c>NVLink4-H200-measured</c>.</param>
    /// <param name="source">Where the samples come from (machine, library versions, date): kept as the link's provenance.</param>
    /// <exception cref="ArgumentException">Too few distinct sizes, or a sample that is not a real measurement; the message says which.</exception>
    public static InterconnectFit FitAllReduce(IEnumerable<AllReduceSample> samples, string name, string source)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        var list = samples.ToList();
        foreach (var s in list)
        {
            if (s is null)
            {
                throw new ArgumentException("A sample is null; pass timed all-reduces only.", nameof(samples));
            }

            if (s.Ranks < 2)
            {
                throw new ArgumentException($"A sample has {s.Ranks} rank(s); a one-rank all-reduce moves no data, so time all-reduces over 2 or more GPUs.", nameof(samples));
            }

            if (!double.IsFinite(s.Bytes) || s.Bytes <= 0 || !double.IsFinite(s.Seconds) || s.Seconds <= 0)
            {
                throw new ArgumentException($"A sample has {s.Bytes} bytes in {s.Seconds} s; sizes and times must be finite and positive.", nameof(samples));
            }
        }

        // x = the ring's bytes per rank, 2(N−1)/N · S; t = α + x / B is linear in (α, 1/B).
        var x = list.Select(s => 2.0 * (s.Ranks - 1) / s.Ranks * s.Bytes).ToArray();
        if (x.Distinct().Count() < 2)
        {
            throw new ArgumentException($"The samples have {x.Distinct().Count()} distinct message size(s); latency and bandwidth need at least two, far apart (e.g. 8 KB and 256 MB).", nameof(samples));
        }

        // Dividing each row by its measured time makes the residuals relative.
        var a = Matrix<double>.Build.Dense(list.Count, 2, (r, c) => (c == 0 ? 1.0 : x[r]) / list[r].Seconds);
        var y = Vector<double>.Build.Dense(list.Count, 1.0);
        var beta = a.QR().Solve(y);
        double latency = beta[0], inverseBandwidth = beta[1];
        if (latency < 0)
        {
            // No fixed cost is distinguishable from zero: refit the bandwidth alone.
            latency = 0;
            var only = Matrix<double>.Build.Dense(list.Count, 1, (r, _) => x[r] / list[r].Seconds);
            inverseBandwidth = only.QR().Solve(y)[0];
        }

        if (!(inverseBandwidth > 0))
        {
            throw new ArgumentException("The times do not grow with the message size, so no bandwidth can be fitted; include large messages (tens of MB or more).", nameof(samples));
        }

        var link = new Interconnect(name, latency, 1.0 / inverseBandwidth, source).Validate();
        var residuals = list.Select((s, i) => (latency + (x[i] * inverseBandwidth) - s.Seconds) / s.Seconds).ToArray();
        return new InterconnectFit(link, residuals, residuals.Max(Math.Abs));
    }
}
