using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using LlmEff.Core.Catalog;
using LlmEff.Cli.Profiling;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Profiling.Torch;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff profile torch</c>: build a random-weight decoder from an architecture and measure its idealized runtime on
/// a GPU (or the CPU) with LlmEff.Profiling.Torch (paper §3.2, §3.4), writing the samples as they are measured and the
/// fitted model with provenance. Parsing here never touches TorchSharp; <see cref="TorchProfileRunner"/> does the run.
/// </summary>
internal static partial class ProfileTorchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var paper = ProfilingPlan.Paper;
        var arch = new Option<string?>("--arch") { Description = "Architecture name from the catalog (see 'llmeff models', e.g. meta-llama/Meta-Llama-3-8B)." };
        var archFile = new Option<FileInfo?>("--arch-file") { Description = "JSON architecture instead of --arch: name, hidden_size, layers, heads, vocabulary_size, max_context_tokens [, ffn_hidden_size, key_value_heads, ffn, norm, positions, tied_embeddings, linear_biases]." };
        var device = new Option<string>("--device") { Description = "TorchSharp device: cuda, cuda:N or cpu.", DefaultValueFactory = _ => "cuda:0" };
        var precision = new Option<string>("--precision") { Description = "Weights, activations and KV cache: bf16, fp16 or fp32.", DefaultValueFactory = _ => "bf16" };
        precision.AcceptOnlyFromAmong("bf16", "fp16", "fp32");
        var seed = new Option<long>("--seed") { Description = "Seed of the random weights and prompts.", DefaultValueFactory = _ => 0 };
        var prompts = new Option<string?>("--prompts") { Description = $"Prompt sizes, comma-separated (default the paper's {string.Join(',', paper.PromptTokens)}; for a mixture of experts also where its prompts reach 50/90/99 % of the experts, where PE bends)." };
        var outputs = new Option<string>("--outputs") { Description = "Output lengths, comma-separated; at least two.", DefaultValueFactory = _ => string.Join(',', paper.OutputTokens) };
        var trials = new Option<int>("--trials") { Description = "Timed trials per (p, o); the fit takes the minimum.", DefaultValueFactory = _ => paper.Trials };
        var warmup = new Option<int>("--warmup") { Description = "Untimed generations per prompt size before timing.", DefaultValueFactory = _ => paper.WarmupRuns };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for <model>-samples.csv (appended as measured; rerun to resume with the same model, device, seeds, --cuda-graphs, --idle-ms and --prefill-graph-max, checked against <model>-samples.setup.json), <model>-runtime-model.json and, with energy, <model>-runtime-model.energy.json.", Required = true };
        var noEnergy = new Option<bool>("--no-energy") { Description = "Do not measure GPU energy with NVML (saves the repeated energy runs)." };
        var gpus = new Option<int?>("--gpus") { Description = "Emulate a deployment over N GPUs: the largest valid tensor-parallel degree up to 8 that divides N, the rest as pipeline stages." };
        var tensorParallel = new Option<int?>("--tensor-parallel") { Description = "Tensor-parallel degree N: rank 0's shard is timed on this device and the all-reduces are modelled." };
        var stages = new Option<int?>("--pipeline-stages") { Description = "Pipeline stages S (each stage's rank-0 shard is timed)." };
        var accelerator = new Option<string>("--accelerator") { Description = "GPU whose memory sets the default layout (Core's minimum-accelerator plan) and whose link carries the collectives.", DefaultValueFactory = _ => "H100-SXM" };
        var batchSizes = new Option<string>("--batch-sizes") { Description = "Static batch sizes, comma-separated (e.g. 1,4,16): each (p, o) is also timed as a batch of b queries and <model>-batched-runtime-model.json is fitted; include 1. Energy is not measured for batches.", DefaultValueFactory = _ => "1" };
        var real = new Option<bool>("--real") { Description = "Run every tensor-parallel rank for real, one per GPU (from --device's index up) with NCCL all-reduces, instead of emulating the ranks from rank 0's shard; give the degree with --gpus or --tensor-parallel (one pipeline stage). Needs that many GPUs and NCCL." };
        var idle = new Option<double>("--idle-ms") { Description = "Idle milliseconds before each timed query or batch (0: back to back, as the paper profiled; 500 lets the GPU settle after heavy prefills, which at b = 16 lowered g by 9 % on an H100).", DefaultValueFactory = _ => 0 };
        var keep = FitWarnings.KeepOption();
        var adaptive = new Option<int?>("--adaptive") { Description = "Adaptive profiling: the planner chooses this many queries among the --prompts × --outputs candidates (give a dense list), each --trials times; the fit reports its own error estimate at the candidates not measured. One GPU, batch size 1." };
        var targetP90 = new Option<double?>("--target-p90") { Description = "With --adaptive: stop before the budget once the fit's own p90 estimate is at or below this relative error (0.02 for 2 %) and the noise of one query has been read from a repeated one." };
        var prefillGraphs = new Option<int>("--prefill-graph-max") { Description = "Replay the prefill of prompts up to this many tokens as CUDA graphs where decode steps are captured (an interpreted short prefill is bound by the host and its time swings with it); 0 interprets every prefill, as profiles measured before prefill graphs did.", DefaultValueFactory = _ => GreedyDecoder.DefaultPrefillGraphMaxTokens };
        var cudaGraphs = new Option<string>("--cuda-graphs") { Description = "Replay decode steps as CUDA graphs: auto (where the GPU and libtorch allow), off (eager, one TorchScript dispatch per op), or required (fail where unavailable).", DefaultValueFactory = _ => "auto" };
        var command = new Command("torch", "Profile a random-weight decoder built from an architecture on a GPU (or CPU) with TorchSharp: idealized runtime, live progress, resumable samples, fitted model with provenance.")
        {
            arch, archFile, device, precision, seed, prompts, outputs, trials, warmup, outDir, noEnergy, gpus, tensorParallel, stages, real, accelerator, cudaGraphs, prefillGraphs, batchSizes, idle, keep, adaptive, targetP90,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var architecture = ResolveArchitecture(parse.GetValue(arch), parse.GetValue(archFile));
            var idleMs = parse.GetValue(idle);
            if (!(idleMs >= 0) || double.IsInfinity(idleMs))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--idle-ms {idleMs}: give zero (back to back) or a positive number of milliseconds, e.g. 500."));
            }

            var prefillMax = parse.GetValue(prefillGraphs);
            if (prefillMax < 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--prefill-graph-max {prefillMax}: give 0 (interpret every prefill) or a prompt size, e.g. {GreedyDecoder.DefaultPrefillGraphMaxTokens} (the default)."));
            }

            var budget = parse.GetValue(adaptive);
            var target = ProfileCommand.TargetP90(parse.GetValue(targetP90), budget is not null);
            if (budget is < 6)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--adaptive {budget}: give at least 6 queries (the planner starts with the smallest, middle and largest prompt size at the shortest and longest output)."));
            }

            var options = new ProfileFolderOptions
            {
                Architecture = architecture,
                OutputDirectory = parse.GetValue(outDir)!.FullName,
                Plan = Plan(parse.GetValue(prompts) is { } given ? ProfileCommand.ParseList(given, "--prompts") : [.. ProfilingPlan.ForArchitecture(architecture).PromptTokens], ProfileCommand.ParseList(parse.GetValue(outputs)!, "--outputs"), parse.GetValue(trials), parse.GetValue(warmup), parse.GetValue(seed), ProfileCommand.ParseList(parse.GetValue(batchSizes)!, "--batch-sizes")),
                Profiler = new TorchProfilerOptions
                {
                    Device = ParseDevice(parse.GetValue(device)!),
                    Model = new DecoderOptions { Precision = ParsePrecision(parse.GetValue(precision)!), Seed = parse.GetValue(seed) },
                    MeasureEnergy = !parse.GetValue(noEnergy),
                    CudaGraphs = ParseCudaGraphs(parse.GetValue(cudaGraphs)!),
                    IdleBeforeEachQuery = TimeSpan.FromMilliseconds(idleMs),
                    PrefillGraphMaxTokens = prefillMax,
                },
                Parallel = ParallelLayout(architecture, parse.GetValue(gpus), parse.GetValue(tensorParallel), parse.GetValue(stages), parse.GetValue(accelerator)!, parse.GetValue(real)),
                FitOptions = RuntimeFitOptions.Default with { KeepNonPhysicalFit = parse.GetValue(keep) },
            };
            if (budget is not null)
            {
                // Checked here so that the message names the flags; the library refuses the same with its property names.
                if (options.Plan.IsBatched)
                {
                    throw new ArgumentException("--adaptive times single queries; drop --batch-sizes, or drop --adaptive to time the batches on the grid.");
                }

                if (options.Plan.PromptTokens.Count < 3)
                {
                    throw new ArgumentException("--adaptive chooses among the --prompts × --outputs candidates: give at least three prompt sizes, more for it to choose from (e.g. --prompts 1,64,128,256,384,512,768,1024,1536).");
                }

                if (options.Parallel is { } layout && (layout.TensorParallelDegree ?? 1, layout.PipelineStages ?? 1) != (1, 1))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--adaptive profiles the whole model on one GPU; the layout here is {layout.TensorParallelDegree ?? 1}-way tensor parallel over {layout.PipelineStages ?? 1} stage(s) ({architecture.Name} on {parse.GetValue(accelerator)}). Drop --adaptive to profile the layout on the grid."));
                }

                options = options with { Plan = options.Plan with { AdaptiveBudget = budget, AdaptiveTargetP90 = target } };
            }

            if (options.Profiler.CudaGraphs == CudaGraphMode.Required && options.Profiler.Device == "cpu")
            {
                throw new ArgumentException("--cuda-graphs required needs a CUDA device; use --device cuda or --cuda-graphs auto.");
            }

            if (options.Plan.CapacityTokens > architecture.MaxContextTokens)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--prompts/--outputs: the largest prompt ({options.Plan.MaxPromptTokens}) plus the longest output ({options.Plan.MaxOutputTokens}) minus 1 is {options.Plan.CapacityTokens} tokens, beyond {architecture.Name}'s context of {architecture.MaxContextTokens}; use smaller sizes."));
            }

            var verbose = parse.GetValue<bool>("--verbose");
            return TorchProfileRunner.RunAsync(options, output, error, verbose, cancellationToken);
        });
        return command;
    }

    /// <summary>The architecture named by exactly one of <c>--arch</c> and <c>--arch-file</c>.</summary>
    internal static TransformerArchitecture ResolveArchitecture(string? name, FileInfo? file)
    {
        if (name is not null && file is not null)
        {
            throw new ArgumentException($"--arch '{name}' and --arch-file '{file.Name}' conflict; give one of them.");
        }

        if (file is not null)
        {
            // Core's messages name the file; the prefix names the option.
            try
            {
                return ArchitectureJson.ReadFile(file.FullName);
            }
            catch (FileNotFoundException ex)
            {
                throw new FileNotFoundException($"--arch-file: {ex.Message}", ex.FileName, ex);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"--arch-file {ex.Message}", ex);
            }
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("give the model to profile: --arch NAME (see 'llmeff models') or --arch-file FILE (a JSON architecture).");
        }

        return ArchitectureCatalog.TryGet(name, out var architecture)
            ? architecture
            : throw new KeyNotFoundException($"unknown architecture '{name}'. {NameSuggestions.Describe(name, ArchitectureCatalog.Names)} Run 'llmeff models' for the list, or pass --arch-file.");
    }

    /// <summary>
    /// The deployment to emulate: <c>--gpus N</c>, or <c>--tensor-parallel</c>/<c>--pipeline-stages</c> (either defaulting to 1),
    /// or with none of them Core's minimum-accelerator layout on <c>--accelerator</c> (1 × 1 when the model fits one GPU).
    /// </summary>
    internal static ParallelProfileOptions ParallelLayout(TransformerArchitecture architecture, int? gpus, int? tensorParallel, int? stages, string acceleratorName, bool real = false)
    {
        if (real)
        {
            return RealLayout(architecture, gpus, tensorParallel, stages, acceleratorName);
        }

        Accelerator accelerator;
        try
        {
            accelerator = Accelerators.Get(acceleratorName);
        }
        catch (KeyNotFoundException ex)
        {
            throw new KeyNotFoundException($"--accelerator: {ex.Message}", ex);
        }

        var options = new ParallelProfileOptions { Accelerator = accelerator };
        if (gpus is not null && (tensorParallel is not null || stages is not null))
        {
            throw new ArgumentException($"--gpus {gpus} conflicts with --tensor-parallel/--pipeline-stages; give the total or the layout, not both.");
        }

        if (gpus is { } total)
        {
            if (total < 1)
            {
                throw new ArgumentException($"--gpus {total}: give 1 or more GPUs.");
            }

            var valid = ModelShard.ValidTensorParallelDegrees(architecture).Where(d => d <= 8).ToArray();
            var degree = valid.Where(d => total % d == 0).DefaultIfEmpty(1).Max();
            if (total / degree > architecture.Layers)
            {
                // Refused here, naming the option, rather than by the shard's check as a pipeline-stage count the user did not give.
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--gpus {total}: {architecture.Name} splits tensor-parallel {string.Join(", ", valid)} ways, so {total} GPUs are {degree} x {total / degree} pipeline stages, more than its {architecture.Layers} layers; give N x S GPUs with N one of {string.Join(", ", valid)} and S at most {architecture.Layers} (e.g. --gpus {valid.Max()})."));
            }

            return options with { TensorParallelDegree = degree, PipelineStages = total / degree };
        }

        if (tensorParallel is null && stages is null)
        {
            return options;
        }

        var n = tensorParallel ?? 1;
        var s = stages ?? 1;
        if (!ModelShard.ValidTensorParallelDegrees(architecture).Contains(n))
        {
            throw new ArgumentException($"--tensor-parallel {n}: {architecture.Name} (heads {architecture.Heads}, key/value heads {architecture.KeyValueHeads}, FFN {architecture.RoutedFfnHiddenSize}) allows {string.Join(", ", ModelShard.ValidTensorParallelDegrees(architecture))}.");
        }

        if (s < 1 || s > architecture.Layers)
        {
            throw new ArgumentException($"--pipeline-stages {s}: give 1 to {architecture.Layers} (the model's layers).");
        }

        return options with { TensorParallelDegree = n, PipelineStages = s };
    }

    /// <summary>
    /// The layout of <c>--real</c>: one tensor-parallel degree (<c>--gpus N</c> or <c>--tensor-parallel N</c>), every rank on
    /// its own GPU, one pipeline stage.
    /// </summary>
    private static ParallelProfileOptions RealLayout(TransformerArchitecture architecture, int? gpus, int? tensorParallel, int? stages, string acceleratorName)
    {
        if (stages is > 1)
        {
            throw new ArgumentException($"--real --pipeline-stages {stages}: real runs are tensor parallel over one machine's GPUs; drop --pipeline-stages, or drop --real to emulate the pipeline.");
        }

        if (gpus is not null && tensorParallel is not null && gpus != tensorParallel)
        {
            throw new ArgumentException($"--real --gpus {gpus} --tensor-parallel {tensorParallel}: a real run uses one GPU per rank; give one of them.");
        }

        if ((gpus ?? tensorParallel) is not { } n)
        {
            throw new ArgumentException("--real needs the number of ranks: --gpus N (one rank per GPU), e.g. --real --gpus 2.");
        }

        var valid = ModelShard.ValidTensorParallelDegrees(architecture);
        if (!valid.Contains(n))
        {
            var option = gpus is not null ? "--gpus" : "--tensor-parallel";
            throw new ArgumentException($"--real {option} {n}: {architecture.Name} (heads {architecture.Heads}, key/value heads {architecture.KeyValueHeads}, FFN {architecture.RoutedFfnHiddenSize}) splits {string.Join(", ", valid)} ways, one rank per GPU.");
        }

        return ParallelLayout(architecture, null, n, 1, acceleratorName) with { Execution = ParallelExecution.Real };
    }

    private static ProfilingPlan Plan(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, int trials, int warmup, long seed, IReadOnlyList<int> batchSizes)
    {
        if (batchSizes.FirstOrDefault(b => b < 1, 1) is var badBatch && badBatch < 1)
        {
            throw new ArgumentException($"--batch-sizes: {badBatch} is not a batch size; a batch holds 1 or more queries (e.g. --batch-sizes 1,4,16).");
        }

        if (batchSizes.Distinct().Count() != batchSizes.Count || (batchSizes.Count > 1 && !batchSizes.Contains(1)))
        {
            throw new ArgumentException($"--batch-sizes {string.Join(',', batchSizes)}: give distinct sizes that include 1, e.g. --batch-sizes 1,4,16.");
        }

        if (trials is < 1 or > ProfileCommand.MaximumTrials)
        {
            throw new ArgumentException($"--trials {trials}: give 1 to {ProfileCommand.MaximumTrials} timed trials per point.");
        }

        if (warmup is < 0 or > 1000)
        {
            throw new ArgumentException($"--warmup {warmup}: give 0 to 1000 warm-up runs (2 is enough to reach steady clocks).");
        }

        if (promptTokens.FirstOrDefault(p => p < 1, 1) is var badPrompt && badPrompt < 1)
        {
            throw new ArgumentException($"--prompts: {badPrompt} is not a prompt size; every prompt needs at least 1 token.");
        }

        if (outputTokens.FirstOrDefault(o => o < 1, 1) is var badOutput && badOutput < 1)
        {
            throw new ArgumentException($"--outputs: {badOutput} is not an output length; every output needs at least 1 token.");
        }

        if (promptTokens.Distinct().Count() != promptTokens.Count || outputTokens.Distinct().Count() != outputTokens.Count)
        {
            throw new ArgumentException($"--prompts ({string.Join(',', promptTokens)}) and --outputs ({string.Join(',', outputTokens)}) must not repeat a value; use --trials for repetitions.");
        }

        if (outputTokens.Count < 2)
        {
            throw new ArgumentException($"--outputs {string.Join(',', outputTokens)}: give at least two output lengths, so every prompt size gets a line (PE and g).");
        }

        return new ProfilingPlan { PromptTokens = promptTokens, OutputTokens = outputTokens, Trials = trials, WarmupRuns = warmup, Seed = seed, BatchSizes = batchSizes }.Validate();
    }

    private static string ParseDevice(string text)
    {
        var device = text.Trim().ToLowerInvariant();
        return DevicePattern().IsMatch(device)
            ? device
            : throw new ArgumentException($"--device '{text}' is not a device; use cuda, cuda:N (e.g. cuda:0) or cpu.");
    }

    private static CudaGraphMode ParseCudaGraphs(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => CudaGraphMode.Auto,
        "off" => CudaGraphMode.Off,
        "required" => CudaGraphMode.Required,
        _ => throw new ArgumentException($"--cuda-graphs '{text}' is not a mode; use auto, off or required."),
    };

    private static ModelPrecision ParsePrecision(string text) => text switch
    {
        "fp16" => ModelPrecision.Float16,
        "fp32" => ModelPrecision.Float32,
        _ => ModelPrecision.BFloat16,
    };

    [GeneratedRegex("^(cpu|cuda(:[0-9]{1,3})?)$", RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}
