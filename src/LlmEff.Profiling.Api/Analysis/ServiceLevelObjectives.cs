using System.Globalization;

namespace LlmEff.Profiling.Api;

/// <summary>
/// A user's latency objectives; a request meets them when it succeeded and stays within every bound given. Goodput is
/// the share (and rate) of requests that meet them all.
/// </summary>
public sealed record ServiceLevelObjectives
{
    /// <summary>Most seconds to the first token (any token, reasoning included); null for no bound.</summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>
    /// Most seconds per output token after the first, <c>(e2e − ttft) / (o − 1)</c>; null for no bound. A one-token
    /// answer has no such time and meets this bound.
    /// </summary>
    public double? TimePerOutputTokenSeconds { get; init; }

    /// <summary>Most end-to-end seconds; null for no bound.</summary>
    public double? EndToEndSeconds { get; init; }

    /// <summary>True when no bound is given (every successful request meets the objectives).</summary>
    public bool IsEmpty => TimeToFirstTokenSeconds is null && TimePerOutputTokenSeconds is null && EndToEndSeconds is null;

    /// <summary>True when a bound needs streamed timings (time to first token or TPOT).</summary>
    public bool NeedsStreaming => TimeToFirstTokenSeconds is not null || TimePerOutputTokenSeconds is not null;

    /// <summary>Parses <c>ttft=0.5,tpot=0.05,e2e=10</c> (seconds; any subset, each name once).</summary>
    /// <exception cref="ArgumentException">An unknown name, a repeated one, or a value that is not a positive number of seconds.</exception>
    public static ServiceLevelObjectives Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var objectives = new ServiceLevelObjectives();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? part : part[..equals]).Trim().ToLowerInvariant();
            if (name is not ("ttft" or "tpot" or "e2e"))
            {
                throw new ArgumentException($"unknown SLO '{name}'; give ttft, tpot or e2e in seconds, e.g. ttft=0.5,tpot=0.05,e2e=10.", nameof(text));
            }

            if (equals < 0 || !double.TryParse(part[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds) || seconds <= 0)
            {
                throw new ArgumentException($"SLO '{part}': give {name}=SECONDS with a positive number, e.g. {name}=0.5.", nameof(text));
            }

            if (!seen.Add(name))
            {
                throw new ArgumentException($"SLO '{name}' is given twice; give each of ttft, tpot and e2e at most once.", nameof(text));
            }

            objectives = name switch
            {
                "ttft" => objectives with { TimeToFirstTokenSeconds = seconds },
                "tpot" => objectives with { TimePerOutputTokenSeconds = seconds },
                _ => objectives with { EndToEndSeconds = seconds },
            };
        }

        return objectives.IsEmpty ? throw new ArgumentException($"no SLO in '{text}'; give e.g. ttft=0.5,tpot=0.05,e2e=10.", nameof(text)) : objectives;
    }

    /// <summary>Whether <paramref name="record"/> succeeded within every bound; a bound whose timing was not recorded is not met.</summary>
    public bool IsMetBy(ApiSampleRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status != ApiSampleStatus.Succeeded || record.RuntimeSeconds is not { } e2e)
        {
            return false;
        }

        if (EndToEndSeconds is { } maxE2e && e2e > maxE2e)
        {
            return false;
        }

        if (TimeToFirstTokenSeconds is { } maxTtft && (record.TimeToFirstTokenSeconds is not { } ttft || ttft > maxTtft))
        {
            return false;
        }

        if (TimePerOutputTokenSeconds is { } maxTpot && record.EffectiveOutputTokens >= 2)
        {
            return LoadStudyAnalysis.TimePerOutputTokenSeconds(record) is { } tpot && tpot <= maxTpot;
        }

        return true;
    }

    /// <summary>The objectives as <see cref="Parse"/> reads them, e.g. <c>ttft=0.5,tpot=0.05</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        Add("ttft", TimeToFirstTokenSeconds);
        Add("tpot", TimePerOutputTokenSeconds);
        Add("e2e", EndToEndSeconds);
        return string.Join(",", parts);

        void Add(string name, double? value)
        {
            if (value is { } v)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name}={v:R}"));
            }
        }
    }
}
