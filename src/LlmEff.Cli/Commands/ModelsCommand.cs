using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlmEff.Core.Catalog;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff models</c>: the runtime profiles the tool ships, with provenance, the architectures roofline estimates cover,
/// and the models of HELM's efficiency tables when they are found (else how to provide them).
/// </summary>
internal static class ModelsCommand
{
    // Software names up to this long ("Megatron-LM", "black-box API") stay in the table; longer ones go to the legend.
    private const int ShortSoftware = 24;

    public static Command Create(TextWriter output)
    {
        var json = new Option<bool>("--json") { Description = "Write JSON instead of tables." };
        var command = new Command("models", "List the shipped runtime profiles (paper Table 3, measured profiles) with provenance, the architectures 'roofline:NAME[@ACCELERATOR]' accepts, and the models of HELM's efficiency tables ('helm:NAME') when they are found.")
        {
            json,
        };
        var helm = new HelmCliOptions();
        helm.AddTo(command, withInterpolate: false);
        command.SetAction(parse =>
        {
            var profiles = ModelCatalog.Profiles.ToList();
            var architectures = ArchitectureCatalog.All.Select(a => (Architecture: a, Gpus: DefaultGpus(a))).ToList();
            var helmOptions = helm.Read(parse);
            var helmDirectory = HelmTables.Locate(helmOptions);
            var helmProfiles = helmDirectory is null ? [] : HelmTables.Profiles(helmOptions).ToList();
            if (parse.GetValue(json))
            {
                WriteJson(output, profiles, architectures, helmDirectory, helmProfiles);
            }
            else
            {
                WriteTables(output, profiles, architectures);
                WriteHelmTable(output, helmDirectory, helmProfiles);
            }

            return 0;
        });
        return command;
    }

    private static int? DefaultGpus(TransformerArchitecture architecture)
    {
        try
        {
            return AcceleratorPlanner.MinimumAccelerators(architecture, ModelCatalog.DefaultRooflineAccelerator).AcceleratorCount;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void WriteTables(TextWriter output, List<ShippedProfile> profiles, List<(TransformerArchitecture Architecture, int? Gpus)> architectures)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine("Shipped runtime profiles (--model NAME; add --metric denoised for the Table 3 denoised rows):");
        output.WriteLine();
        // A software stack is a sentence (a pipeline-parallel profile names one per stage): the table gives each distinct
        // stack a short key and the legend below spells it out once, so that the table fits a terminal.
        var stacks = profiles.Select(p => p.Model.Metadata.Software).OfType<string>().Where(s => s.Length > ShortSoftware).Distinct(StringComparer.Ordinal).ToList();
        string StackKey(string? software) => software is null ? "-" : software.Length <= ShortSoftware ? software : "S" + (stacks.IndexOf(software) + 1).ToString(inv);
        TextTable.Write(
            output,
            ["name", "kind", "GPUs", "hardware", "software", "measured", "R²", "emulated", "source"],
            profiles.Select(p => new[]
            {
                p.Name,
                p.Kind,
                p.Model.Metadata.AcceleratorCount?.ToString(inv) ?? "-",
                p.Model.Metadata.Hardware ?? "-",
                StackKey(p.Model.Metadata.Software),
                p.Model.Metadata.MeasuredUtc?.ToString("yyyy-MM", inv) ?? "-",
                p.Model.IsFitted && double.IsFinite(p.Model.RSquared) ? p.Model.RSquared.ToString("F4", inv) : "-",
                p.Model.Metadata.Emulated ? "yes" : "no",
                p.Model.Metadata.Source ?? "-",
            }).ToList(),
            leftAlignedColumns: 9);
        if (stacks.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("software:");
        }

        for (var i = 0; i < stacks.Count; i++)
        {
            output.WriteLine($"  S{(i + 1).ToString(inv)}: {stacks[i]}");
        }

        if (ModelCatalog.MeasuredProfiles.Count == 0)
        {
            output.WriteLine("(no measured profiles are embedded in this build; fit your own with 'llmeff fit samples.csv -o model.json' and pass the file)");
        }

        output.WriteLine();
        output.WriteLine("Roofline estimates (--model roofline:NAME[@ACCELERATOR], default A100-80GB on the fewest GPUs that hold the model; no profiling, an optimistic bound):");
        output.WriteLine();
        TextTable.Write(
            output,
            ["name", "parameters (B)", "layers", "hidden", "GPUs on A100-80GB"],
            architectures.Select(a => new[]
            {
                ModelCatalog.RooflinePrefix + a.Architecture.Name,
                (a.Architecture.ParameterCount / 1e9).ToString("F1", inv),
                a.Architecture.Layers.ToString(inv),
                a.Architecture.HiddenSize.ToString(inv),
                a.Gpus?.ToString(inv) ?? "does not fit",
            }).ToList());
        output.WriteLine();
        output.WriteLine("Accelerators: " + string.Join(", ", Accelerators.All.Select(a => a.Name)) + ".");
    }

    // HELM's tables are third-party data read at run time, so this section lists what was found or says how to provide it.
    private static void WriteHelmTable(TextWriter output, string? directory, List<ShippedProfile> helmProfiles)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine();
        if (directory is null)
        {
            output.WriteLine($"HELM efficiency tables (--model helm:NAME, helm-denoised:NAME): not found; {HelmTables.HowToProvide}.");
            return;
        }

        output.WriteLine($"HELM efficiency tables from {directory} (--model helm:NAME for the idealized table, helm-denoised:NAME for the denoised one; GPUs from the paper's Table 1 where it profiled the model):");
        output.WriteLine();
        TextTable.Write(
            output,
            ["name", "kind", "hardware", "GPUs", "PE(512) s", "g s/token", "overhead s"],
            helmProfiles.Select(p => new[]
            {
                p.Name,
                p.Kind,
                p.Model.Metadata.Hardware ?? "-",
                p.Model.Metadata.AcceleratorCount?.ToString(inv) ?? "-",
                p.Model.PromptEncodingSeconds(512).ToString("F3", inv),
                p.Model.PerOutputTokenSeconds.ToString("F3", inv),
                p.Model.OverheadSeconds.ToString("F3", inv),
            }).ToList(),
            leftAlignedColumns: 3);
    }

    private static void WriteJson(TextWriter output, List<ShippedProfile> profiles, List<(TransformerArchitecture Architecture, int? Gpus)> architectures, string? helmDirectory, List<ShippedProfile> helmProfiles)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("profiles");
            foreach (var p in profiles)
            {
                var m = p.Model.Metadata;
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("kind", p.Kind);
                w.WriteString("model_name", m.ModelName);
                w.WriteBoolean("measured_energy", p.Energy is not null);
                w.WriteString("metric", m.Metric.ToString().ToLowerInvariant());
                WriteOptional(w, "accelerator_count", m.AcceleratorCount);
                w.WriteString("hardware", m.Hardware);
                w.WriteString("software", m.Software);
                w.WriteString("source", m.Source);
                if (m.MeasuredUtc is { } when)
                {
                    w.WriteString("measured_utc", when);
                }

                // A composed (multi-stage or tensor-parallel) model keeps its samples' aggregation but has no R² of its own.
                if (p.Model.IsFitted && double.IsFinite(p.Model.RSquared))
                {
                    w.WriteNumber("r_squared", p.Model.RSquared);
                }

                w.WriteBoolean("emulated", m.Emulated);
                w.WriteNumber("per_output_token_seconds", p.Model.PerOutputTokenSeconds);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("roofline_architectures");
            foreach (var (a, gpus) in architectures)
            {
                w.WriteStartObject();
                w.WriteString("name", ModelCatalog.RooflinePrefix + a.Name);
                w.WriteNumber("parameter_count", a.ParameterCount);
                WriteOptional(w, "a100_80gb_count", gpus);
                w.WriteString("source", a.Source);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("helm_tables", helmDirectory);
            if (helmDirectory is null)
            {
                w.WriteString("helm_tables_hint", HelmTables.HowToProvide);
            }

            w.WriteStartArray("helm_models");
            foreach (var p in helmProfiles)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("kind", p.Kind);
                w.WriteString("metric", p.Model.Metadata.Metric.ToString().ToLowerInvariant());
                WriteOptional(w, "accelerator_count", p.Model.Metadata.AcceleratorCount);
                w.WriteString("hardware", p.Model.Metadata.Hardware);
                w.WriteString("source", p.Model.Metadata.Source);
                w.WriteNumber("prompt_encoding_512_seconds", p.Model.PromptEncodingSeconds(512)); // the text table's PE(512) column
                w.WriteNumber("per_output_token_seconds", p.Model.PerOutputTokenSeconds);
                w.WriteNumber("overhead_seconds", p.Model.OverheadSeconds);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("accelerators");
            foreach (var a in Accelerators.All)
            {
                w.WriteStringValue(a.Name);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }
}
