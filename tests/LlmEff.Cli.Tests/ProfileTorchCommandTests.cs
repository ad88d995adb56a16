using LlmEff.Core;
using LlmEff.Core.Serialization;
using TorchSharp;
using LlmEff.Tests.Shared;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

[Collection(TimingCollection.Name)]
public class ProfileTorchCommandTests
{
    // Llama-style tiny decoder (rotary, RMSNorm, gated FFN, GQA): small enough to profile on the CPU in a second.
    private const string TinyJson = """
        {
          "name": "tiny-llama",
          "hidden_size": 64, "layers": 2, "heads": 8, "key_value_heads": 2,
          "vocabulary_size": 101, "max_context_tokens": 64, "ffn_hidden_size": 96,
          "ffn": "gated", "norm": "rmsnorm", "positions": "rotary", "linear_biases": false
        }
        """;

    [Fact]
    public void ProfileTorch_OnCpu_WritesSamplesAndModel_AndResumesWithoutRepeatingPoints()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var outDir = System.IO.Path.Combine(dir.Path, "out");
        // A 70k-parameter model on a shared CPU times mostly noise, so its fit is kept with warnings rather than refused.
        string[] args = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,2,4", "--trials", "1", "--warmup", "0", "--out", outDir, "--keep-non-physical"];

        var first = Run(args);

        Assert.True(first.Code == 0, first.Err);
        var samplesPath = System.IO.Path.Combine(outDir, "tiny-llama-samples.csv");
        var modelPath = System.IO.Path.Combine(outDir, "tiny-llama-runtime-model.json");
        var samples = ProfilingSampleCsv.ReadFile(samplesPath);
        Assert.Equal(6, samples.Count); // 2 prompt sizes x 3 output lengths x 1 trial
        Assert.Equal(
            [(1, 1), (1, 2), (1, 4), (8, 1), (8, 2), (8, 4)],
            samples.Select(s => (s.PromptTokens, s.OutputTokens)).Order().ToArray());
        Assert.All(samples, s => Assert.True(s.RuntimeSeconds > 0));
        Assert.All(samples, s => Assert.Equal("torchsharp:tiny-llama:fp32", s.Source));
        var model = RuntimeModelJson.Load(modelPath);
        Assert.Equal("tiny-llama", model.Metadata.ModelName);
        Assert.Equal(RuntimeMetric.Idealized, model.Metadata.Metric);
        Assert.False(model.Metadata.Emulated);
        Assert.Contains("Cpu", model.Metadata.Hardware, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("fp32", model.Metadata.Software, StringComparison.Ordinal);
        Assert.Equal([1.0, 8.0], model.PromptEncoding.Knots.Select(k => k.X).ToArray());
        Assert.Contains("model written to", first.Out, StringComparison.Ordinal);
        Assert.Contains("6/6 points", first.Err, StringComparison.Ordinal);
        Assert.Contains("energy: not measured", first.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(System.IO.Path.Combine(outDir, "tiny-llama-runtime-model.energy.json")));

        // Interrupted run: keep the header and the first 2 samples; the rerun measures only the 4 missing points.
        var lines = File.ReadAllLines(samplesPath);
        File.WriteAllLines(samplesPath, lines.Take(3));
        var measured = lines.Skip(1).Take(2).ToArray();

        var second = Run(args);

        Assert.True(second.Code == 0, second.Err);
        var resumed = File.ReadAllLines(samplesPath);
        Assert.Equal(7, resumed.Length);
        Assert.Equal(measured, resumed.Skip(1).Take(2).ToArray()); // the finished points were kept, not re-measured
        Assert.Equal(6, ProfilingSampleCsv.ReadFile(samplesPath).Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count());
        Assert.Contains("(2 resumed)", second.Out, StringComparison.Ordinal);

        // A complete file: nothing left to measure, the model is refitted from the file alone.
        var third = Run(args);
        Assert.True(third.Code == 0, third.Err);
        Assert.Equal(resumed, File.ReadAllLines(samplesPath));
        Assert.Contains("(6 resumed)", third.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileTorch_Adaptive_TimesThePlannersQueries_PrintsItsOwnEstimate_AndResumes()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var outDir = System.IO.Path.Combine(dir.Path, "out");
        string[] args = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,2,4,6,8,12,16", "--outputs", "1,2,4,8", "--trials", "2", "--warmup", "1", "--adaptive", "9", "--out", outDir, "--keep-non-physical"];

        var first = Run(args);

        Assert.True(first.Code == 0, first.Err);
        var samplesPath = System.IO.Path.Combine(outDir, "tiny-llama-samples.csv");
        var samples = ProfilingSampleCsv.ReadFile(samplesPath);
        Assert.Equal(18, samples.Count); // 9 queries x 2 trials
        Assert.Equal(9, samples.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count());
        Assert.Contains("18/18 points", first.Err, StringComparison.Ordinal);
        Assert.Contains("adaptive: the fit's own estimate at the 19 candidates not measured", first.Out, StringComparison.Ordinal);
        Assert.Contains("one query's noise, read from 9 repeated queries", first.Out, StringComparison.Ordinal);

        var again = Run(args);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("(18 resumed)", again.Out, StringComparison.Ordinal);
        Assert.Equal(18, ProfilingSampleCsv.ReadFile(samplesPath).Count);
    }

    [Fact]
    public void ProfileTorch_AdaptiveWithBatchesAParallelLayoutOrTooFewPrompts_FailsWithOneLineNamingTheFlag()
    {
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        string[] common = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--out", dir.Path, "--outputs", "1,8"];
        AssertOneLineError(Run([.. common, "--prompts", "1,8,16", "--adaptive", "5"]), "--adaptive 5", "at least 6");
        AssertOneLineError(Run([.. common, "--prompts", "1,8,16", "--adaptive", "8", "--batch-sizes", "1,2"]), "--adaptive times single queries", "--batch-sizes");
        AssertOneLineError(Run([.. common, "--prompts", "1,16", "--adaptive", "8"]), "--adaptive", "at least three prompt sizes");
        AssertOneLineError(Run([.. common, "--prompts", "1,8,16", "--adaptive", "8", "--tensor-parallel", "2"]), "--adaptive profiles the whole model on one GPU", "2-way");
        AssertOneLineError(Run([.. common, "--prompts", "1,8,16", "--target-p90", "0.02"]), "--target-p90", "give --adaptive N too");
        AssertOneLineError(Run([.. common, "--prompts", "1,8,16", "--adaptive", "8", "--target-p90", "2"]), "--target-p90 2", "between 0 and 1");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.csv"));
    }

    [Fact]
    public void ProfileTorch_IntoSamplesOfAnotherPrecision_FailsWithOneLine()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var outDir = System.IO.Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(System.IO.Path.Combine(outDir, "tiny-llama-samples.csv"), "prompt_tokens,output_tokens,runtime_seconds,trial,concurrency,energy_joules,source\n1,1,0.001,0,,,torchsharp:tiny-llama:bf16\n");

        var result = Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,2", "--trials", "1", "--warmup", "0", "--out", outDir);

        AssertOneLineError(result, "torchsharp:tiny-llama:bf16", "torchsharp:tiny-llama:fp32");
    }

    [Fact]
    public void ProfileTorch_BatchesOfAnEmulatedTensorParallelShard_WriteTheBatchedModel_PipelinesAreRefused()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var outDir = System.IO.Path.Combine(dir.Path, "out");

        var result = Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "2,8", "--outputs", "1,8,16", "--trials", "2", "--warmup", "1", "--tensor-parallel", "2", "--batch-sizes", "1,2,4", "--out", outDir, "--keep-non-physical");

        Assert.True(result.Code == 0, result.Err);
        var batchedPath = System.IO.Path.Combine(outDir, "tiny-llama-tp2-pp1-batched-runtime-model.json");
        Assert.Contains("batched model written to " + batchedPath, result.Out, StringComparison.Ordinal);
        var batched = LlmEff.Core.Batching.BatchedRuntimeModel.Load(batchedPath);
        Assert.Equal([1, 2, 4], batched.ProfiledBatchSizes);
        Assert.True(batched.Metadata.Emulated);
        Assert.Equal(2, batched.Metadata.AcceleratorCount);

        AssertOneLineError(
            Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "2,8", "--outputs", "1,2", "--pipeline-stages", "2", "--batch-sizes", "1,2", "--out", outDir),
            "one pipeline stage");
    }

    [Fact]
    public void ProfileTorch_CudaRequestedWithoutCuda_FailsWithOneLine()
    {
        LibTorchAvailability.Require();
        if (torch.cuda.is_available())
        {
            Assert.Skip("CUDA is available here; the error path needs a machine without it");
        }

        using var dir = new TempDir();
        var result = Run("profile", "torch", "--arch-file", dir.File("tiny.json", TinyJson), "--device", "cuda:0", "--prompts", "1,8", "--outputs", "1,2", "--out", dir.Path);

        AssertOneLineError(result, "--device cuda:0", "CUDA is not available", "--device cpu");
        Assert.False(File.Exists(System.IO.Path.Combine(dir.Path, "tiny-llama-samples.csv")));
    }

    [Fact]
    public void ProfileTorch_UnknownArchitecture_SuggestsTheClosestNames()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("profile", "torch", "--arch", "llama3-8b", "--out", dir.Path), "unknown architecture 'llama3-8b'", "Closest:", "meta-llama/Meta-Llama-3-8B");
    }

    [Theory]
    [InlineData("--prompts", "1,x", "'x' is not a non-negative integer")]
    [InlineData("--prompts", "0,8", "at least 1 token")]
    [InlineData("--prompts", "8,8", "must not repeat")]
    [InlineData("--outputs", "4", "at least two output lengths")]
    [InlineData("--outputs", "", "--outputs is empty")]
    [InlineData("--trials", "0", "--trials 0")]
    [InlineData("--warmup", "-1", "--warmup -1")]
    [InlineData("--device", "gpu0", "--device 'gpu0' is not a device")]
    [InlineData("--outputs", "1,64", "beyond tiny-llama's context of 64")]
    [InlineData("--cuda-graphs", "always", "always")]
    [InlineData("--cuda-graphs", "required", "--cuda-graphs required needs a CUDA device")]
    [InlineData("--idle-ms", "-5", "--idle-ms -5")]
    [InlineData("--prefill-graph-max", "-1", "--prefill-graph-max -1")]
    public void ProfileTorch_BadOptions_FailWithOneLineNamingTheOption(string option, string value, string fragment)
    {
        using var dir = new TempDir();
        var options = new Dictionary<string, string> { ["--arch-file"] = dir.File("tiny.json", TinyJson), ["--device"] = "cpu", ["--prompts"] = "1,8", ["--outputs"] = "1,2", ["--out"] = dir.Path };
        options[option] = value;
        var result = Run(["profile", "torch", .. options.SelectMany(o => new[] { o.Key, o.Value })]);

        AssertOneLineError(result, fragment);
    }

    [Fact]
    public void ProfileTorch_ArchAndArchFileTogether_Conflict()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("profile", "torch", "--arch", "EleutherAI/gpt-j-6b", "--arch-file", dir.File("tiny.json", TinyJson), "--out", dir.Path), "conflict");
    }

    [Fact]
    public void ProfileTorch_NoArchitecture_SaysHowToGiveOne()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("profile", "torch", "--out", dir.Path), "--arch NAME", "--arch-file FILE");
    }

    [Theory]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100}""", "max_context_tokens")]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64, "hiden": 3}""", "hiden")]
    [InlineData("""{"name": "x", "hidden_size": 60, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "not divisible by heads")]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64, "norm": "batchnorm"}""", "$.norm")]
    [InlineData("not json", "tiny.json")]
    public void ProfileTorch_BadArchitectureFile_FailsWithOneLine(string json, string fragment)
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("profile", "torch", "--arch-file", dir.File("tiny.json", json), "--device", "cpu", "--out", dir.Path), "--arch-file", fragment);
    }

    [Fact]
    public void ProfileTorch_MissingArchitectureFile_FailsWithOneLine()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("profile", "torch", "--arch-file", System.IO.Path.Combine(dir.Path, "nope.json"), "--out", dir.Path), "nope.json", "does not exist");
    }

    [Fact]
    public void ProfileTorch_WithTensorAndPipelineParallelism_TimesRankZeroShards_AndWritesAnEmulatedModel()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        // Wide enough (h = 256) and long enough (31 steps, minimum of 3 trials) that the fitted per-token time stands well
        // above the noise of a busy 2-core CI machine.
        var arch = dir.File("tiny.json", TinyJson.Replace("\"hidden_size\": 64", "\"hidden_size\": 256", StringComparison.Ordinal).Replace("\"ffn_hidden_size\": 96", "\"ffn_hidden_size\": 1024", StringComparison.Ordinal));
        var outDir = System.IO.Path.Combine(dir.Path, "out");
        string[] args = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,16,32", "--trials", "3", "--warmup", "1", "--tensor-parallel", "2", "--pipeline-stages", "2", "--out", outDir, "--keep-non-physical"];

        var result = Run(args);

        Assert.True(result.Code == 0, result.Err);
        Assert.True(File.Exists(System.IO.Path.Combine(outDir, "tiny-llama-tp2-pp2-stage0-samples.csv")));
        Assert.True(File.Exists(System.IO.Path.Combine(outDir, "tiny-llama-tp2-pp2-stage1-samples.csv")));
        var model = RuntimeModelJson.Load(System.IO.Path.Combine(outDir, "tiny-llama-tp2-pp2-runtime-model.json"));
        Assert.True(model.Metadata.Emulated);
        Assert.Equal(4, model.Metadata.AcceleratorCount);
        Assert.Contains("emulated 2x2", model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Contains("stage 1: shard g", result.Out, StringComparison.Ordinal);
        Assert.Contains("4 GPUs emulated", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileTorch_ConflictingOrInvalidParallelLayouts_FailWithOneLine()
    {
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--gpus", "4", "--tensor-parallel", "2", "--out", dir.Path), "--gpus 4 conflicts");
        // tiny-llama: 8 heads, 2 KV heads, FFN 96.
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--tensor-parallel", "3", "--out", dir.Path), "--tensor-parallel 3", "allows 1, 2, 4, 8");
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--pipeline-stages", "9", "--out", dir.Path), "--pipeline-stages 9", "1 to 2");
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--accelerator", "Z100", "--out", dir.Path), "--accelerator");
    }

    [Fact]
    public void ProfileTorch_RealWithoutADegreeOrWithABadLayout_FailsWithOneLine()
    {
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--real", "--out", dir.Path), "--real needs the number of ranks", "--gpus N");
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--real", "--gpus", "2", "--pipeline-stages", "2", "--out", dir.Path), "--pipeline-stages 2", "tensor parallel");
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--real", "--gpus", "3", "--out", dir.Path), "--real --gpus 3", "splits 1, 2, 4, 8 ways");
        AssertOneLineError(Run("profile", "torch", "--arch-file", arch, "--device", "cpu", "--real", "--gpus", "2", "--tensor-parallel", "4", "--out", dir.Path), "--gpus 2 --tensor-parallel 4", "one of them");
    }

    [Fact]
    public void ProfileTorch_RealOnMoreGpusThanThereAre_FailsWithOneLineBeforeBuilding()
    {
        LibTorchAvailability.Require();
        if (torch.cuda.device_count() >= 8)
        {
            Assert.Skip("this machine has 8 GPUs; the error path needs fewer");
        }

        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var result = Run("profile", "torch", "--arch-file", arch, "--device", "cuda:0", "--prompts", "1,8", "--outputs", "1,2", "--real", "--gpus", "8", "--out", System.IO.Path.Combine(dir.Path, "out"));
        if (torch.cuda.is_available())
        {
            AssertOneLineError(result, "Real 8-way tensor parallelism needs one GPU per rank", "cuda:0 to cuda:7", "CUDA device(s)");
        }
        else
        {
            // Without CUDA the device check comes first; the rank count is checked in ParallelProfiler's own tests.
            AssertOneLineError(result, "--device cuda:0", "CUDA is not available");
        }

        Assert.False(Directory.Exists(System.IO.Path.Combine(dir.Path, "out")) && Directory.EnumerateFiles(System.IO.Path.Combine(dir.Path, "out")).Any());
    }

    [Fact]
    public void ProfileTorch_RealRanksOnTheCpu_RunEveryShard_AndWriteARealModelThatResumes()
    {
        LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", TinyJson);
        var outDir = System.IO.Path.Combine(dir.Path, "out");
        string[] args = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,2,4", "--trials", "1", "--warmup", "0", "--real", "--gpus", "2", "--out", outDir, "--keep-non-physical"];

        var result = Run(args);

        Assert.True(result.Code == 0, result.Err);
        var samplesPath = System.IO.Path.Combine(outDir, "tiny-llama-tp2-real-samples.csv");
        var samples = ProfilingSampleCsv.ReadFile(samplesPath);
        Assert.Equal(6, samples.Count);
        Assert.All(samples, s => Assert.Equal("torchsharp:tiny-llama:fp32:tp2-real", s.Source));
        var model = RuntimeModelJson.Load(System.IO.Path.Combine(outDir, "tiny-llama-tp2-real-runtime-model.json"));
        Assert.False(model.Metadata.Emulated);
        Assert.Contains("real 2-way tensor parallel", model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Contains("a host all-reduce", model.Metadata.Notes, StringComparison.Ordinal);
        Assert.DoesNotContain("collectives not included", model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Contains("2 ranks", model.Metadata.Hardware, StringComparison.Ordinal);
        Assert.Contains("2-way tensor parallel for real", result.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(System.IO.Path.Combine(outDir, "tiny-llama-tp2-pp1-runtime-model.json")));

        // Resume: drop the last three samples; the rerun measures only those.
        var lines = File.ReadAllLines(samplesPath);
        File.WriteAllLines(samplesPath, lines.Take(4));
        var again = Run(args);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("(3 resumed)", again.Out, StringComparison.Ordinal);
        Assert.Equal(lines.Skip(1).Take(3), File.ReadAllLines(samplesPath).Skip(1).Take(3));
        Assert.Equal(6, ProfilingSampleCsv.ReadFile(samplesPath).Count);
    }

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
