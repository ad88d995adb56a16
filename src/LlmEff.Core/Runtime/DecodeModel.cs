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
    /// Fits <see cref="Constant"/> and <see cref="ContextLinear"/> and keeps the one with the lower cross-validated error
    /// (leave one output length out, else leave one prompt size out). <see cref="ContextLinear"/> is only a candidate when its
    /// fitted <c>g1</c> is positive: the KV cache a step reads grows with the context, so a falling per-token time is noise.
    /// Then <see cref="ContextHinge"/> replaces that choice when its <c>g0</c> and <c>g1</c> are positive and it predicts
    /// each swept configuration left out (leave one configuration out) with a lower RMS error.
    /// </summary>
    Auto = 2,

    /// <summary>
    /// Flat, then linear: generating at context <c>i</c> costs <c>g0 + g1·max(0, i − c0)</c>, with the knee <c>c0</c>
    /// (<see cref="RuntimeModel.ContextKneeTokens"/>) fitted by least squares over the profiled prompt sizes strictly between
    /// the smallest and largest swept ones. For a GPU whose step time is set by the weights' read until the KV cache grows
    /// large enough to matter (A100 GPT-NeoX-20B: flat to a context of about 512, then +2.3 µs per token). Needs sweeps at
    /// two or more prompt sizes, as <see cref="ContextLinear"/>, which it reduces to when <c>c0 = 0</c>. Where no knee gives
    /// a positive <c>g1</c>, the fit is <see cref="ContextLinear"/> if its slope is positive, else <see cref="Constant"/>
    /// (<see cref="RuntimeModel.Decode"/> says which).
    /// </summary>
    ContextHinge = 3,
}
