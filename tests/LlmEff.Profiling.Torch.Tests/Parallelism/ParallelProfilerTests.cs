using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Parallelism;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

public sealed class ParallelProfilerTests : IDisposable
{
    private static readonly TorchProfilerOptions Cpu = new()
    {
        Device = "cpu",
        Model = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 3 },
        MeasureEnergy = false,
    };

    // Outputs up to 16 and the minimum of two trials after a warm-up keep CPU timing noise well below a decode step.
    private static readonly ProfilingPlan Plan = new() { PromptTokens = [1, 8], OutputTokens = [1, 8, 16], Trials = 2, WarmupRuns = 1 };

    // CPU timings of tiny shards are noisy: any R² and a fit that is not physical are kept (with warnings), not refused.
    private static readonly RuntimeFitOptions Lenient = new() { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true };

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-parallel-").FullName;

    [TorchFact]
    public void Stages_are_timed_as_rank_zero_shards_and_composed_with_modelled_collectives()
    {
        // 4 layers over 4 stages: stages 1 and 2 are alike, so stage 2 reuses stage 1's profile.
        // Wide enough (h = 512) that a decode step (~1 ms on a CPU) dwarfs scheduler noise, so every fitted g is positive.
        var arch = TinyArchitectures.Llama with { HiddenSize = 512, FfnHiddenSize = 2048, Layers = 4 };
        var options = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 4, FitOptions = Lenient };
        var profiler = new ParallelProfiler(Cpu, options);
        var reports = new List<ProfilingProgress>();
        var result = profiler.Run(arch, Plan, _dir, new SyncProgress<ProfilingProgress>(reports.Add), TestContext.Current.CancellationToken);

        // One count over the three measured stages, not one per stage starting again at 1.
        Assert.Equal(Enumerable.Range(1, 3 * Plan.TotalQueries), reports.Select(r => r.Completed));
        Assert.All(reports, r => Assert.Equal(3 * Plan.TotalQueries, r.Total));
        Assert.Equal(8, result.AcceleratorCount);
        Assert.Equal(4, result.StageModels.Count);
        Assert.Same(result.StageProfiles[1], result.StageProfiles[2]);
        Assert.Equal([true, false, false, false], result.StageProfiles.Select(p => p.Shard!.HasEmbedding));
        Assert.Equal([false, false, false, true], result.StageProfiles.Select(p => p.Shard!.HasHead));
        Assert.All(result.StageProfiles, p => Assert.Equal(2, p.Shard!.Shard.TensorParallelDegree));
        Assert.All(result.StageProfiles, p => Assert.All(p.Samples, s => Assert.Contains(":tp2r0:pp4s", s.Source, StringComparison.Ordinal)));
        foreach (var s in new[] { 0, 1, 3 })
        {
            Assert.True(File.Exists(Path.Combine(_dir, ProfileFiles.StageSamplesFileName(arch, 2, 4, s))));
        }

        Assert.False(File.Exists(Path.Combine(_dir, ProfileFiles.StageSamplesFileName(arch, 2, 4, 2))));

        // Each stage's g gains exactly its collectives: 2 all-reduces per layer of one token's activations over NVLink 4.
        var stage1 = result.StageProfiles[1].Fit(Lenient);
        Assert.Equal(stage1.PerOutputTokenSeconds, result.StageShardModels[1].PerOutputTokenSeconds, 15);
        var collectives = new TensorParallelCollectives(arch, 1, 2, Interconnects.NvLink4) { IncludesEmbedding = false, IncludesOutputProjection = false };
        Assert.Equal(stage1.PerOutputTokenSeconds + collectives.ForwardSeconds(1), result.StageModels[1].PerOutputTokenSeconds, 12);

        // The whole model is the stages chained with one activation transfer per boundary (Core's pipeline composition).
        var expected = ParallelComposition.ComposePipeline(result.StageModels, arch.HiddenSize, Interconnects.InfiniBandNdr);
        Assert.Equal(expected.PerOutputTokenSeconds, result.Model.PerOutputTokenSeconds, 12);
        Assert.Equal(expected.Predict(8, 4), result.Model.Predict(8, 4), 12);
        Assert.True(result.Model.Metadata.Emulated);
        Assert.Equal(8, result.Model.Metadata.AcceleratorCount);
        Assert.Equal(arch.Name, result.Model.Metadata.ModelName);
        Assert.Contains("emulated 2x4", result.Model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Contains("NVLink4", result.Model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Contains("InfiniBand-NDR", result.Model.Metadata.Notes, StringComparison.Ordinal);
        // On the CPU every stage runs the same engine: one software description, the stages'.
        Assert.Equal(result.StageProfiles[0].Software, result.Model.Metadata.Software);
        Assert.Equal(result.StageProfiles.Max(p => p.MeasuredUtc), result.Model.Metadata.MeasuredUtc);

        // The composed model round-trips through JSON with its provenance.
        var back = RuntimeModel.FromJson(result.Model.ToJson());
        Assert.True(back.Metadata.Emulated);
        Assert.Equal(result.Model.Predict(5, 3), back.Predict(5, 3), 12);

        // A rerun resumes every stage from its file: nothing is measured again.
        var again = profiler.Run(arch, Plan, _dir, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(again.StageProfiles, p => Assert.Equal(Plan.TotalQueries, p.ResumedSamples));
        Assert.Equal(result.Model.PerOutputTokenSeconds, again.Model.PerOutputTokenSeconds, 12);
    }

    [TorchFact]
    public void Stages_that_ran_differently_each_have_their_software_named()
    {
        const string plain = "decoder with CUDA-graph decode steps, bf16";
        const string fused = "decoder with CUDA-graph decode steps and NVRTC-fused norm/rotary kernels, bf16";
        Assert.Equal(plain, ParallelProfiler.ComposedSoftware([(0, plain), (1, plain)]));
        Assert.Equal($"stage 0: {plain}; stage 1: {plain}; stage 2: {fused}", ParallelProfiler.ComposedSoftware([(0, plain), (1, plain), (2, fused)]));
    }

    [TorchFact]
    public void Default_layout_is_cores_minimum_accelerator_plan()
    {
        // Table 1's davinci (175B, bf16) on 80-GB A100s: Core's planner picks the fewest GPUs whose degree divides the heads.
        var davinci = ArchitectureCatalog.PaperTable1.Single(a => a.Name == "OpenAI/davinci");
        var bf16 = Cpu with { Model = Cpu.Model with { Precision = ModelPrecision.BFloat16 } };
        var layout = new ParallelProfiler(bf16, new ParallelProfileOptions { Accelerator = Accelerators.A100_80GB }).Layout(davinci, ProfilingPlan.Paper);
        var serving = AcceleratorPlanner.MinimumAccelerators(davinci, Accelerators.A100_80GB, new ServingRequirements { ContextTokens = ProfilingPlan.Paper.CapacityTokens });
        Assert.Equal((serving.TensorParallelDegree, serving.PipelineStages), layout);
        Assert.InRange(layout.TensorParallelDegree * layout.PipelineStages, 5, 8); // 350 GB of bf16 weights over 72 usable GB per GPU

        // fp32 weights need twice the GPUs.
        var fp32 = new ParallelProfiler(Cpu, new ParallelProfileOptions { Accelerator = Accelerators.A100_80GB }).Layout(davinci, ProfilingPlan.Paper);
        Assert.True(fp32.TensorParallelDegree * fp32.PipelineStages > layout.TensorParallelDegree * layout.PipelineStages);

        // Explicit degrees win.
        var explicitLayout = new ParallelProfiler(Cpu, new ParallelProfileOptions { TensorParallelDegree = 4, PipelineStages = 2 }).Layout(davinci, ProfilingPlan.Paper);
        Assert.Equal((4, 2), explicitLayout);
    }

    [TorchFact]
    public void A_degree_that_does_not_fit_fails_before_anything_is_built()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelProfiler(Cpu, new ParallelProfileOptions { TensorParallelDegree = 3, PipelineStages = 1 })
            .Run(TinyArchitectures.Llama, Plan, _dir, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("valid degrees are 1, 2, 4, 8", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [TorchFact]
    public void A_shard_memory_estimate_is_about_one_nth_and_a_shard_that_does_not_fit_says_how_to_split_it()
    {
        var davinci = ArchitectureCatalog.PaperTable1.Single(a => a.Name == "OpenAI/davinci");
        var whole = GpuMemoryRequirement.Estimate(davinci, ModelPrecision.BFloat16, 1599, 1536);
        var shard = GpuMemoryRequirement.Estimate(davinci, ModelShard.TensorParallel(8).Resolve(davinci), ModelPrecision.BFloat16, 1599, 1536);
        Assert.InRange(shard.WeightBytes, whole.WeightBytes / 8.0, whole.WeightBytes / 8.0 * 1.01);
        Assert.Equal(whole.KvCacheBytes / 8.0, shard.KvCacheBytes, 0);

        var e = Assert.Throws<InsufficientGpuMemoryException>(() => shard.EnsureFits(20L << 30, "OpenAI/davinci (rank 0 of 8)", 80L << 30, "This shard must be split about 3 more ways"));
        Assert.Contains("split about 3 more ways", e.Message, StringComparison.Ordinal);
        Assert.Contains("20.0 GiB free", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Real_runs_check_the_layout_and_the_gpus_before_building_anything()
    {
        var arch = TinyArchitectures.Llama;
        var real = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1, Execution = ParallelExecution.Real };
        var onGpu = new ParallelProfiler(Cpu with { Device = "cuda:0" }, real);

        var tooFew = Assert.Throws<InvalidOperationException>(() => onGpu.RealDevices(arch, Plan, 2, 1, () => 1));
        Assert.Contains("needs one GPU per rank, cuda:0 to cuda:1, but this process sees 1 CUDA device(s)", tooFew.Message, StringComparison.Ordinal);
        var offset = Assert.Throws<InvalidOperationException>(() => new ParallelProfiler(Cpu with { Device = "cuda:1" }, real).RealDevices(arch, Plan, 2, 1, () => 2));
        Assert.Contains("cuda:1 to cuda:2", offset.Message, StringComparison.Ordinal);
        Assert.Equal(["cuda:0", "cuda:1"], onGpu.RealDevices(arch, Plan, 2, 1, () => 4));
        Assert.Equal(["cpu", "cpu"], new ParallelProfiler(Cpu, real).RealDevices(arch, Plan, 2, 1, () => 0));

        var stages = Assert.Throws<ArgumentException>(() => onGpu.RealDevices(arch, Plan, 2, 2, () => 4));
        Assert.Contains("2 pipeline stages", stages.Message, StringComparison.Ordinal);
        var moe = Assert.Throws<ArgumentException>(() => onGpu.RealDevices(arch with { Experts = 4, ExpertsPerToken = 2 }, Plan, 2, 1, () => 4));
        Assert.Contains("mixture of experts", moe.Message, StringComparison.Ordinal);
        var batched = Assert.Throws<ArgumentException>(() => onGpu.RealDevices(arch, Plan with { BatchSizes = [1, 4] }, 2, 1, () => 4));
        Assert.Contains("single queries", batched.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Real_ranks_on_the_cpu_all_run_and_the_model_says_so()
    {
        var arch = TinyArchitectures.Llama with { HiddenSize = 256, FfnHiddenSize = 1024 };
        var options = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1, FitOptions = Lenient, Execution = ParallelExecution.Real };
        var result = new ParallelProfiler(Cpu, options).Run(arch, Plan, _dir, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ParallelExecution.Real, result.Execution);
        Assert.Equal(2, result.TensorParallelDegree);
        var samples = result.StageProfiles.Single().Samples;
        Assert.Equal(Plan.Points().Count(), samples.Count);
        Assert.All(samples, s => Assert.EndsWith(":tp2-real", s.Source, StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(_dir, ProfileFiles.RealSamplesFileName(arch, 2))));
        // No modelled collectives: the model is the fit of what ran.
        Assert.Equal(result.StageShardModels[0].PerOutputTokenSeconds, result.Model.PerOutputTokenSeconds);
        Assert.False(result.Model.Metadata.Emulated);
        Assert.Contains("real 2-way tensor parallel", result.Model.Metadata.Notes, StringComparison.Ordinal);
        Assert.Null(result.StageProfiles[0].Shard);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
