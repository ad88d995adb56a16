namespace LlmEff.Core;

/// <summary>How the time of the <c>o − 1</c> single-token generation steps is modelled.</summary>
public enum DecodeModel
{
    /// <summary>The paper's Eq. 3: every step costs <c>g</c>, so generation takes <c>(o − 1)·g</c>.</summary>
    Constant = 0,

    /// <summary>
    /// Appendix A's context growth: generating at context <c>i</c> costs <c>g0 + g1·i</c> (attention FLOPs and the KV-cache read
    /// grow with <c>i</c>), so generation takes <c>Σ_{i=p}^{p+o−2} (g0 + g1·i) = (o − 1)·g0 + g1·(o − 1)(2p + o − 2)/2</c>.
    /// Reduces to <see cref="Constant"/> when <c>g1 = 0</c>.
    /// </summary>
    ContextLinear = 1,

    /// <summary>
    /// Fits both and keeps the one with the lower cross-validated error (leave one output length out, else leave one prompt
    /// size out). <see cref="ContextLinear"/> is only a candidate when its fitted <c>g1</c> is positive: the KV cache a step
    /// reads grows with the context, so a falling per-token time is noise.
    /// </summary>
    Auto = 2,
}
