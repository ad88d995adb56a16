using LlmEff.Core;
using LlmEff.Core.Batching;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public sealed class BatchedEstimateChecksTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Estimate_with_a_batch_refuses_queries_beyond_the_models_context_like_estimate_without_one()
    {
        var meta = new RuntimeModelMetadata { ModelName = "meta-llama/Meta-Llama-3-8B", AcceleratorCount = 1 };
        var single = RuntimeModel.Create([(128, 0.01), (2048, 0.2)], 0.01, 0, meta);
        var batched = BatchedRuntimeModel.Create(
        [
            new(1, single),
            new(8, RuntimeModel.Create([(128, 0.03), (2048, 1.2)], 0.012)),
        ], meta);
        // 9,000 + 64 - 1 tokens of context: beyond Llama-3-8B's 8,192.
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n9000,64\n");

        var plain = Run("estimate", "-m", _dir.File("single.json", single.ToJson()), "-w", workload);
        Assert.Equal(1, plain.Code);
        Assert.Contains("beyond meta-llama/Meta-Llama-3-8B's 8192", plain.Err, StringComparison.Ordinal);

        // Actual: exit 0 and a table of latencies and costs for queries the model cannot run.
        var withBatch = Run("estimate", "--batch", "4", "-m", _dir.File("batched.json", batched.ToJson()), "-w", workload, "--accelerator", "H100-SXM");
        Assert.Equal(1, withBatch.Code);
        Assert.Contains("8192", withBatch.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_with_a_batch_marks_cost_priced_on_an_assumed_single_gpu_like_estimate_without_one()
    {
        // No accelerator_count recorded: the plain estimate prints "1*" and a footnote; the batched one prints a bare "1".
        var single = RuntimeModel.Create([(128, 0.01), (2048, 0.2)], 0.01, 0, new RuntimeModelMetadata { ModelName = "big" });
        var batched = BatchedRuntimeModel.Create(
        [
            new(1, single),
            new(8, RuntimeModel.Create([(128, 0.03), (2048, 1.2)], 0.012)),
        ], new RuntimeModelMetadata { ModelName = "big" });
        var workload = _dir.File("w.csv", "prompt_tokens,output_tokens\n256,32\n");

        var plain = Run("estimate", "-m", _dir.File("single.json", single.ToJson()), "-w", workload, "--accelerator", "H100-SXM");
        Assert.Equal(0, plain.Code);
        Assert.Contains("1*", plain.Out, StringComparison.Ordinal);

        var withBatch = Run("estimate", "--batch", "4", "-m", _dir.File("batched.json", batched.ToJson()), "-w", workload, "--accelerator", "H100-SXM");
        Assert.Equal(0, withBatch.Code);
        Assert.Contains("1*", withBatch.Out, StringComparison.Ordinal);
    }
}
