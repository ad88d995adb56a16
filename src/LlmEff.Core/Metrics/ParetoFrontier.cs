namespace LlmEff.Core.Metrics;

/// <summary>
/// The Pareto frontier of (capability, efficiency metric) points (the squares of the paper's Figure 9): the points no
/// other point dominates, where <c>a</c> dominates <c>b</c> when <c>a</c> is at least as capable and at most as costly
/// and strictly better in one of the two.
/// </summary>
/// <remarks>
/// Ties are deterministic: exact duplicates (equal capability and metric) do not dominate each other, so all copies
/// of a frontier point are on the frontier; of two points with equal metric the more capable one wins, of two with
/// equal capability the cheaper one. The frontier is returned in increasing metric, then by label (ordinal).
/// </remarks>
public static class ParetoFrontier
{
    /// <summary>True when <paramref name="a"/> dominates <paramref name="b"/>.</summary>
    public static bool Dominates(CapabilityEfficiencyPoint a, CapabilityEfficiencyPoint b)
        => a.Capability >= b.Capability && a.EfficiencyMetric <= b.EfficiencyMetric
           && (a.Capability > b.Capability || a.EfficiencyMetric < b.EfficiencyMetric);

    /// <summary>The non-dominated points, by increasing efficiency metric then label.</summary>
    /// <exception cref="ArgumentException">A point has a non-finite capability or metric, or a null label.</exception>
    public static IReadOnlyList<CapabilityEfficiencyPoint> Compute(IEnumerable<CapabilityEfficiencyPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sorted = Checked(points)
            .OrderBy(p => p.EfficiencyMetric)
            .ThenByDescending(p => p.Capability)
            .ThenBy(p => p.Label, StringComparer.Ordinal)
            .ToArray();

        // One sweep by increasing metric: a point survives if it is more capable than everything cheaper-or-equal
        // before it, or an exact duplicate of the last survivor.
        var frontier = new List<CapabilityEfficiencyPoint>();
        var bestCapability = double.NegativeInfinity;
        foreach (var p in sorted)
        {
            if (p.Capability > bestCapability)
            {
                frontier.Add(p);
                bestCapability = p.Capability;
            }
            else if (frontier.Count > 0 && p.Capability == frontier[^1].Capability && p.EfficiencyMetric == frontier[^1].EfficiencyMetric)
            {
                frontier.Add(p);
            }
        }

        return frontier;
    }

    /// <summary>Whether each point (in input order) is on the frontier.</summary>
    public static bool[] Membership(IReadOnlyList<CapabilityEfficiencyPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var checkedPoints = Checked(points).ToArray();
        var result = new bool[checkedPoints.Length];
        for (var i = 0; i < checkedPoints.Length; i++)
        {
            result[i] = true;
            for (var j = 0; j < checkedPoints.Length && result[i]; j++)
            {
                result[i] = !Dominates(checkedPoints[j], checkedPoints[i]);
            }
        }

        return result;
    }

    private static IEnumerable<CapabilityEfficiencyPoint> Checked(IEnumerable<CapabilityEfficiencyPoint> points)
    {
        var index = 0;
        foreach (var p in points)
        {
            if (p.Label is null || !double.IsFinite(p.Capability) || !double.IsFinite(p.EfficiencyMetric))
            {
                throw new ArgumentException(FormattableString.Invariant($"points[{index}] = ('{p.Label}', capability {p.Capability}, metric {p.EfficiencyMetric}) needs a label and finite values; drop models without a measurement first."), nameof(points));
            }

            index++;
            yield return p;
        }
    }
}
