namespace LlmEff.Core.Tests.Runtime;

/// <summary>Samples from a known runtime model, optionally with seeded noise.</summary>
internal static class SyntheticSamples
{
    public static readonly int[] PaperPrompts = [1, 256, 512, 1024, 1536];
    public static readonly int[] Outputs = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>A ground-truth PE with a kink at small p, like the paper's Figure 4.</summary>
    public static double TruePe(int p) => p <= 256 ? 0.020 + (0.00012 * p) : 0.020 + (0.00012 * 256) + (0.00018 * (p - 256));

    public const double TrueG = 0.035;

    public static List<ProfilingSample> Generate(int trials, Func<Random, double> noise, int seed, IEnumerable<int>? prompts = null, double overhead = 0)
    {
        var rng = new Random(seed);
        var list = new List<ProfilingSample>();
        foreach (var p in prompts ?? PaperPrompts)
        {
            foreach (var o in Outputs)
            {
                for (var t = 0; t < trials; t++)
                {
                    var exact = (p == 0 ? 0 : TruePe(p)) + ((o - 1) * TrueG) + overhead;
                    list.Add(new ProfilingSample(p, o, exact + noise(rng)) { Trial = t });
                }
            }
        }

        return list;
    }
}
