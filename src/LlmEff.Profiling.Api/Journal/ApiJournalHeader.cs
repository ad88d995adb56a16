using System.Globalization;
using System.Text.Json.Serialization;

namespace LlmEff.Profiling.Api;

/// <summary>
/// The first line of a journal: its schema and what it measures (model, address without credentials, API kind,
/// encoding, plan), so that a journal is never resumed for another model or plan by mistake.
/// </summary>
public sealed record ApiJournalHeader
{
    /// <summary>Always <see cref="ApiSampleJournal.Schema"/>.</summary>
    public string Schema { get; init; } = ApiSampleJournal.Schema;

    /// <summary>Always <see cref="ApiSampleJournal.SchemaVersion"/>.</summary>
    public int SchemaVersion { get; init; } = ApiSampleJournal.SchemaVersion;

    /// <summary>The model name sent to the endpoint, when the endpoint exposes it.</summary>
    public string? Model { get; init; }

    /// <summary>The request address, without user name or password.</summary>
    public string? Url { get; init; }

    /// <summary>The API kind (<c>completions</c>, <c>chat_completions</c>), when the endpoint exposes it.</summary>
    public string? Api { get; init; }

    /// <summary>The endpoint's description (never credentials).</summary>
    public string? Endpoint { get; init; }

    /// <summary>The encoding prompt sizes are counted in.</summary>
    public string? Encoding { get; init; }

    /// <summary>The plan: grid, trials, concurrency levels, streaming and seed.</summary>
    public ApiJournalPlan? Plan { get; init; }

    /// <summary>
    /// What each request asks of the server beyond the plan, when the endpoint exposes it: <c>ignore_eos</c>, <c>min_tokens</c>,
    /// prompts as token ids, temperature. Each changes what the model computes or when it stops, so a journal is not resumed
    /// with other settings.
    /// </summary>
    public string? RequestSettings { get; init; }

    /// <summary>The header of a run of <paramref name="endpoint"/> over prompts counted in <paramref name="encoding"/> with <paramref name="plan"/>.</summary>
    internal static ApiJournalHeader For(IProfilingEndpoint endpoint, string encoding, ApiJournalPlan plan)
    {
        var openAi = endpoint as OpenAiCompatibleEndpoint;
        return new ApiJournalHeader
        {
            Model = openAi?.Model,
            Url = openAi?.Address.AbsoluteUri,
            Api = openAi is null ? null : (openAi.Api == OpenAiApiKind.Completions ? "completions" : "chat_completions"),
            Endpoint = endpoint.Description,
            Encoding = encoding,
            Plan = plan,
            RequestSettings = openAi?.RequestSettings,
        };
    }

    /// <summary>True when the header names what was measured (journals of older versions only carry the schema).</summary>
    [JsonIgnore]
    public bool HasIdentity => Model is not null || Endpoint is not null || Plan is not null;

    /// <summary>Every field in which <paramref name="other"/> describes a different run, as <c>name: 'this' vs 'other'</c>.</summary>
    public IReadOnlyList<string> Differences(ApiJournalHeader other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        Compare("model", Model, other.Model);
        Compare("url", Url, other.Url);
        Compare("api", Api, other.Api);
        Compare("endpoint", Endpoint, other.Endpoint);
        Compare("encoding", Encoding, other.Encoding);
        Compare("request_settings", RequestSettings, other.RequestSettings);
        if (Plan is not null && other.Plan is not null)
        {
            Compare("prompt_tokens", Join(Plan.PromptTokens), Join(other.Plan.PromptTokens));
            Compare("output_tokens", Join(Plan.OutputTokens), Join(other.Plan.OutputTokens));
            if (Plan.AdaptiveBudget is null && other.Plan.AdaptiveBudget is null)
            {
                // A grid journal takes more trials: the new ones are sent and the recorded ones kept, as a noisy endpoint
                // needs. Fewer would leave recorded trials out of the run's own plan.
                if (Plan.Trials > other.Plan.Trials)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"trials: '{Plan.Trials}' vs '{other.Plan.Trials}' (a grid journal resumes with as many trials or more)"));
                }
            }
            else
            {
                // An adaptive query is its trials: with another count the planner's queries would not be the recorded ones.
                Compare("trials", Plan.Trials.ToString(CultureInfo.InvariantCulture), other.Plan.Trials.ToString(CultureInfo.InvariantCulture));
            }

            Compare("concurrency_levels", Join(Plan.ConcurrencyLevels), Join(other.Plan.ConcurrencyLevels));
            Compare("stream", Plan.Stream ? "true" : "false", other.Plan.Stream ? "true" : "false");
            Compare("seed", Plan.Seed.ToString(CultureInfo.InvariantCulture), other.Plan.Seed.ToString(CultureInfo.InvariantCulture));
            Compare("request_rates", JoinRates(Plan.RequestRates), JoinRates(other.Plan.RequestRates));
            Compare("duration_seconds", Plan.DurationSeconds?.ToString("R", CultureInfo.InvariantCulture) ?? "none", other.Plan.DurationSeconds?.ToString("R", CultureInfo.InvariantCulture) ?? "none");
            Compare("max_requests_per_level", Plan.MaxRequestsPerLevel?.ToString(CultureInfo.InvariantCulture) ?? "none", other.Plan.MaxRequestsPerLevel?.ToString(CultureInfo.InvariantCulture) ?? "none");
            // The planner's queries for a larger budget begin with those of a smaller one, so only the mode must agree.
            Compare("adaptive", Plan.AdaptiveBudget is null ? "no" : "yes", other.Plan.AdaptiveBudget is null ? "no" : "yes");
        }

        return differences;

        void Compare(string name, string? mine, string? theirs)
        {
            // A field one side does not know (an IChatClient has no URL) cannot contradict the other.
            if (mine is not null && theirs is not null && !string.Equals(mine, theirs, StringComparison.Ordinal))
            {
                differences.Add($"{name}: '{mine}' vs '{theirs}'");
            }
        }

        static string Join(IReadOnlyList<int>? values) => values is null ? string.Empty : string.Join(",", values);
        static string JoinRates(IReadOnlyList<double>? values) => values is null ? string.Empty : string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
    }
}
