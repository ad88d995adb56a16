using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;

namespace LlmEff.Core.Tests.Metrics;

public class InvalidArchitectureAndLogUnitTests
{
    // A hand-built shape with a typo (negative layer count): Validate() rejects it, but the roofline and FLOP counters never call it.
    private static readonly TransformerArchitecture NegativeLayers = new("typo", 4096, -2, 32, 50_000, 2048);

    // Zero heads: HeadDim = h / n divides by zero.
    private static readonly TransformerArchitecture ZeroHeads = new("typo", 4096, 2, 0, 50_000, 2048);

    [Fact]
    public void Roofline_ForwardPassSeconds_RejectsInvalidArchitecture_InsteadOfReturningNegativeSeconds()
    {
        var ex = Record.Exception(() => RooflineEstimator.ForwardPassSeconds(NegativeLayers, Accelerators.H100_SXM, 1, 16, 0));
        Assert.IsAssignableFrom<ArgumentException>(ex); // today: no exception, returns -1.26e-05 s
    }

    [Fact]
    public void Roofline_ForwardPassSeconds_ZeroHeads_ThrowsArgumentException_NotDivideByZero()
    {
        var ex = Record.Exception(() => RooflineEstimator.ForwardPassSeconds(ZeroHeads, Accelerators.H100_SXM, 1, 16, 0));
        Assert.IsAssignableFrom<ArgumentException>(ex); // today: DivideByZeroException
    }

    [Fact]
    public void QueryFlops_RejectsInvalidArchitecture_InsteadOfReturningNegativeFlops()
    {
        var ex = Record.Exception(() => IdealizedMetrics.QueryFlops(NegativeLayers, 16, 4));
        Assert.IsAssignableFrom<ArgumentException>(ex); // today: returns -1.37e10 FLOPs
        Assert.IsAssignableFrom<ArgumentException>(Record.Exception(() => TransformerFlops.ForwardPass(NegativeLayers, 16, 0)));
    }

    private static AccuracyRow[] Rows() =>
    [
        new("s", "a", 0.5, new Dictionary<string, double> { ["runtime"] = 0.5 }),
        new("s", "b", 0.7, new Dictionary<string, double> { ["runtime"] = 2.0 }),
    ];

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ScenarioFrontier_NonFiniteLogUnit_IsRejected_NotSilentlyDroppingF2(double logUnit)
    {
        var options = new ScenarioFrontierOptions("runtime") { LogUnit = logUnit };
        // today: returns F2 = null with the note "the smallest runtime is 0.5, at or below the log unit NaN"
        var ex = Assert.ThrowsAny<ArgumentException>(() => ScenarioFrontier.Analyze(Rows(), options));
        Assert.Contains("LogUnit", ex.Message + ex.ParamName, StringComparison.Ordinal);
    }
}
