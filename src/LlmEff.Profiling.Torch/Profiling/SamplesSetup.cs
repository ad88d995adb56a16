using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// What the samples in a file were measured with, kept beside it in <c>{samples}.setup.json</c> so a rerun resumes only
/// samples of the same setup. The samples' source label names the model, precision and shard but not the architecture's
/// shape, the device or the seeds: without this record a same-name architecture edited between runs, or samples copied
/// from another machine, would be resumed and fitted as this run's.
/// </summary>
/// <param name="Source">The samples' source label.</param>
/// <param name="Model">The architecture's name.</param>
/// <param name="ArchitectureHash">The first 12 hex digits of the SHA-256 of the architecture's JSON (its shape, not its provenance).</param>
/// <param name="Precision">bf16, fp16 or fp32.</param>
/// <param name="Shard">The part of the model timed: <c>full</c>, <c>tpNrR:ppSsT</c>, or <c>tpN-real</c>.</param>
/// <param name="Device">The GPU's name (NVML), <c>cuda</c> where NVML does not answer, or <c>cpu</c>.</param>
/// <param name="WeightsSeed">Seed of the random weights (a mixture of experts routes by them).</param>
/// <param name="PromptSeed">Seed of the random prompts.</param>
/// <param name="Engine">
/// The measurement settings that change a runtime without changing the model: CUDA-graph mode, idle time before each query,
/// FFN width alignment and prefill graphs (<see cref="EngineOf(TorchProfilerOptions)"/>). Null when read from a setup written before it was recorded, and then
/// not compared.
/// </param>
internal sealed record SamplesSetup(string Source, string Model, string ArchitectureHash, string Precision, string Shard, string Device, long WeightsSeed, long PromptSeed, string? Engine)
{
    private const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The setup of a run of <paramref name="shard"/> of <paramref name="architecture"/> on <paramref name="device"/> (a TorchSharp device string).</summary>
    public static SamplesSetup Of(string source, TransformerArchitecture architecture, ModelPrecision precision, string shard, string device, long weightsSeed, long promptSeed, string engine)
        => new(source, architecture.Name, HashOf(architecture), precision.ShortName(), shard, DeviceName(device), weightsSeed, promptSeed, engine);

    /// <summary>
    /// The settings of <paramref name="options"/> that change measured runtimes of the same model on the same device:
    /// whether decode steps replay CUDA graphs, the idle time before each query, whether an odd FFN width is padded, and up to
    /// which prompt size prefill replays CUDA graphs (left out at 0, so setups written before prefill graphs still match it).
    /// </summary>
    public static string EngineOf(TorchProfilerOptions options) => EngineOf(options, options.Model);

    /// <summary>As <see cref="EngineOf(TorchProfilerOptions)"/> for a model built with <paramref name="model"/>'s options.</summary>
    public static string EngineOf(TorchProfilerOptions options, DecoderOptions model)
        => string.Create(CultureInfo.InvariantCulture, $"cuda graphs {options.CudaGraphs}, idle {options.IdleBeforeEachQuery.TotalSeconds:0.###} s before each query, ffn width aligned {model.AlignFfnWidth}{(options.PrefillGraphMaxTokens > 0 ? $", prefill graphs up to {options.PrefillGraphMaxTokens} tokens" : string.Empty)}");

    /// <summary>The setup file of a samples file: <c>x-samples.csv</c> → <c>x-samples.setup.json</c>.</summary>
    public static string PathFor(string samplesPath) => Stem(samplesPath) + ".setup.json";

    // The samples file's path without its .csv, to which the setup and set-aside files add their own endings.
    private static string Stem(string samplesPath)
        => samplesPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? samplesPath[..^4] : samplesPath;

    /// <summary>The shard's part of labels and setups: <c>full</c>, or <c>tpNrR:ppSsT</c>.</summary>
    public static string ShardName(ModelShard shard) => shard.IsFull
        ? "full"
        : string.Create(CultureInfo.InvariantCulture, $"tp{shard.TensorParallelDegree}r{shard.TensorParallelRank}:pp{shard.PipelineStages}s{shard.PipelineStage}");

    /// <summary>A short hash of the architecture's shape: every field of its JSON except where it was published and its published parameter count.</summary>
    public static string HashOf(TransformerArchitecture architecture)
    {
        var json = ArchitectureJson.Serialize(architecture with { Source = null, PublishedParameterCount = null });
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..12].ToLowerInvariant();
    }

    /// <summary>What identifies the hardware of a TorchSharp device string: the GPU's NVML name, <c>cuda</c> without NVML, or the device type.</summary>
    public static string DeviceName(string device)
    {
        var d = device.Trim().ToLowerInvariant();
        if (d != "cuda" && !d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            var colon = d.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? d : d[..colon];
        }

        var index = d == "cuda" ? 0 : int.TryParse(d.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 0;
        try
        {
            return NvmlGpu.TryOpen(index) is { } gpu ? gpu.Query().Name : "cuda";
        }
        catch (InvalidOperationException)
        {
            // NVML loaded but could not name the board (a driver mismatch): the device type still guards a resume.
            return "cuda";
        }
    }

    /// <summary>
    /// Checks, without changing anything, that a run of this setup may append to <paramref name="samplesPath"/>: refuses
    /// samples when the run must not resume, samples of another label, and samples recorded with another setup. Samples
    /// with no setup beside them (written before setups were recorded, or by hand) pass: <see cref="Resume"/> sets them aside.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file holds samples the run must not append to; the message says what differs and the fix.</exception>
    public void CheckResumable(string samplesPath, bool resume)
    {
        var samples = ProfilingSampleCsvWriter.ReadForResume(samplesPath);
        if (samples.Count == 0)
        {
            return;
        }

        if (!resume)
        {
            throw new InvalidOperationException($"{samplesPath} already holds samples; set ProfileFolderOptions.Resume = true to continue that run, or choose another output folder.");
        }

        Check(samplesPath, samples);
    }

    /// <summary>
    /// The samples of <paramref name="samplesPath"/> to resume, after <see cref="CheckResumable"/>'s checks. Samples with no
    /// setup recorded cannot be told from another device's or another shape's, so they are moved to
    /// <c>{samples}.unverified.csv</c> (kept, not resumed) and the run starts afresh. Records this setup beside the file.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file holds samples of another label or setup.</exception>
    public IReadOnlyList<ProfilingSample> Resume(string samplesPath, ILogger logger)
    {
        var samples = ProfilingSampleCsvWriter.ReadForResume(samplesPath);
        var setupPath = PathFor(samplesPath);
        if (samples.Count > 0 && Check(samplesPath, samples) is null)
        {
            var aside = UnusedPath(Stem(samplesPath) + ".unverified", ".csv");
            File.Move(samplesPath, aside);
            logger.LogWarning(
                "{Path} held {Count} samples with no record of the setup they were measured with ({Setup} is missing), so they may be of another device or architecture shape; moved them to {Aside} and measuring afresh",
                samplesPath, samples.Count, Path.GetFileName(setupPath), aside);
            samples = [];
        }

        Write(setupPath);
        return samples;
    }

    /// <summary>The differences from <paramref name="recorded"/>, each as "what (recorded vs this run's)"; empty when the setups match.</summary>
    public IReadOnlyList<string> DifferencesFrom(SamplesSetup recorded)
    {
        var differences = new List<string>();
        Add("source label", recorded.Source, Source);
        Add("model", recorded.Model, Model);
        Add("architecture shape (hash of its layers, widths, heads, vocabulary, context and kinds)", recorded.ArchitectureHash, ArchitectureHash);
        Add("precision", recorded.Precision, Precision);
        Add("shard", recorded.Shard, Shard);
        Add("device", recorded.Device, Device);
        Add("weights seed", recorded.WeightsSeed.ToString(CultureInfo.InvariantCulture), WeightsSeed.ToString(CultureInfo.InvariantCulture));
        Add("prompt seed", recorded.PromptSeed.ToString(CultureInfo.InvariantCulture), PromptSeed.ToString(CultureInfo.InvariantCulture));
        if (recorded.Engine is not null && Engine is not null)
        {
            Add("measurement settings", recorded.Engine, Engine);
        }

        return differences;

        void Add(string what, string then, string now)
        {
            if (!string.Equals(then, now, StringComparison.Ordinal))
            {
                differences.Add($"{what} '{then}' vs '{now}'");
            }
        }
    }

    /// <summary>Reads a setup file; null when there is none.</summary>
    /// <exception cref="InvalidOperationException">The file is not a setup this version reads.</exception>
    public static SamplesSetup? TryRead(string setupPath)
    {
        if (!File.Exists(setupPath))
        {
            return null;
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(setupPath))?.AsObject() ?? throw new JsonException("empty");
            return new SamplesSetup(
                Text(root, "source"),
                Text(root, "model"),
                Text(root, "architecture_sha256"),
                Text(root, "precision"),
                Text(root, "shard"),
                Text(root, "device"),
                (root["weights_seed"] ?? throw new JsonException("no weights_seed")).GetValue<long>(),
                (root["prompt_seed"] ?? throw new JsonException("no prompt_seed")).GetValue<long>(),
                root["engine"]?.GetValue<string>());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidOperationException($"{setupPath} is not a samples setup LlmEff reads ({ex.Message}); it records what the samples beside it were measured with, so the run cannot tell whether to resume them. Choose another output folder, or move both files away.", ex);
        }

        static string Text(JsonObject root, string key) => root[key]?.GetValue<string>() ?? throw new JsonException($"no {key}");
    }

    /// <summary>Writes the setup as JSON to <paramref name="setupPath"/>.</summary>
    public void Write(string setupPath)
    {
        var root = new JsonObject
        {
            ["format"] = FormatVersion,
            ["source"] = Source,
            ["model"] = Model,
            ["architecture_sha256"] = ArchitectureHash,
            ["precision"] = Precision,
            ["shard"] = Shard,
            ["device"] = Device,
            ["weights_seed"] = WeightsSeed,
            ["prompt_seed"] = PromptSeed,
        };
        if (Engine is not null)
        {
            root["engine"] = Engine;
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(setupPath));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllText(setupPath, root.ToJsonString(Indented) + "\n");
    }

    // Refuses another label or a recorded setup that differs; returns the recorded setup, or null when there is none.
    private SamplesSetup? Check(string samplesPath, IReadOnlyList<ProfilingSample> samples)
    {
        var foreign = samples.FirstOrDefault(s => s.Source != Source);
        if (foreign is not null)
        {
            throw new InvalidOperationException($"{samplesPath} holds samples of '{foreign.Source}', not '{Source}'; resume only with the same model, precision and layout, or choose another output file or folder.");
        }

        var setupPath = PathFor(samplesPath);
        var recorded = TryRead(setupPath);
        if (recorded is not null && DifferencesFrom(recorded) is { Count: > 0 } differences)
        {
            throw new InvalidOperationException(
                $"{samplesPath} holds samples of another setup: {string.Join("; ", differences)} (as recorded in {Path.GetFileName(setupPath)} vs this run's); resume only with the same architecture, device, seeds and measurement settings, or choose another output file or folder.");
        }

        return recorded;
    }

    private static string UnusedPath(string stem, string extension)
    {
        var path = stem + extension;
        for (var i = 2; File.Exists(path); i++)
        {
            path = string.Create(CultureInfo.InvariantCulture, $"{stem}-{i}{extension}");
        }

        return path;
    }
}
