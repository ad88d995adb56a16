namespace LlmEff.Core;

/// <summary>Shape constraint applied to the fitted <c>PE(p)</c> knots.</summary>
public enum PromptEncodingShape
{
    /// <summary>Knots are the per-prompt-size intercepts as fitted (the paper).</summary>
    Interpolate = 0,

    /// <summary>
    /// Knots are made non-decreasing in <c>p</c> by weighted isotonic regression (pool adjacent violators): a longer
    /// prompt never encodes faster, so dips are noise. Only changes knots that violate the order.
    /// </summary>
    Monotone = 1,
}
