using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Architecture;

public class ArchitectureJsonTests
{
    [Fact]
    public void Parse_SnakeCaseWithDefaults()
    {
        var a = ArchitectureJson.Parse(ArchitectureJson.Example);
        Assert.Equal("tiny", a.Name);
        Assert.Equal(64, a.HiddenSize);
        Assert.Equal(2, a.Layers);
        Assert.Equal(8, a.Heads);
        Assert.Equal(1000, a.VocabularySize);
        Assert.Equal(2048, a.MaxContextTokens);
        Assert.Equal(4 * 64, a.FfnHiddenSize);
        Assert.Equal(8, a.KeyValueHeads);
        Assert.Equal(FfnKind.Standard, a.Ffn);
    }

    [Fact]
    public void Parse_CSharpNamesAnyCase_EnumsByName_CommentsAndTrailingCommas()
    {
        var a = ArchitectureJson.Parse("""
            {
              // a Llama-like toy
              "Name": "toy", "HIDDENSIZE": 64, "layers": 2, "heads": 8, "vocabulary_size": 97, "MaxContextTokens": 128,
              "key_value_heads": 2, "ffn_hidden_size": 96, "ffn": "gated", "norm": "RMSNORM", "positions": "rotary",
              "tied_embeddings": true, "linear_biases": false,
            }
            """);
        Assert.Equal(2, a.KeyValueHeads);
        Assert.Equal(96, a.FfnHiddenSize);
        Assert.Equal(FfnKind.Gated, a.Ffn);
        Assert.Equal(NormKind.RmsNorm, a.Norm);
        Assert.Equal(PositionalScheme.Rotary, a.Positions);
        Assert.True(a.TiedEmbeddings);
        Assert.False(a.LinearBiases);
    }

    [Fact]
    public void RoundTrip_EveryCatalogArchitecture()
    {
        foreach (var a in ArchitectureCatalog.All)
        {
            var back = ArchitectureJson.Parse(ArchitectureJson.Serialize(a));
            Assert.Equal(ArchitectureJson.Serialize(a), ArchitectureJson.Serialize(back));
            Assert.Equal(a.ParameterCount, back.ParameterCount);
        }
    }

    [Theory]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100}""", "max_context_tokens")]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64, "hiden": 3}""", "$.hiden")]
    [InlineData("""{"name": "x", "hidden_size": 60, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "not divisible by heads")]
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64, "norm": "batchnorm"}""", "$.norm")]
    [InlineData("""{"name": "x", "hidden_size": "big", "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "$.hidden_size")]
    [InlineData("""{"name": "x", "hidden_size": null, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "$.hidden_size")]
    [InlineData("""{"name": " ", "hidden_size": 64, "layers": 2, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "non-empty name")]
    // A count the architecture refuses is named by its JSON key, not the record's property name.
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 0, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "$.layers: ")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("not json", "Not valid JSON")]
    // One property twice, in the same or another spelling: the last would win without a word.
    [InlineData("""{"name": "x", "hidden_size": 64, "layers": 2, "Layers": 200, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}""", "twice")]
    // A syntax error keeps its own position (the duplicate check once reported it shifted by the underscores before it).
    [InlineData("""{"name": "tiny", "hidden_size": 64, "max_context_tokens": 2048, "vocabulary_size": 1000 "layers": 2, "heads": 8}""", "BytePositionInLine: 88")]
    public void Parse_BadInput_SaysWhatIsWrong(string json, string fragment)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ArchitectureJson.Parse(json));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ACountOutOfRange_IsOneLineNamingTheKey()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ArchitectureJson.Parse("""{"name": "x", "hidden_size": 64, "layers": 0, "heads": 8, "vocabulary_size": 100, "max_context_tokens": 64}"""));
        Assert.StartsWith("$.layers: ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void ReadFile_NamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-arch-{Guid.NewGuid():N}.json");
        Assert.Throws<FileNotFoundException>(() => ArchitectureJson.ReadFile(path));
        File.WriteAllText(path, "{}");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => ArchitectureJson.ReadFile(path));
            Assert.StartsWith($"'{path}'", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
