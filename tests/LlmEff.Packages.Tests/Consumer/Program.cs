// A program that uses LlmEff only through its packed NuGet packages (PackedPackagesTests builds and runs it). Each
// check is one entry of Checks below: it throws on a failure and returns a short detail on success. To cover more of
// the packages, add an entry (and, to make it required, its name to PackedPackagesTests.ExpectedChecks).
using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Catalog;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using LlmEff.Core.Workloads;
using LlmEff.Core.Reference;
using LlmEff.Extensions.AI;
using LlmEff.Profiling.Api;
using LlmEff.Profiling.Torch;
using Microsoft.Extensions.AI;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

(string Name, Func<Task<string>> Run)[] checks =
[
    ("fit", () => Task.FromResult(Checks.FitRuntimeModel())),
    ("paper-table3", () => Task.FromResult(Checks.PaperTable3Davinci())),
    ("catalog", () => Task.FromResult(Checks.CatalogResolvesEveryName())),
    ("energy", () => Task.FromResult(Checks.ShippedEnergyModel())),
    ("readme-quick-start", () => Task.FromResult(Checks.ReadmeQuickStart())),
    ("extensions-ai", Checks.ExtensionsAiMiddlewareAsync),
    ("extensions-ai-h100", Checks.ExtensionsAiPricesAnH100ProfileAsAnH100Async),
    ("profiling-api", () => Task.FromResult(Checks.ProfilingApiPrompts())),
    ("profiling-torch", () => Task.FromResult(Checks.ProfilingTorchLoads())),
];

int failed = 0;
foreach (var (name, run) in checks)
{
    try
    {
        Console.WriteLine($"PASS {name}: {await run()}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"FAIL {name}: {e}");
    }
}

Console.WriteLine($"checks: {checks.Length - failed} ok, {failed} failed");
return failed == 0 ? 0 : 1;

internal static class Checks
{
    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    // Core: the paper's fit (§3.4) recovers an exact t(p, o) = PE(p) + (o - 1)·g.
    public static string FitRuntimeModel()
    {
        var samples = new List<ProfilingSample>();
        foreach (int p in new[] { 512, 1024, 1536 })
        {
            foreach (int o in new[] { 1, 2, 4, 8, 16 })
            {
                samples.Add(new ProfilingSample(p, o, 0.05 + 2e-4 * p + (o - 1) * 0.02));
            }
        }

        RuntimeModel model = RuntimeModel.Fit(samples);
        Require(Math.Abs(model.PerOutputTokenSeconds - 0.02) < 1e-9, $"g = {model.PerOutputTokenSeconds}, expected 0.02");
        double t = model.Predict(1024, 32);
        Require(Math.Abs(t - (0.05 + 2e-4 * 1024 + 31 * 0.02)) < 1e-9, $"t(1024, 32) = {t}");
        RuntimeModel roundTrip = RuntimeModel.FromJson(model.ToJson());
        Require(roundTrip.Predict(1024, 32) == t, "JSON round trip changed the prediction");
        return $"g = {model.PerOutputTokenSeconds * 1e3:F1} ms/token, t(1024, 32) = {t:F4} s";
    }

    // Core: the reference models of the paper's Table 3 ship inside the package.
    public static string PaperTable3Davinci()
    {
        RuntimeModel davinci = PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized);
        Require(davinci.PerOutputTokenSeconds > 0, "davinci's g is not positive");
        Require(PaperTable3.Idealized.Count > 0 && PaperTable3.Denoised.Count > 0, "Table 3 is empty");
        return $"{PaperTable3.All.Count} reference models; davinci g = {davinci.PerOutputTokenSeconds * 1e3:F1} ms/token";
    }

    // Core's catalog: every shipped profile loads by name, and the CLI's name grammar resolves from the library.
    public static string CatalogResolvesEveryName()
    {
        Require(ModelCatalog.MeasuredProfiles.Count >= 10, $"{ModelCatalog.MeasuredProfiles.Count} measured profiles");
        foreach (ShippedProfile profile in ModelCatalog.Profiles)
        {
            RuntimeModel model = ModelCatalog.GetProfile(profile.Name, profile.Model.Metadata.Metric);
            Require(model.PerOutputTokenSeconds > 0, $"{profile.Name}: g = {model.PerOutputTokenSeconds}");
        }

        Require(ModelCatalog.Resolve("OpenAI/davinci").Model.PerOutputTokenSeconds > 0, "Table 3 name");
        Require(ModelCatalog.Resolve("roofline:meta-llama/Meta-Llama-3-8B@H100-SXM").Model.PerOutputTokenSeconds > 0, "roofline name");
        try
        {
            ModelCatalog.Resolve("gptj-6b-h100-bf17");
            throw new InvalidOperationException("a misspelt name resolved");
        }
        catch (KeyNotFoundException e) when (e.Message.Contains("gptj-6b-h100-bf16", StringComparison.Ordinal))
        {
        }

        try
        {
            ModelCatalog.Resolve("helm:openai/davinci", helm: new HelmTableOptions(TablesDirectory: Path.Combine(Path.GetTempPath(), "no-helm-tables-here")));
            throw new InvalidOperationException("helm: resolved without HELM's tables");
        }
        catch (Exception e) when (e is not InvalidOperationException && e.Message.Contains("helm", StringComparison.OrdinalIgnoreCase))
        {
        }

        return $"{ModelCatalog.Profiles.Count} profiles, {ModelCatalog.MeasuredProfiles.Count} measured";
    }

    // The README's library quick start, line for line: a shipped H100 profile by name prices a workload as an H100.
    public static string ReadmeQuickStart()
    {
        RuntimeModel llama = ModelCatalog.GetProfile("llama3-8b-h100-bf16");
        Workload workload = Workload.Sample;
        var serving = ServingConfiguration.For(llama, Accelerators.ForProfile(llama.Metadata));
        WorkloadEstimate e = WorkloadEstimator.Estimate(workload, serving);
        Require(serving.Accelerator?.Name == "H100-SXM", $"priced on {serving.Accelerator?.Name}");
        Require(e.TotalRuntimeSeconds > 0 && e.TotalDollarCostUsd > 0 && e.TotalEnergyKilowattHours > 0, e.ToString());
        return $"{e.TotalRuntimeSeconds:F1} s, ${e.TotalDollarCostUsd:F4}, {e.TotalEnergyKilowattHours:F5} kWh";
    }

    // Core's one energy model: the shipped GPT-J energy profile loads and predicts joules.
    public static string ShippedEnergyModel()
    {
        EnergyModel energy = ModelCatalog.ResolveEnergy("gptj-h100-bf16-energy") ?? throw new InvalidOperationException("no shipped energy model");
        double joules = energy.PredictJoules(512, 32);
        Require(joules > 0 && energy.PerOutputTokenJoules > 0, $"E(512, 32) = {joules} J");
        EnergyModel roundTrip = EnergyModel.FromJson(energy.ToJson());
        Require(roundTrip.PredictJoules(512, 32) == joules, "energy JSON round trip changed the prediction");
        return $"E(512, 32) = {joules:F1} J, e = {energy.PerOutputTokenJoules:F2} J/token";
    }

    // Extensions.AI: an H100 profile is priced as an H100, from the profile's own metadata.
    public static async Task<string> ExtensionsAiPricesAnH100ProfileAsAnH100Async()
    {
        RuntimeModel llama = ModelCatalog.GetProfile("llama3-8b-h100-bf16");
        using IChatClient client = new ChatClientBuilder(new FakeChatClient(promptTokens: 512, outputTokens: 16))
            .UseLlmEffMetrics(llama)
            .Build();
        ChatResponse response = await client.GetResponseAsync("Is the sky blue?");
        EfficiencyMetrics m = response.GetEfficiencyMetrics() ?? throw new InvalidOperationException("no metrics on the response");
        Require(m.AcceleratorName == "H100-SXM", $"priced on {m.AcceleratorName}");
        Require(m.PricingDefaults is null, $"defaults used: {m.PricingDefaults}");
        return $"priced on {m.AcceleratorCount} x {m.AcceleratorName}, ${m.IdealizedCostUsd:F6}";
    }

    // Extensions.AI: the middleware attaches metrics computed from the response's usage and keeps totals.
    public static async Task<string> ExtensionsAiMiddlewareAsync()
    {
        RuntimeModel davinci = PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized);
        var totals = new EfficiencyMetricsAccumulator();
        using IChatClient client = new ChatClientBuilder(new FakeChatClient(promptTokens: 512, outputTokens: 16))
            .UseLlmEffMetrics(davinci, o => o.Accumulator = totals)
            .Build();

        ChatResponse response = await client.GetResponseAsync("Is the sky blue?", new ChatOptions { MaxOutputTokens = 16 });
        EfficiencyMetrics m = response.GetEfficiencyMetrics() ?? throw new InvalidOperationException("no metrics on the response");
        Require(m.PromptTokens == 512 && m.OutputTokens == 16, $"tokens {m.PromptTokens}/{m.OutputTokens}");
        Require(m.IdealizedRuntimeSeconds is double t && Math.Abs(t - davinci.Predict(512, 16)) < 1e-12, $"idealized runtime {m.IdealizedRuntimeSeconds}");
        EfficiencyMetricsTotals snapshot = totals.Snapshot();
        Require(snapshot.RequestCount == 1 && snapshot.TotalOutputTokens == 16, $"totals {snapshot}");
        return $"idealized {m.IdealizedRuntimeSeconds:F3} s, ${m.IdealizedCostUsd:F5}, {m.IdealizedEnergyJoules:F0} J";
    }

    // Profiling.Api: the tokenizer data packages come along (exact-size synthetic prompts).
    public static string ProfilingApiPrompts()
    {
        SyntheticPrompt prompt = SyntheticPromptFactory.ForEncoding("cl100k_base").Create(64, seed: 0);
        Require(prompt.TokenCount == 64, $"{prompt.TokenCount} tokens");
        return $"64-token cl100k_base prompt of {prompt.Text.Length} characters";
    }

    // Profiling.Torch: the assembly and TorchSharp's managed part load (no libtorch backend is needed for options).
    public static string ProfilingTorchLoads()
    {
        var options = new TorchProfilerOptions();
        return $"{typeof(TorchProfilerOptions).Assembly.GetName().Name} {typeof(TorchProfilerOptions).Assembly.GetName().Version}, device {options.Device}";
    }
}

// An IChatClient that answers at once with fixed token usage.
internal sealed class FakeChatClient(long promptTokens, long outputTokens) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Yes."))
        {
            Usage = new UsageDetails { InputTokenCount = promptTokens, OutputTokenCount = outputTokens },
        });

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatResponse response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (ChatResponseUpdate update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
