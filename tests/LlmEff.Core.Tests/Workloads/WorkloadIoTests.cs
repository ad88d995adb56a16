using LlmEff.Core.Workloads;

namespace LlmEff.Core.Tests.Workloads;

public class WorkloadIoTests
{
    [Fact]
    public void Csv_RoundTrips_AndIgnoresExtraColumns()
    {
        var text = new StringWriter();
        WorkloadCsv.Write(Workload.Sample, text);
        var back = WorkloadCsv.Read(new StringReader(text.ToString()), "sample");
        Assert.Equal(Workload.Sample.PromptTokens.ToArray(), back.PromptTokens.ToArray());
        Assert.Equal(Workload.Sample.OutputTokens.ToArray(), back.OutputTokens.ToArray());

        var reordered = WorkloadCsv.Read(new StringReader("id,output_tokens,prompt_tokens\nq1,5,100\n\nq2,1,0\n"), "w");
        Assert.Equal([100, 0], reordered.PromptTokens.ToArray());
        Assert.Equal([5, 1], reordered.OutputTokens.ToArray());
    }

    [Fact]
    public void Csv_QuotedFieldsMayHoldCommasQuotesAndLineBreaks()
    {
        var csv = "id,text,prompt_tokens,output_tokens\r\n1,\"Hello, world\",300,20\r\n2,\"a \"\"quoted\"\"\nline\",4,1\r\n";
        var w = WorkloadCsv.Read(new StringReader(csv), "w", "test.csv");
        Assert.Equal([300, 4], w.PromptTokens.ToArray());
        Assert.Equal([20, 1], w.OutputTokens.ToArray());
    }

    [Fact]
    public void Csv_UnquotedComma_IsReportedNotMisread()
    {
        var e = Assert.Throws<InvalidDataException>(() => WorkloadCsv.Read(new StringReader("id,text,prompt_tokens,output_tokens\n1,Hello, world,300,20\n"), "w", "test.csv"));
        Assert.StartsWith("test.csv: line 2, column 5: the row has 5 fields but the header has 4.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prompt_tokens,output_tokens\n10,5\n12,x\n", "line 3, column 2 (output_tokens): 'x'")]
    [InlineData("prompt_tokens,output_tokens\n-1,5\n", "line 2, column 1 (prompt_tokens): -1")]
    [InlineData("prompt_tokens,output_tokens\n10,0\n", "line 2, column 2 (output_tokens): 0")]
    [InlineData("prompt_tokens,output_tokens\n99999999999,5\n", "line 2, column 1 (prompt_tokens): 99999999999 tokens is beyond any model's context")]
    [InlineData("prompt_tokens,output_tokens\n10\n", "line 2, column 2 (output_tokens): missing")]
    [InlineData("prompt,output\n10,5\n", "line 1")]
    [InlineData("prompt_tokens,output_tokens\n", "no queries")]
    [InlineData("", "empty")]
    public void Csv_Errors_NameLineAndColumn(string csv, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => WorkloadCsv.Read(new StringReader(csv), "w", "test.csv"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("test.csv", e.Message);
    }

    [Fact]
    public void Json_RoundTrips_AndAcceptsABareArray()
    {
        var json = WorkloadJson.Serialize(Workload.Sample);
        var back = WorkloadJson.Deserialize(json);
        Assert.Equal("sample", back.Name);
        Assert.Equal(Workload.Sample.PromptTokens.ToArray(), back.PromptTokens.ToArray());
        Assert.Equal(Workload.Sample.OutputTokens.ToArray(), back.OutputTokens.ToArray());

        var bare = WorkloadJson.Deserialize("[{\"prompt_tokens\": 7, \"output_tokens\": 3, \"note\": {\"x\": 1}}]", "bare");
        Assert.Equal("bare", bare.Name);
        Assert.Equal(new WorkloadQuery(7, 3), bare[0]);
    }

    [Theory]
    [InlineData("{\"queries\": [\n  {\"prompt_tokens\": 5, \"output_tokens\": 0}\n]}", "line 2, column 41", "at least 1 token")]
    [InlineData("{\"queries\": [\n{\"prompt_tokens\": 5}]}", "line 2, column 1", "lacks \"output_tokens\"")]
    [InlineData("{\"queries\": [{\"prompt_tokens\": \"5\", \"output_tokens\": 1}]}", "line 1, column 32", "whole number")]
    [InlineData("{\"queries\": [\n{\"prompt_tokens\": 5,, }]}", "line 2", "malformed JSON")]
    [InlineData("{\"name\": \"x\"}", "no queries", "")]
    [InlineData("42", "line 1, column 1", "expected an object")]
    // A second workload pasted below the first, or stray text: refused, not dropped.
    [InlineData("{\"queries\": [{\"prompt_tokens\": 5, \"output_tokens\": 1}]}\n{\"queries\": [{\"prompt_tokens\": 9, \"output_tokens\": 9}]}", "line 2", "")]
    [InlineData("[{\"prompt_tokens\": 5, \"output_tokens\": 1}] garbage", "line 1", "")]
    [InlineData("{\"queries\": [{\"prompt_tokens\": 5, \"output_tokens\": 1}],\n\"queries\": [{\"prompt_tokens\": 1, \"output_tokens\": 1}]}", "line 2", "given twice")]
    [InlineData("{\"queries\": [{\"prompt_tokens\": 100,\n\"prompt_tokens\": 900, \"output_tokens\": 10}]}", "line 2", "given twice in one query")]
    public void Json_Errors_NameLineAndColumn(string json, string where, string what)
    {
        var e = Assert.Throws<InvalidDataException>(() => WorkloadJson.Deserialize(json, "w", "test.json"));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Files_RoundTrip()
    {
        var dir = Directory.CreateTempSubdirectory("llmeff-workload-");
        try
        {
            var csv = Path.Combine(dir.FullName, "mine.csv");
            var json = Path.Combine(dir.FullName, "mine.json");
            var w = Workload.CreateSynthetic("mine", 50, seed: 7);
            WorkloadCsv.WriteFile(w, csv);
            WorkloadJson.WriteFile(w, json);
            Assert.Equal("mine", WorkloadCsv.ReadFile(csv).Name);
            Assert.Equal(w.OutputTokens.ToArray(), WorkloadJson.ReadFile(json).OutputTokens.ToArray());
            Assert.Throws<FileNotFoundException>(() => WorkloadCsv.ReadFile(Path.Combine(dir.FullName, "none.csv")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Indexer_OutOfRange_NamesIndexAndValidRange()
    {
        var w = new Workload("w", [new WorkloadQuery(1, 1)]);
        Assert.Equal(new WorkloadQuery(1, 1), w[0]);
        foreach (var index in new[] { 5, 1, -1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => w[index]);
            Assert.Equal("index", e.ParamName);
            Assert.Contains("from 0 to 0", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CreateSynthetic_HugeCount_IsRefusedNamingCount()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Workload.CreateSynthetic("s", int.MaxValue, 1));
        Assert.Equal("count", e.ParamName);
        Assert.Contains("10,000,000", e.Message, StringComparison.Ordinal);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Workload.CreateSynthetic("s", 10_000_001, 1)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Workload.CreateSynthetic("s", 0, 1)).ParamName);
    }
}
