using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Catalog;
using LlmEff.Core.Hardware;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>Input handling shared by several commands.</summary>
internal static partial class CliInputs
{
    /// <summary>
    /// Refuses a file that is not text (a NUL byte or invalid UTF-8 in its first 8 KB), naming <paramref name="what"/> it
    /// should have been, so a binary file gets that answer instead of a parse error quoting its bytes.
    /// </summary>
    public static void EnsureText(string path, string what)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var buffer = new byte[8192];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }

        var head = buffer.AsSpan(0, read);
        // The 8 KB may cut a multi-byte character: valid text is valid UTF-8 once up to 3 trailing bytes are dropped.
        var valid = false;
        for (var cut = 0; cut <= Math.Min(3, read) && !valid; cut++)
        {
            valid = Utf8.IsValid(head[..(read - cut)]);
        }

        if (head.Contains((byte)0) || !valid)
        {
            throw new InvalidDataException($"{path} is a binary file, not {what}; pass the text file itself (check the path and that it was not compressed or saved in another format).");
        }
    }

    /// <summary>
    /// Fits <paramref name="samples"/> read from <paramref name="file"/>; a bad sample is named by its data row in the file,
    /// and the library's option names become the command's flags.
    /// </summary>
    public static RuntimeModel Fit(FileInfo file, IReadOnlyList<ProfilingSample> samples, RuntimeFitOptions options)
    {
        try
        {
            return RuntimeModel.Fit(samples, options);
        }
        catch (ArgumentException ex) when (ex.ParamName == "samples")
        {
            var message = NameRows(LlmEffCommand.Describe(ex)).Replace("or set AllowSingleOutputLength", "or pass --allow-single-output", StringComparison.Ordinal);
            throw new ArgumentException($"{file.Name}: {message}", ex);
        }
    }

    /// <summary>Rewrites the library's <c>samples[i]</c> as <c>data row i+1</c>, the row of the CSV file the samples came from.</summary>
    public static string NameRows(string message)
        => SampleIndex().Replace(message, m => $"data row {int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1}");

    [GeneratedRegex(@"samples\[(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex SampleIndex();

    /// <summary>Reads a workload from CSV (<c>prompt_tokens,output_tokens</c>) or JSON (by extension), or returns the built-in sample.</summary>
    public static Workload ReadWorkload(FileInfo? file)
    {
        if (file is null)
        {
            return Workload.Sample;
        }

        if (!file.Exists)
        {
            throw new FileNotFoundException($"workload file '{file.FullName}' does not exist; pass a CSV (prompt_tokens,output_tokens) or JSON workload, or omit --workload for the built-in sample.", file.FullName);
        }

        EnsureText(file.FullName, "a workload CSV (prompt_tokens,output_tokens) or JSON");

        var workload = file.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? WorkloadJson.ReadFile(file.FullName) : WorkloadCsv.ReadFile(file.FullName);
        for (var i = 0; i < workload.Count; i++)
        {
            var q = workload[i];
            if (q.PromptTokens > MaximumTokens || q.OutputTokens > MaximumTokens)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{file.Name}: query {i + 1} (p = {q.PromptTokens}, o = {q.OutputTokens}) has more than {MaximumTokens:N0} tokens, beyond any model's context; check the columns hold token counts (not characters or bytes)."));
            }
        }

        return workload;
    }

    /// <summary>The most tokens a prompt or output may have on the command line or in a workload: 10 million, beyond any model's context.</summary>
    public const int MaximumTokens = 10_000_000;

    /// <summary>
    /// Refuses a workload with a query longer than the model's context (<c>p + o − 1</c> tokens), where the model names a
    /// catalogued architecture (Table 3 rows, roofline estimates, measured profiles): such a query cannot run, and the
    /// estimate would be an extrapolation of nothing measured.
    /// </summary>
    public static void CheckWorkloadFits(string name, RuntimeModel model, Workload workload) => CheckWorkloadFits(name, model.Metadata, workload);

    /// <summary>As <see cref="CheckWorkloadFits(string, RuntimeModel, Workload)"/> for the metadata of any kind of model (a batched one's too).</summary>
    public static void CheckWorkloadFits(string name, RuntimeModelMetadata metadata, Workload workload)
    {
        if (metadata.ModelName is not { } modelName || !ArchitectureCatalog.TryGet(modelName, out var architecture))
        {
            return;
        }

        var prompts = workload.PromptTokens;
        var outputs = workload.OutputTokens;
        for (var i = 0; i < workload.Count; i++)
        {
            var tokens = (long)prompts[i] + outputs[i] - 1;
            if (tokens > architecture.MaxContextTokens)
            {
                var count = 0;
                for (var j = 0; j < workload.Count; j++)
                {
                    count += (long)prompts[j] + outputs[j] - 1 > architecture.MaxContextTokens ? 1 : 0;
                }

                throw new ArgumentException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"workload '{workload.Name}': query {i + 1} (p = {prompts[i]}, o = {outputs[i]}) needs {tokens} tokens of context, beyond {architecture.Name}'s {architecture.MaxContextTokens} (model '{name}'), and {count} of {workload.Count} queries do; truncate or drop those queries, or pick a model with a longer context."));
            }
        }
    }

    /// <summary>
    /// Refuses a model that predicts 0 s for a query of the workload: a speedup, a cost or an energy of it would be nonsense.
    /// With <paramref name="unlessKept"/>, a non-physical fit kept on purpose (<c>--keep-non-physical</c>, its warnings
    /// printed by the command) passes: an estimate or a plot of it shows what the user asked to see, where a ratio of it
    /// (compare) has no value at all.
    /// </summary>
    public static void CheckPositiveRuntimes(string name, RuntimeModel model, Workload workload, bool unlessKept = false)
    {
        if (unlessKept && model.Warnings.Count > 0)
        {
            return;
        }

        var seconds = model.PredictBatch(workload.PromptTokens, workload.OutputTokens);
        var zero = Array.FindIndex(seconds, s => !(s > 0));
        if (zero >= 0)
        {
            var q = workload[zero];
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"model '{name}' predicts {seconds[zero]} s for query {zero + 1} (p = {q.PromptTokens}, o = {q.OutputTokens}), which no real query takes: no speedup, cost or energy follows from it; give the model a positive PE and g (re-fit it, or check its JSON)."));
        }
    }

    /// <summary>
    /// The accelerator a model's idealized cost and energy default to: what its metadata names
    /// (<see cref="Accelerators.ForProfile"/>); none for denoised API models, which get a cost only when the user names one
    /// or their metadata does.
    /// </summary>
    public static Accelerator? DefaultAccelerator(RuntimeModel model) => Accelerators.ForProfile(model.Metadata);

    /// <summary>Looks up a built-in accelerator, suggesting the closest names when unknown.</summary>
    public static Accelerator Accelerator(string name)
        => Accelerators.All.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new KeyNotFoundException($"unknown accelerator '{name}'. {NameSuggestions.Describe(name, Accelerators.All.Select(a => a.Name))}");
}
