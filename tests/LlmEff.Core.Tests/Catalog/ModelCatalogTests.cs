using LlmEff.Core.Catalog;
using LlmEff.Core.Hardware;
using LlmEff.Core.Reference;
using LlmEff.Core.Serialization;
using LlmEff.Tests.Shared;

namespace LlmEff.Core.Tests.Catalog;

public class ModelCatalogTests
{
    [Fact]
    public void Profiles_ListTable3AndEveryEmbeddedMeasuredProfileWithProvenance()
    {
        var profiles = ModelCatalog.Profiles;

        Assert.Equal(PaperTable3.All.Count, profiles.Count(p => p.Kind.StartsWith("table3-", StringComparison.Ordinal)));
        var measured = profiles.Where(p => p.Kind.StartsWith("measured", StringComparison.Ordinal)).ToArray();
        // Two single-model H100 runs, one with energy, the ten Table 1 models and two mixtures (catalog/Profiles/README.md).
        Assert.Equal(15, measured.Length);
        Assert.All(measured, p =>
        {
            Assert.StartsWith("NVIDIA H100 80GB HBM3", p.Hardware, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(p.Software));
            Assert.False(string.IsNullOrWhiteSpace(p.Source));
            Assert.NotNull(p.MeasuredUtc);
            Assert.Equal(RuntimeMetric.Idealized, p.Metadata.Metric);
        });
        Assert.Equal("measured-emulated", measured.Single(p => p.Name == "table1-openai-davinci-h100-tp8").Kind);
        Assert.Equal("measured-emulated", measured.Single(p => p.Name == "moe-mixtral-8x7b-h100-tp2").Kind);
        Assert.Equal("Qwen/Qwen3-30B-A3B", measured.Single(p => p.Name == "moe-qwen3-30b-a3b-h100-bf16").Metadata.ModelName);
        var energy = measured.Single(p => p.Name == "gptj-h100-bf16-energy").Energy;
        Assert.NotNull(energy);
        Assert.True(energy.PerOutputTokenJoules > 0);
        Assert.Same(energy, ModelCatalog.ResolveEnergy("GPTJ-H100-BF16-ENERGY"));
        Assert.True(measured.Single(p => p.Name == "llama3-8b-h100-bf16").Energy!.PerOutputTokenJoules > 0);
        Assert.Null(measured.Single(p => p.Name == "table1-openai-davinci-h100-tp8").Energy);
        Assert.Null(ModelCatalog.ResolveEnergy("OpenAI/davinci"));
        Assert.DoesNotContain(profiles, p => p.Name.EndsWith(".energy", StringComparison.Ordinal));
    }

    [Fact]
    public void GetProfile_MeasuredAndTable3_IgnoringCase()
    {
        var llama = ModelCatalog.GetProfile("LLAMA3-8B-H100-BF16");
        Assert.Equal("meta-llama/Meta-Llama-3-8B", llama.Metadata.ModelName);
        // From llama3-8b-h100-bf16.json: g = 6.157 ms/token.
        Assert.Equal(0.006157411080640783, llama.PerOutputTokenSeconds, 1e-15);

        Assert.Equal(0.081, ModelCatalog.GetProfile("openai/davinci").PerOutputTokenSeconds, 1e-12);
        Assert.Equal(0.030, ModelCatalog.GetProfile("OpenAI/davinci", RuntimeMetric.Denoised).PerOutputTokenSeconds, 1e-12);
    }

    [Fact]
    public void GetProfile_UnknownName_NamesTheClosest()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.GetProfile("llama3-8b-h100"));
        Assert.Contains("'llama3-8b-h100'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Closest: 'llama3-8b-h100-bf16'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModelCatalog.GetProfile(" "));
    }

    [Fact]
    public void Resolve_Table3AndMeasuredNames()
    {
        var jumbo = ModelCatalog.Resolve("ai21/j1-jumbo v1");
        Assert.Equal("AI21/J1-Jumbo v1", jumbo.Name);
        Assert.Equal(0.064, jumbo.Model.PerOutputTokenSeconds, 1e-12);
        Assert.Equal(0.042, ModelCatalog.Resolve("AI21/J1-Jumbo v1", RuntimeMetric.Denoised).Model.PerOutputTokenSeconds, 1e-12);

        var gptj = ModelCatalog.Resolve("gptj-6b-h100-bf16", RuntimeMetric.Denoised);
        Assert.Equal("gptj-6b-h100-bf16", gptj.Name);
        Assert.Same(ModelCatalog.GetProfile("gptj-6b-h100-bf16"), gptj.Model);
    }

    [Fact]
    public void Resolve_File_ReadsItAndNamesItByFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-catalog-{Guid.NewGuid():N}.json");
        try
        {
            RuntimeModelJson.Save(PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized), path);

            var resolved = ModelCatalog.Resolve(path);

            Assert.Equal(Path.GetFileNameWithoutExtension(path), resolved.Name);
            Assert.Equal(0.081, resolved.Model.PerOutputTokenSeconds, 1e-12);
        }
        finally
        {
            File.Delete(path);
        }

        var missing = Assert.Throws<FileNotFoundException>(() => ModelCatalog.Resolve("/nonexistent/model.json"));
        Assert.Contains("/nonexistent/model.json", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Roofline_DefaultAndNamedAccelerator()
    {
        var a100 = ModelCatalog.Resolve("roofline:meta-llama/Meta-Llama-3-8B");
        Assert.Equal("roofline:meta-llama/Meta-Llama-3-8B@A100-80GB", a100.Name);

        var h100 = ModelCatalog.Resolve("ROOFLINE:meta-llama/Meta-Llama-3-8B@h100-sxm");
        Assert.Equal("roofline:meta-llama/Meta-Llama-3-8B@H100-SXM", h100.Name);
        // Same model, faster memory: the H100's decode step is shorter.
        Assert.True(h100.Model.PerOutputTokenSeconds < a100.Model.PerOutputTokenSeconds);
        Assert.Equal(Accelerators.H100_SXM, Accelerators.ForProfile(h100.Model.Metadata));
    }

    [Fact]
    public void Resolve_Roofline_PipelineStagesRunOneAfterAnother_AndAllAreCharged()
    {
        // TNLG v2 (530B) needs pipeline stages on A100-80GBs: one query passes them in turn, so its time is a
        // tensor-parallel group's over the whole model (it once was divided by every accelerator, stages included).
        var arch = LlmEff.Core.Architecture.ArchitectureCatalog.Get("Microsoft+NV/TNLG v2");
        var plan = AcceleratorPlanner.MinimumAccelerators(arch, Accelerators.A100_80GB);
        Assert.True(plan.PipelineStages > 1, plan.ToString());
        var resolved = ModelCatalog.Resolve("roofline:Microsoft+NV/TNLG v2").Model;

        Assert.Equal(plan.AcceleratorCount, resolved.Metadata.AcceleratorCount);
        var group = LlmEff.Core.Metrics.RooflineEstimator.ForwardPassSeconds(arch, Accelerators.A100_80GB, plan.TensorParallelDegree, 1, Math.Min(LlmEff.Core.Metrics.RooflineOptions.Default.GenerationContextTokens, arch.MaxContextTokens));
        Assert.Equal(group, resolved.PerOutputTokenSeconds, 1e-12);
        Assert.Contains("pipeline stages", resolved.Metadata.Notes, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Roofline_BadPartsNameTheClosest()
    {
        var arch = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Resolve("roofline:meta-llama/Llama-3-8B"));
        Assert.Contains("'meta-llama/Meta-Llama-3-8B'", arch.Message, StringComparison.Ordinal);

        var accelerator = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Resolve("roofline:meta-llama/Meta-Llama-3-8B@H100"));
        Assert.Contains("unknown accelerator 'H100'", accelerator.Message, StringComparison.Ordinal);
        Assert.Contains("'H100-SXM'", accelerator.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => ModelCatalog.Resolve("roofline:@H100-SXM"));
    }

    [Fact]
    public void Resolve_UnknownName_NamesTheClosest()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Resolve("OpenAI/davinchi", helm: new HelmTableOptions(EmptyDirectory())));
        Assert.Contains("unknown model 'OpenAI/davinchi'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'OpenAI/davinci'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModelCatalog.Resolve(""));
    }

    [Fact]
    public void Resolve_Helm_ReadsBothTablesWithTable1Counts()
    {
        var dir = Path.GetDirectoryName(SharedData.Require("helm/inference_idealized_runtimes.json"))!;
        var options = new HelmTableOptions(dir);
        var table = HelmEfficiencyTables.ReadFile(Path.Combine(dir, HelmTables.IdealizedFile), PromptEncodingMode.HelmNextKeyScaled);

        var bloom = ModelCatalog.Resolve("helm:Together/Bloom", helm: options);
        Assert.Equal("helm:together/bloom", bloom.Name);
        Assert.Equal(table["together/bloom"].PerOutputTokenSeconds, bloom.Model.PerOutputTokenSeconds);
        Assert.Equal(8, bloom.Model.Metadata.AcceleratorCount);
        Assert.Equal(Accelerators.A100_80GB, Accelerators.ForProfile(bloom.Model.Metadata));

        var davinci = ModelCatalog.Resolve("helm-denoised:openai/davinci", helm: options);
        Assert.Equal(RuntimeMetric.Denoised, davinci.Model.Metadata.Metric);
        Assert.True(davinci.Model.OverheadSeconds > 0);
        Assert.Null(Accelerators.ForProfile(davinci.Model.Metadata)); // an API on unknown hardware

        var profiles = HelmTables.Profiles(options);
        Assert.Equal(19 + 18, profiles.Count);
        Assert.Equal(24, profiles.Single(p => p.Name == "helm:microsoft/TNLGv2_530B").Metadata.AcceleratorCount);
        Assert.Contains("helm-denoised:openai/davinci", HelmTables.KnownNames(options));
    }

    [Fact]
    public void Resolve_Helm_UnknownNameAndMissingTables()
    {
        var dir = Path.GetDirectoryName(SharedData.Require("helm/inference_idealized_runtimes.json"))!;
        var unknown = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Resolve("helm:together/blom", helm: new HelmTableOptions(dir)));
        Assert.Contains("'helm:together/bloom'", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModelCatalog.Resolve("helm:", helm: new HelmTableOptions(dir)));

        var empty = EmptyDirectory();
        var missing = Assert.Throws<FileNotFoundException>(() => ModelCatalog.Resolve("helm:together/bloom", helm: new HelmTableOptions(empty)));
        Assert.Contains(empty, missing.Message, StringComparison.Ordinal);
        Assert.Contains(HelmTables.EnvironmentVariable, missing.Message, StringComparison.Ordinal);
        Assert.Contains("shared/data/helm/", missing.Message, StringComparison.Ordinal);
        Assert.Empty(HelmTables.KnownNames(new HelmTableOptions(empty)));
        Assert.Null(HelmTables.Locate(new HelmTableOptions(empty)));
    }

    [Fact]
    public void Table1Accelerators_CountsAndUnknowns()
    {
        Assert.Equal(24, HelmTable1Accelerators.For("microsoft/tnlgv2_530b"));
        Assert.Null(HelmTable1Accelerators.For("openai/ada"));
        Assert.Equal(10, HelmTable1Accelerators.All.Count);
    }

    [Fact]
    public void NameSuggestions_ContainedNamesFirstThenEditDistance()
    {
        Assert.Equal(["Meta-Llama-3-8B", "Llama-2-7B"], NameSuggestions.Closest("llama3-8b", ["Llama-2-7B", "Meta-Llama-3-8B"], 2));
        Assert.Equal("Closest: 'bloom'.", NameSuggestions.Describe("blom", ["bloom", "yalm-100b-long-name"], 1));
        // A slip of one character in a full name beats a short name that happens to sit inside the typed one (HELM's
        // "gpt-j-6b" inside "gptj-6b-h100-bf17").
        Assert.Equal("gptj-6b-h100-bf16", NameSuggestions.Closest("gptj-6b-h100-bf17", ["helm:gooseai/gpt-j-6b", "helm:together/gpt-j-6b", "gptj-6b-h100-bf16"], 1)[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => NameSuggestions.Closest("x", ["y"], 0));
    }

    [Fact]
    public void NameSuggestions_NamesTheTypedOneBegins_ComeBeforeAOneCharacterSlip()
    {
        // "H100" is one character from "H200" (and zeros read as O), but it begins "H100-SXM" and "H100-PCIe".
        var closest = NameSuggestions.Closest("H100", ["A100-80GB", "H200", "H100-SXM", "H100-PCIe"], 2);
        Assert.Equal(["H100-PCIe", "H100-SXM"], closest.Order(StringComparer.Ordinal));
        Assert.Equal("Closest: 'H100-SXM', 'H100-PCIe', 'H200'.", NameSuggestions.Describe("h100", ["H200", "H100-SXM", "H100-PCIe"]));
    }

    [Fact]
    public void NameSuggestions_Describe_WithoutCandidates_SaysSo()
    {
        // An empty HELM tables folder used to print "Closest: ."
        Assert.Equal("No names are known to suggest from.", NameSuggestions.Describe("openai/ada", []));
    }

    private static string EmptyDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-empty-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void Table3Name_WithAMetricItHasNoRowFor_BlamesTheMetricNotTheName()
    {
        foreach (var metric in new[] { RuntimeMetric.Unspecified, RuntimeMetric.Raw, (RuntimeMetric)99 })
        {
            var resolve = Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.Resolve("OpenAI/davinci", metric));
            Assert.Equal("metric", resolve.ParamName);
            Assert.Contains("RuntimeMetric.Idealized, RuntimeMetric.Denoised", resolve.Message, StringComparison.Ordinal);
            Assert.Equal("metric", Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.GetProfile("OpenAI/davinci", metric)).ParamName);
        }

        // Measured profiles ignore the metric, and an unknown name is still blamed on the name.
        Assert.NotNull(ModelCatalog.GetProfile(ModelCatalog.MeasuredProfiles[0].Name, RuntimeMetric.Unspecified));
        Assert.Throws<KeyNotFoundException>(() => ModelCatalog.GetProfile("OpenAI/davinchi", RuntimeMetric.Unspecified));
    }
}
