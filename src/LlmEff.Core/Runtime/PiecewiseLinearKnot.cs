namespace LlmEff.Core;

/// <summary>A knot of a <see cref="PiecewiseLinearFunction"/>: the function passes through (<paramref name="X"/>, <paramref name="Y"/>).</summary>
/// <param name="X">Abscissa, e.g. a prompt size in tokens.</param>
/// <param name="Y">Value at <paramref name="X"/>, e.g. prompt-encoding seconds.</param>
public readonly record struct PiecewiseLinearKnot(double X, double Y);
