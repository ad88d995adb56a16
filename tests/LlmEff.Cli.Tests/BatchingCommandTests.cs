using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public sealed class BatchingCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Batch runtime 5 ms + 2 us per prompt token of the batch, decode 10 ms + 0.1 ms per query: linear in b.
    private static double Truth(int p, int o, int b) => 0.005 + (2e-6 * p * b) + ((o - 1) * (0.010 + (1e-4 * b)));

    private string ModelFile(string name = "synthetic", int accelerators = 2)
    {
        var samples = from b in new[] { 1, 4, 16 } from p in new[] { 128, 512 } from o in new[] { 8, 64 } select new ProfilingSample(p, o, Truth(p, o, b)) { BatchSize = b };
        var model = BatchedRuntimeModel.Fit(samples, RuntimeFitOptions.Default).WithMetadata(new RuntimeModelMetadata { ModelName = name, AcceleratorCount = accelerators });
        return _dir.File("batched.json", model.ToJson());
    }

    [Fact]
    public void Estimate_with_a_batch_beyond_memory_is_refused_with_the_largest_that_fits()
    {
        // GPT-J on one H100: 100,000 KV caches of 288 positions are terabytes; the price of such a batch is no answer.
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n256,32\n");
        var model = ModelFile("EleutherAI/gpt-j-6b", 1);
        AssertOneLineError(Run("estimate", "--batch", "100000", "-m", model, "-w", workload, "--accelerator", "H100-SXM"), "A batch of 100000 of EleutherAI/gpt-j-6b", "the largest batch that fits is");

        var fits = Run("estimate", "--batch", "8", "-m", model, "-w", workload, "--accelerator", "H100-SXM");
        Assert.Equal(0, fits.Code);
        Assert.Empty(fits.Err);
    }

    [Fact]
    public void Estimate_with_a_batch_prints_latency_and_cost_per_query()
    {
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n256,32\n");
        var (code, output, err) = Run("estimate", "--batch", "8", "-m", ModelFile(), "-w", workload, "--accelerator", "H100-SXM");

        Assert.Equal(0, code);
        // A model whose architecture the catalog lacks cannot have its memory checked: said, once.
        Assert.Equal("llmeff: note: synthetic: memory not checked (its architecture is not in the catalog); a batch of 8 is priced as if it fit.", err.Trim());
        var t = Truth(256, 32, 8);
        var cost = t * 2 * Accelerators.H100_SXM.PricePerSecondUsd / 8;
        Assert.Contains(t.ToString("F3", CultureInfo.InvariantCulture), output, StringComparison.Ordinal);
        Assert.Contains(cost.ToString("E3", CultureInfo.InvariantCulture), output, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_with_a_batch_averages_time_per_output_token_over_decoding_queries_only()
    {
        // A one-token query has no decode step: its prefill must not enter the mean time per output token.
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n512,1\n256,32\n");
        var (code, output, _) = Run("estimate", "--batch", "4", "-m", ModelFile(), "-w", workload);

        Assert.Equal(0, code);
        var row = output.Split('\n').Single(l => l.StartsWith("synthetic", StringComparison.Ordinal));
        var tpotMs = (Truth(256, 32, 4) - Truth(256, 1, 4)) / 31 * 1e3;
        Assert.Contains(" " + tpotMs.ToString("F2", CultureInfo.InvariantCulture) + " ", row, StringComparison.Ordinal);
        Assert.Contains("averaged over the queries with o > 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_beyond_the_profiled_batches_warns_that_it_extrapolates()
    {
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n256,32\n");
        var (code, _, err) = Run("estimate", "--batch", "64", "-m", ModelFile(), "-w", workload);
        Assert.Equal(0, code);
        Assert.Contains("extrapolated", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_batches_and_batch_one_models_are_one_line_errors()
    {
        AssertOneLineError(Run("estimate", "--batch", "0", "-m", ModelFile()), "--batch 0");
        AssertOneLineError(Run("estimate", "--batch", "4"), "--batch needs a batched runtime model");
        var single = _dir.File("single.json", RuntimeModel.Create([(128, 0.01), (512, 0.03)], 0.01).ToJson());
        AssertOneLineError(Run("estimate", "--batch", "4", "-m", single), "llmeff.batched-runtime-model");

        // Every model is read before anything is printed: a broken second file leaves no half table on stdout.
        var broken = Run("estimate", "--batch", "4", "-m", ModelFile(), _dir.File("broken.json", "{bad"));
        AssertOneLineError(broken, "broken.json", "llmeff profile torch --batch-sizes");
        Assert.Empty(broken.Out);
    }

    [Fact]
    public void Plot_batching_writes_the_figure_and_names_the_cheapest_batch()
    {
        var png = _dir.File("cost.png");
        var (code, output, _) = Run("plot", "batching", ModelFile(), "-p", "256", "--output-tokens", "32", "--accelerator", "H100-SXM", "-o", png);
        Assert.Equal(0, code);
        Assert.True(File.Exists(png));
        Assert.Contains("Batch 16", output, StringComparison.Ordinal);
        AssertOneLineError(Run("plot", "batching", ModelFile(), "--max-tpot-ms", "-1", "--accelerator", "H100-SXM", "-o", png), "--max-tpot-ms");
    }
}
