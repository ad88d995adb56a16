using LlmEff.Tests.Shared;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

/// <summary>`profile torch --gpus N` whose layout cannot hold the model.</summary>
[Collection(TimingCollection.Name)]
public class ProfileTorchGpusOptionTests
{
    private const string TinyJson = """
        {
          "name": "tiny-llama",
          "hidden_size": 64, "layers": 2, "heads": 8, "key_value_heads": 2,
          "vocabulary_size": 101, "max_context_tokens": 64, "ffn_hidden_size": 96,
          "ffn": "gated", "norm": "rmsnorm", "positions": "rotary", "linear_biases": false
        }
        """;

    [Fact]
    public void Gpus_that_give_more_pipeline_stages_than_layers_fail_with_one_line_before_anything_starts()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var outDir = System.IO.Path.Combine(dir.Path, "out");

        // 3 GPUs: no tensor-parallel degree of 8 heads divides 3, so the layout is 1 x 3, but the model has 2 layers.
        var result = Run("profile", "torch", "--arch-file", dir.File("tiny.json", TinyJson), "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,2", "--trials", "1", "--warmup", "0", "--gpus", "3", "--out", outDir);

        // Like --pipeline-stages 3: one line naming the option, before the "profiling ..." header and before the folder exists.
        AssertOneLineError(result, "--gpus 3");
        Assert.DoesNotContain("(Parameter '", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }
}
