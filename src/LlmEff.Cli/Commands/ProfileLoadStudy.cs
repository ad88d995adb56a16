using System.Globalization;
using LlmEff.Profiling.Api;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff profile api --concurrency ...</c> / <c>--request-rate ...</c>: the load study's flags, run and report. The
/// sweep itself is <see cref="LoadStudyProfiler"/>; this is the shell around it.
/// </summary>
internal static class ProfileLoadStudy
{
    /// <summary>The load-study flags, checked; null when none of --concurrency and --request-rate is given (the grid run).</summary>
    public static Flags? ParseFlags(string? concurrency, string? requestRate, double? duration, int? maxRequests, string? slo, FileInfo? exportRequests, FileInfo? summary)
    {
        // Objectives and export formats are checked in every mode, so that a typo fails before anything is sent.
        var objectives = slo is null ? null : ParseObjectives(slo);
        if (exportRequests is not null && Path.GetExtension(exportRequests.Name).ToLowerInvariant() is not (".csv" or ".json"))
        {
            throw new ArgumentException($"--export-requests '{exportRequests.Name}': end the name in .csv or .json (the format is chosen by extension).");
        }

        if (concurrency is null && requestRate is null)
        {
            foreach (var (name, given) in new[] { ("--duration", duration is not null), ("--slo", slo is not null), ("--summary", summary is not null) })
            {
                if (given)
                {
                    throw new ArgumentException($"{name} belongs to a load study; add --concurrency 1,2,4 or --request-rate 0.5,1,2.");
                }
            }

            return null;
        }

        if (concurrency is not null && requestRate is not null)
        {
            throw new ArgumentException("--concurrency and --request-rate: a load study sweeps one of them; run two studies with two journals.");
        }

        if (maxRequests is < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--max-requests {maxRequests}: give 1 or more requests per level, or omit it and give --duration."));
        }

        if (duration is { } d && (!double.IsFinite(d) || d <= 0 || d > TimeSpan.MaxValue.TotalSeconds / 2))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--duration {d}: give the seconds each level runs, a positive number such as 60."));
        }

        if (duration is null && maxRequests is null)
        {
            throw new ArgumentException("a load study needs an end for each level: give --duration SECONDS, --max-requests N or both.");
        }

        var levels = concurrency is null ? null : ParseConcurrency(concurrency);
        var rates = requestRate is null ? null : ParseRates(requestRate);
        return new Flags(levels, rates, duration is { } seconds ? TimeSpan.FromSeconds(seconds) : null, maxRequests, objectives, exportRequests, summary);
    }

    public static async Task<int> RunAsync(
        Flags flags,
        OpenAiEndpointOptions endpointOptions,
        string journalPath,
        string? prompts,
        string? outputs,
        string encoding,
        TimeSpan requestTimeout,
        int seed,
        TimeProvider clock,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        var options = new LoadStudyOptions
        {
            TimeProvider = clock,
            JournalPath = journalPath,
            PromptTokens = ProfileCommand.ParseList(prompts ?? "512", "--prompts"),
            OutputTokens = ProfileCommand.ParseList(outputs ?? "64", "--outputs"),
            ConcurrencyLevels = flags.ConcurrencyLevels,
            RequestRates = flags.RequestRates,
            Duration = flags.Duration,
            MaxRequestsPerLevel = flags.MaxRequestsPerLevel,
            Seed = seed,
            RequestTimeout = requestTimeout,
        };
        if (options.OutputTokens.FirstOrDefault(o => o < 1, 1) is var o && o < 1)
        {
            throw new ArgumentException($"--outputs: {o} is not an output length; every query generates at least 1 token.");
        }

        if (options.PromptTokens.Distinct().Count() != options.PromptTokens.Count || options.OutputTokens.Distinct().Count() != options.OutputTokens.Count)
        {
            throw new ArgumentException("--prompts and --outputs must not repeat a value; a load study cycles through them.");
        }

        SyntheticPromptFactory promptFactory;
        try
        {
            promptFactory = SyntheticPromptFactory.ForEncoding(encoding);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"--encoding: {LlmEffCommand.Describe(ex)}", ex);
        }

        var gate = new object();
        var statusOpen = false;
        var logger = new ProfileCommand.ErrorLogger<LoadStudyProfiler>(error, gate, () => statusOpen = false, () => statusOpen);
        using var endpoint = new OpenAiCompatibleEndpoint(endpointOptions);
        var profiler = new LoadStudyProfiler(endpoint, promptFactory, options, logger);
        var progress = new ProfileCommand.SynchronousProgress<LoadStudyProgress>(p =>
        {
            lock (gate)
            {
                error.Write(string.Create(CultureInfo.InvariantCulture, $"\rlevel {p.LevelIndex + 1}/{p.Levels} ({LevelName(p.Mode, p.Load)}): {p.Finished}{(options.MaxRequestsPerLevel is { } max ? $"/{max}" : string.Empty)} requests, {p.Failed} failed   "));
                statusOpen = true;
            }
        });

        LoadStudyResult result;
        try
        {
            result = await profiler.RunAsync(progress, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            error.WriteLine();
            error.WriteLine($"llmeff: interrupted; finished levels are in {journalPath}; rerun the same command to resume with the level that was cut short.");
            return 130;
        }

        lock (gate)
        {
            if (statusOpen)
            {
                error.WriteLine();
            }
        }

        output.WriteLine($"{endpoint.Description}: load study, {result.LevelsRun} levels run, {result.LevelsResumed} resumed from {result.JournalPath}, {result.Failed} requests failed this run.");
        if (result.MinTokensRefused)
        {
            output.WriteLine("the server refused min_tokens; requests went without it (exact lengths rest on max_tokens and --ignore-eos).");
        }

        var levels = LoadStudyAnalysis.Summarize(result.Records, flags.Objectives);
        Print(output, levels, flags.Objectives);
        if (flags.ExportRequests is { } requestsFile)
        {
            LoadStudyExport.WriteRequests(result.Records, requestsFile.FullName);
            output.WriteLine($"requests written to {requestsFile.FullName}");
        }

        if (flags.Summary is { } summaryFile)
        {
            LoadStudyExport.WriteSummary(levels, flags.Objectives, summaryFile.FullName);
            output.WriteLine($"summary written to {summaryFile.FullName}");
        }

        return 0;
    }

    /// <summary>The per-level table, then the output-length mismatches (never silent).</summary>
    public static void Print(TextWriter output, IReadOnlyList<LoadLevelSummary> levels, ServiceLevelObjectives? objectives)
    {
        var rows = levels.Select(l => new[]
        {
            LevelName(l.Mode, l.Load),
            l.Requests.ToString(CultureInfo.InvariantCulture),
            l.Failed.ToString(CultureInfo.InvariantCulture),
            l.RequestsPerSecond.ToString("F2", CultureInfo.InvariantCulture),
            l.OutputTokensPerSecond.ToString("F1", CultureInfo.InvariantCulture),
            Milliseconds(l.TimeToFirstToken),
            Milliseconds(l.TimePerOutputToken),
            l.InterTokenLatency is { } itl ? (itl.P50Seconds * 1e3).ToString("F2", CultureInfo.InvariantCulture) : "-",
            Milliseconds(l.EndToEnd),
            string.Create(CultureInfo.InvariantCulture, $"{l.GoodputShare:P0} {l.GoodputRequestsPerSecond:F2}/s"),
        }).ToArray();
        TextTable.Write(
            output,
            ["level", "requests", "failed", "req/s", "out tok/s", "TTFT p50/p90/p99 ms", "TPOT p50/p90/p99 ms", "ITL p50 ms", "E2E p50/p90/p99 ms", objectives is null ? "goodput (all succeeded)" : $"goodput ({objectives})"],
            rows);
        var answered = levels.Sum(l => l.Succeeded);
        var mismatched = levels.Sum(l => l.OutputLengthMismatches);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"output length: {mismatched} of {answered} answers ({(answered == 0 ? 0 : mismatched / (double)answered):P1}) generated another length than asked; timed on their reported length, reasoning tokens included ({levels.Sum(l => l.ReasoningTokens)} reasoning tokens)."));
        var suspect = levels.Sum(l => l.Suspect);
        if (suspect > 0)
        {
            output.WriteLine($"left out {suspect} answers whose token counts cannot be trusted (suspect in the journal).");
        }
    }

    public static string LevelName(LoadStudyMode mode, double load)
        => mode == LoadStudyMode.Concurrency
            ? string.Create(CultureInfo.InvariantCulture, $"c={load:0}")
            : string.Create(CultureInfo.InvariantCulture, $"{load:0.###} req/s");

    public static ServiceLevelObjectives ParseObjectives(string text)
    {
        try
        {
            return ServiceLevelObjectives.Parse(text);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"--slo: {LlmEffCommand.Describe(ex)}", ex);
        }
    }

    private static string Milliseconds(LatencyPercentiles? p)
        => p is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{p.P50Seconds * 1e3:F1}/{p.P90Seconds * 1e3:F1}/{p.P99Seconds * 1e3:F1}");

    private static IReadOnlyList<int> ParseConcurrency(string text)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 1 || v > LoadStudyOptions.MaximumConcurrency)
            {
                throw new ArgumentException($"--concurrency {part}: give levels of 1 to {LoadStudyOptions.MaximumConcurrency} requests in flight, e.g. 1,2,4,8,16.");
            }

            values.Add(v);
        }

        return Distinct(values, "--concurrency", "1,2,4,8,16");
    }

    private static IReadOnlyList<double> ParseRates(string text)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v <= 0)
            {
                throw new ArgumentException($"--request-rate {part}: give positive requests per second, e.g. 0.5,1,2.");
            }

            values.Add(v);
        }

        return Distinct(values, "--request-rate", "0.5,1,2");
    }

    private static IReadOnlyList<T> Distinct<T>(List<T> values, string option, string example)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException($"{option} is empty; give the levels to sweep, e.g. {example}.");
        }

        return values.Distinct().Count() == values.Count
            ? values
            : throw new ArgumentException($"{option} lists a level twice; give each once, e.g. {example}.");
    }

    /// <summary>The checked load-study flags.</summary>
    internal sealed record Flags(
        IReadOnlyList<int>? ConcurrencyLevels,
        IReadOnlyList<double>? RequestRates,
        TimeSpan? Duration,
        int? MaxRequestsPerLevel,
        ServiceLevelObjectives? Objectives,
        FileInfo? ExportRequests,
        FileInfo? Summary);
}
