using System.CommandLine;
using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff fit samples.csv</c>: fit a runtime model, print its parameters, diagnostics and own error estimate, write it
/// as JSON. <c>--from TOOL</c> (or a JSON file) imports another benchmark's per-request log instead of a samples CSV.
/// </summary>
internal static class FitCommand
{
    /// <summary>The most bootstrap refits <c>--bootstrap</c> accepts: past this the intervals no longer change, only the wait.</summary>
    public const int MaximumResamples = 100_000;

    private static readonly string FromNames = string.Join("|", Enum.GetValues<BenchmarkLogFormat>().Select(BenchmarkLogImport.FormatName));

    public static Command Create(TextWriter output)
    {
        var samples = new Argument<FileInfo>("samples") { Description = "CSV of samples: prompt_tokens,output_tokens,runtime_seconds[,trial,concurrency,energy_joules,source,batch_size]; or a benchmark tool's per-request log (see --from)." };
        var from = new Option<string?>("--from") { Description = $"Read FILE as the per-request log of a benchmark tool: {FromNames}, or auto (detect; also the default for a JSON file)." };
        var keepMismatched = new Option<bool>("--keep-mismatched") { Description = "Keep logged requests whose output length differs from the requested one, fitted on the length they report." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Count tokens with this encoding (cl100k_base, o200k_base, gpt2) where a log holds only text (GenAI-Perf without usage)." };
        var model = new Option<FileInfo?>("--output", "-o") { Description = "Write the fitted model as JSON here." };
        var aggregation = new Option<TrialAggregation>("--aggregation") { Description = "How trials of one (p, o) combine.", DefaultValueFactory = _ => TrialAggregation.Minimum };
        var decode = new Option<DecodeModel>("--decode") { Description = "Decode model: Constant (the paper), ContextLinear, ContextHinge (flat, then linear past a fitted knee), or Auto (cross-validated).", DefaultValueFactory = _ => DecodeModel.Constant };
        var monotone = new Option<bool>("--monotone") { Description = "Make PE non-decreasing (isotonic regression of the knots)." };
        var single = new Option<bool>("--allow-single-output") { Description = "Accept prompt sizes measured at one output length (PE from the decode model)." };
        var resamples = new Option<int>("--bootstrap") { Description = $"Bootstrap refits for intervals: 0 to skip, else 20 to {MaximumResamples:N0}.", DefaultValueFactory = _ => 200 };
        var keep = FitWarnings.KeepOption();
        var seed = new Option<int>("--seed") { Description = "Bootstrap seed.", DefaultValueFactory = _ => 0 };
        var command = new Command("fit", "Fit the runtime model t(p,o) = PE(p) + (o-1)·g to profiling samples (paper §3.4) and report how good the fit is.")
        {
            samples, model, aggregation, decode, monotone, single, resamples, seed, keep, from, keepMismatched, tokenizer,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var file = parse.GetValue(samples)!;
            var b = parse.GetValue(resamples);
            if (b != 0 && (b < 20 || b > MaximumResamples))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--bootstrap {b}: give 0 to skip the bootstrap, or 20 to {MaximumResamples} refits (200 is plenty for 95% intervals)."));
            }

            CliInputs.CheckOutputFile(parse.GetValue(model), "--output");
            var fromValue = parse.GetValue(from);
            if (!file.Exists)
            {
                throw new FileNotFoundException(
                    fromValue is null
                        ? $"samples file '{file.FullName}' does not exist; pass a CSV with the header prompt_tokens,output_tokens,runtime_seconds (e.g. written by 'llmeff profile')."
                        : $"benchmark log '{file.FullName}' does not exist; check the path.",
                    file.FullName);
            }

            CliInputs.EnsureText(file.FullName, fromValue is null ? "a samples CSV (prompt_tokens,output_tokens,runtime_seconds) or a benchmark log" : "a benchmark log (JSON)");
            IReadOnlyList<ProfilingSample> data;
            if (fromValue is null && !LooksLikeJson(file.FullName))
            {
                if (parse.GetValue(keepMismatched) || parse.GetValue(tokenizer) is not null)
                {
                    throw new ArgumentException($"--keep-mismatched and --tokenizer apply to benchmark logs, and {file.Name} is a samples CSV; drop them, or pass --from TOOL if it is a tool's log.");
                }

                data = ProfilingSampleCsv.ReadFile(file.FullName);
            }
            else
            {
                var imported = Import(file, fromValue, parse.GetValue(keepMismatched), parse.GetValue(tokenizer));
                PrintImport(output, imported);
                data = imported.Samples;
            }

            var options = new RuntimeFitOptions
            {
                Aggregation = parse.GetValue(aggregation),
                Decode = parse.GetValue(decode),
                PromptEncodingShape = parse.GetValue(monotone) ? PromptEncodingShape.Monotone : PromptEncodingShape.Interpolate,
                AllowSingleOutputLength = parse.GetValue(single),
                Metadata = new RuntimeModelMetadata { Source = file.Name },
                KeepNonPhysicalFit = parse.GetValue(keep),
            };
            var fitted = CliInputs.Fit(file, data, options);
            cancellationToken.ThrowIfCancellationRequested();
            var cv = RuntimeModel.CrossValidate(data, options, cancellationToken);
            var bootstrap = b > 0 ? RuntimeModel.Bootstrap(data, options, b, 0.95, parse.GetValue(seed), cancellationToken) : null;
            Print(output, file.Name, data.Count, fitted, cv, bootstrap);
            FitWarnings.Print(output, fitted);
            // Samples with energy_joules (profile torch on a GPU with NVML) also give the measured energy model.
            var energy = FitEnergy(data, options, file.Name, output);
            if (energy is not null)
            {
                var last = energy.PromptEncodingJoules.Knots[^1];
                var power = fitted.PerOutputTokenSeconds > 0 ? string.Create(CultureInfo.InvariantCulture, $", mean decode power {energy.DecodePowerWatts(fitted.PerOutputTokenSeconds):F0} W") : string.Empty;
                output.WriteLine();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Measured energy ({data.Count(s => s.EnergyJoules is > 0)} samples with energy_joules): e = {energy.PerOutputTokenJoules:F3} J/output token, E_pe({last.X}) = {last.Y:F3} J, R² = {energy.RSquared:F4}{power}"));
            }

            if (parse.GetValue(model) is { } target)
            {
                RuntimeModelJson.Save(fitted, target.FullName);
                output.WriteLine($"model written to {target.FullName}");
                if (energy is not null)
                {
                    var energyPath = EnergyModelJson.CompanionPath(target.FullName);
                    EnergyModelJson.Save(energy, energyPath);
                    output.WriteLine($"energy model written to {energyPath}");
                }
            }

            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Whether the file's first non-blank character opens JSON: a benchmark log rather than a samples CSV.</summary>
    private static bool LooksLikeJson(string path)
    {
        using var reader = new StreamReader(path);
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (!char.IsWhiteSpace((char)c) && c != '\uFEFF')
            {
                return c is '{' or '[';
            }
        }

        return false;
    }

    private static ImportedBenchmarkLog Import(FileInfo file, string? from, bool keepMismatched, string? encoding)
    {
        BenchmarkLogFormat? format = null;
        if (from is not null && !from.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                format = BenchmarkLogImport.ParseFormat(from);
            }
            catch (ArgumentException)
            {
                throw new ArgumentException($"--from {from}: unknown benchmark tool; use one of {FromNames} or auto.");
            }
        }

        var options = new BenchmarkImportOptions
        {
            FitMismatchedOnReportedLength = keepMismatched,
            Tokenizer = encoding is null ? null : SyntheticPromptFactory.ForEncoding(encoding).Tokenizer,
        };
        var log = BenchmarkLogImport.Read(file.FullName, format, options);
        if (log.Samples.Count == 0)
        {
            var why = log.TotalRequests == 0 ? "it lists no requests" : $"all {log.TotalRequests} requests were excluded ({Reasons(log)}); first: {log.Exclusions[0].Detail}";
            throw new InvalidDataException($"{file.Name}: no usable request in this {BenchmarkLogImport.FormatName(log.Format)} log: {why}.");
        }

        return log;
    }

    private static string Reasons(ImportedBenchmarkLog log)
        => string.Join(", ", log.ExclusionCounts.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{ReasonName(kv.Key)} {kv.Value}")));

    private static string ReasonName(BenchmarkExclusionReason reason) => reason switch
    {
        BenchmarkExclusionReason.Failed => "failed",
        BenchmarkExclusionReason.CutShort => "cut short",
        BenchmarkExclusionReason.LengthMismatch => "output length not the requested one",
        BenchmarkExclusionReason.MissingTokenCounts => "missing token counts",
        BenchmarkExclusionReason.MissingTiming => "missing runtime",
        BenchmarkExclusionReason.Warmup => "warm-up",
        _ => reason.ToString(),
    };

    /// <summary>The import summary: what was read, kept and left out (by reason), before the fit.</summary>
    private static void PrintImport(TextWriter o, ImportedBenchmarkLog log)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(inv, $"{log.SourceName}: {BenchmarkLogImport.FormatName(log.Format)} log, {log.FormatVersion}"));
        o.WriteLine(string.Create(inv, $"  requests read: {log.TotalRequests}, kept: {log.Samples.Count}, excluded: {log.Exclusions.Count}{(log.Exclusions.Count > 0 ? $" ({Reasons(log)})" : string.Empty)}"));
        if (log.KeptMismatchedCount > 0)
        {
            o.WriteLine(string.Create(inv, $"  kept {log.KeptMismatchedCount} with an output length other than requested, on the length they report (--keep-mismatched)"));
        }

        var levels = log.Samples.Select(s => s.Concurrency ?? 1).Distinct().Order().ToArray();
        if (levels.Length > 1)
        {
            o.WriteLine($"  requests ran at {levels.Length} concurrency levels ({string.Join(", ", levels)}): the fit mixes them; under load g and PE grow");
        }

        foreach (var note in log.Notes)
        {
            o.WriteLine($"  note: {note}");
        }

        o.WriteLine();
    }

    /// <summary>The energy model of the samples that carry energy, fitted like the runtime model; null when none does or they cannot be fitted (a warning says why).</summary>
    private static EnergyModel? FitEnergy(IReadOnlyList<ProfilingSample> data, RuntimeFitOptions options, string source, TextWriter output)
    {
        var withEnergy = data.Where(s => s.EnergyJoules is > 0).ToList();
        if (withEnergy.Count == 0)
        {
            return null;
        }

        var energyOptions = new EnergyFitOptions { Aggregation = options.Aggregation, PromptEncodingShape = options.PromptEncodingShape };
        try
        {
            return EnergyModel.Fit(withEnergy, energyOptions) with
            {
                Metadata = new EnergyModelMetadata { Source = source, Notes = string.Create(CultureInfo.InvariantCulture, $"{withEnergy.Count} of {data.Count} samples carry energy") },
            };
        }
        catch (ArgumentException ex)
        {
            // The runtime model stands without it; say why there is no energy model.
            output.WriteLine();
            output.WriteLine($"warning: no energy model from the samples with energy_joules: {LlmEffCommand.Describe(ex)}");
            return null;
        }
    }

    private static void Print(TextWriter o, string name, int count, RuntimeModel m, CrossValidationReport cv, BootstrapResult? bootstrap)
    {
        var inv = CultureInfo.InvariantCulture;
        // Residuals are one per fitted point: one per configuration after Minimum, Mean or Median, one per sample with All.
        var configurations = m.Residuals.Select(r => (r.PromptTokens, r.OutputTokens)).Distinct().Count();
        o.WriteLine(m.Aggregation == TrialAggregation.All
            ? string.Create(inv, $"{name}: {count} samples, {configurations} configurations, every sample fitted (All aggregation)")
            : string.Create(inv, $"{name}: {count} samples, {configurations} configurations after {m.Aggregation} aggregation"));
        o.WriteLine(string.Create(inv, $"g = {m.PerOutputTokenSeconds * 1e3:F3} ms/token{Interval(bootstrap?.PerOutputTokenSeconds, 1e3, "ms")}"));
        if (m.Decode is DecodeModel.ContextLinear or DecodeModel.ContextHinge)
        {
            var past = m.ContextKneeTokens > 0 ? string.Create(inv, $" past a context of {m.ContextKneeTokens} tokens") : string.Empty;
            o.WriteLine(string.Create(inv, $"g1 = {m.PerOutputTokenContextSeconds * 1e9:F2} ns/token per context token{past}{Interval(bootstrap?.PerOutputTokenContextSeconds, 1e9, "ns")}"));
        }

        o.WriteLine(string.Create(inv, $"R² = {m.RSquared:F6}"));
        o.WriteLine();
        o.WriteLine("   p tokens   PE(p) ms    95% interval     line slope ms   line R²      points  outputs");
        foreach (var f in m.PromptSizeFits)
        {
            var pe = m.PromptEncodingSeconds(f.PromptTokens);
            var ci = bootstrap?.PromptEncoding.FirstOrDefault(k => k.Key == f.PromptTokens).Value;
            var interval = ci is { } c && bootstrap is not null ? string.Create(inv, $"[{c.Lower * 1e3:F2}, {c.Upper * 1e3:F2}]") : "-";
            o.WriteLine(string.Create(inv, $"{f.PromptTokens,11} {pe * 1e3,10:F2} {interval,18} {f.SlopeSecondsPerToken * 1e3,14:F3} {f.RSquared,11:F6} {f.SampleCount,8} {f.DistinctOutputLengths,8}"));
        }

        o.WriteLine();
        o.WriteLine("Own error estimate (cross-validation, no extra profiling):");
        o.WriteLine($"  leave one prompt size out:    {cv.LeaveOnePromptSizeOut?.ToString() ?? "n/a (needs 3+ prompt sizes)"}");
        o.WriteLine($"  leave one output length out:  {cv.LeaveOneOutputLengthOut?.ToString() ?? "n/a (needs 3+ output lengths)"}");
        o.WriteLine($"  leave one configuration out:  {cv.LeaveOneConfigurationOut?.ToString() ?? "n/a"}");
    }

    private static string Interval(ParameterInterval? interval, double scale, string unit)
        => interval is { } i ? string.Create(CultureInfo.InvariantCulture, $"  (95% bootstrap interval {i.Lower * scale:F3} to {i.Upper * scale:F3} {unit})") : string.Empty;
}
