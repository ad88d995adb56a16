using System.Globalization;
using LlmEff.Core.Serialization;

namespace LlmEff.Core.Evaluation;

/// <summary>
/// Seeded noisier variants of a fully measured grid: each configuration's runtime gets extra Gaussian noise scaled from its
/// own measured standard deviation, and each prompt size's line an optional relative offset. Used to check that a design
/// and fit hold on hardware louder than the grid's.
/// </summary>
public static class NoisyGrid
{
    /// <summary>
    /// Reads a grid CSV with a <c>stddev_seconds</c> column (as the Megatron logs have) and returns its noisier variant.
    /// </summary>
    /// <exception cref="InvalidDataException">The file lacks <c>stddev_seconds</c> or has a malformed value (line and column named).</exception>
    public static ProfilingGrid FromCsv(string path, NoisyGridOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        var (grid, stdDev) = ReadWithStdDev(path);
        return Create(grid, stdDev, options);
    }

    /// <summary>
    /// <see cref="FromCsv"/>'s grid (the same draws) and a function that measures a configuration again: trial <c>k ≥ 1</c> of
    /// <c>(p, o)</c> keeps the line offset <c>δ_p</c> (a systematic residual repeats do not average out) and draws its own point
    /// noise, seeded by the options' seed, <c>p</c>, <c>o</c> and <c>k</c>; trial 0 is the grid's value.
    /// </summary>
    internal static (ProfilingGrid Grid, Func<int, int, int, double> Repeat) FromCsvWithRepeats(string path, NoisyGridOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        var (grid, stdDev) = ReadWithStdDev(path);
        return CreateWithRepeats(grid, stdDev, options);
    }

    /// <summary>
    /// The noisier variant of <paramref name="grid"/>: runtime <c>t(p, o) × (1 + δ_p) + sqrt(k² − 1) × σ(p, o) × z</c>
    /// with <c>k = NoiseScale</c>, <c>σ</c> at least <see cref="NoisyGridOptions.MinimumStdDevSeconds"/>, <c>δ_p</c> drawn once
    /// per prompt size with standard deviation <see cref="NoisyGridOptions.PromptLineResidual"/>, and standard normal <c>z</c>.
    /// A runtime is kept at or above a tenth of the original, since a query never runs in no time.
    /// </summary>
    /// <param name="grid">The measured grid.</param>
    /// <param name="stdDevSeconds">Measured standard deviation of each configuration, in seconds.</param>
    /// <param name="options">Scale, line offsets and seed.</param>
    public static ProfilingGrid Create(ProfilingGrid grid, Func<int, int, double> stdDevSeconds, NoisyGridOptions options)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(stdDevSeconds);
        ArgumentNullException.ThrowIfNull(options);
        return CreateWithRepeats(grid, stdDevSeconds, options).Grid;
    }

    internal static (ProfilingGrid Grid, Func<int, int, int, double> Repeat) CreateWithRepeats(ProfilingGrid grid, Func<int, int, double> stdDevSeconds, NoisyGridOptions options)
    {
        options.Validate();
        var random = new Random(options.Seed);
        var lineOffset = grid.PromptTokens.ToDictionary(p => p, _ => options.PromptLineResidual * Normal(random));
        var extra = Math.Sqrt((options.NoiseScale * options.NoiseScale) - 1);
        var samples = new List<ProfilingSample>(grid.Count);
        foreach (var s in grid.All())
        {
            samples.Add(s with { RuntimeSeconds = Draw(s.PromptTokens, s.OutputTokens, s.RuntimeSeconds, Normal(random)) });
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"{grid.Name} (noise ×{options.NoiseScale:0.#}, lines {options.PromptLineResidual:0.#%}, seed {options.Seed})");
        var noisy = new ProfilingGrid(name, samples);
        return (noisy, Repeat);

        double Draw(int p, int o, double t, double z)
        {
            var sigma = Math.Max(options.MinimumStdDevSeconds, stdDevSeconds(p, o));
            return Math.Max(0.1 * t, (t * (1 + lineOffset[p])) + (extra * sigma * z));
        }

        double Repeat(int p, int o, int trial)
        {
            if (trial == 0)
            {
                return noisy.Measure(p, o).RuntimeSeconds;
            }

            // HashCode is randomized per process; this mix is not, so a repeat draws the same in every run.
            var key = unchecked((((((long)options.Seed * 1_000_003) + p) * 1_000_033) + o) * 1_000_037) + trial;
            var r = new Random((int)(unchecked((ulong)key * 0x9E3779B97F4A7C15UL) >> 33));
            return Draw(p, o, grid.Measure(p, o).RuntimeSeconds, Normal(r));
        }
    }

    // The measured grid of a CSV and each configuration's measured standard deviation (its stddev_seconds column).
    private static (ProfilingGrid Grid, Func<int, int, double> StdDevSeconds) ReadWithStdDev(string path)
    {
        var samples = ProfilingSampleCsv.ReadFile(path);
        var table = CsvTable.ReadFile(path);
        int cp = table.IndexOf("prompt_tokens"), co = table.IndexOf("output_tokens"), cs = table.IndexOf("stddev_seconds");
        if (cs < 0)
        {
            throw new InvalidDataException($"{table.SourceName}: line {table.HeaderLineNumber}: no 'stddev_seconds' column; a noisy variant scales each point's measured standard deviation, so give the grid with its repeat standard deviations.");
        }

        var stdDev = new Dictionary<(int P, int O), double>();
        foreach (var row in table.Rows)
        {
            if (!int.TryParse(row[cp], NumberStyles.Integer, CultureInfo.InvariantCulture, out var p)
                || !int.TryParse(row[co], NumberStyles.Integer, CultureInfo.InvariantCulture, out var o)
                || !double.TryParse(row[cs], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || !(s >= 0) || !double.IsFinite(s))
            {
                throw new InvalidDataException($"{table.Location(row, cs)}: expected token counts and a finite, non-negative stddev_seconds.");
            }

            stdDev[(p, o)] = s;
        }

        return (new ProfilingGrid(Path.GetFileName(path), samples), (p, o) => stdDev.TryGetValue((p, o), out var s) ? s : 0);
    }

    private static double Normal(Random random)
    {
        // Box–Muller: 1 − U keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
