using LlmEff.Core.Serialization;

namespace LlmEff.Core.Tests.Serialization;

public class CsvTableTests
{
    private static CsvTable Read(string text) => CsvTable.Read(new StringReader(text), "t.csv", "a,b");

    [Fact]
    public void HeaderIsTrimmed_AndLookedUpIgnoringCase()
    {
        var table = Read("\n Prompt_Tokens , output_tokens\n1,2\n");
        Assert.Equal(["Prompt_Tokens", "output_tokens"], table.Header);
        Assert.Equal(2, table.HeaderLineNumber);
        Assert.Equal(0, table.IndexOf("prompt_tokens"));
        Assert.Equal(1, table.IndexOf(" OUTPUT_TOKENS"));
        Assert.Equal(-1, table.IndexOf("runtime_seconds"));
        Assert.Single(table.Rows);
        Assert.Equal("t.csv: line 3, column 2 (output_tokens)", table.Location(table.Rows[0], 1));
    }

    [Fact]
    public void Empty_SuggestsTheExpectedHeader()
    {
        var e = Assert.Throws<InvalidDataException>(() => Read("\n\n"));
        Assert.Equal("t.csv: empty; expected the header 'a,b'.", e.Message);
    }

    [Fact]
    public void ShortRow_NamesTheFirstMissingColumn()
    {
        var e = Assert.Throws<InvalidDataException>(() => Read("a,b,c\n1,2,3\n\n4\n"));
        Assert.StartsWith("t.csv: line 4, column 2 (b): missing; the row has 1 field but the header has 3.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LongRow_SuggestsQuotingTheComma()
    {
        var e = Assert.Throws<InvalidDataException>(() => Read("id,text,n\n1,Hello, world,3\n"));
        Assert.StartsWith("t.csv: line 2, column 4: the row has 4 fields but the header has 3.", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"Hello, world\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RaggedRowAfterAMultiLineField_GivesItsOwnLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => Read("a,b\n\"x\ny\",1\n2\n"));
        Assert.Contains("line 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateColumnNames_AreRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Read("model,Accuracy,accuracy\nA,1,2\n"));
        Assert.Contains("columns 2 and 3 are both named 'accuracy'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_HandlesByteOrderMarkAndCrlf_AndNamesMissingFiles()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "a,b\r\n\"1,5\",2\r\n"u8.ToArray()]);
            var table = CsvTable.ReadFile(path);
            Assert.Equal(["a", "b"], table.Header);
            Assert.Equal(["1,5", "2"], table.Rows[0]);
            Assert.Equal(path, table.SourceName);
        }
        finally
        {
            File.Delete(path);
        }

        var e = Assert.Throws<FileNotFoundException>(() => CsvTable.ReadFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_IndexOutOfRange_NamesIndexAndValidRange()
    {
        var row = CsvTable.Read(new StringReader("a,b\n1,2\n")).Rows[0];
        Assert.Equal("2", row[1]);
        Assert.Equal(2, row.LineOf(1));
        Assert.Equal(3, row.CharacterOf(1));
        var thrown = new[]
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => row[5]),
            Assert.Throws<ArgumentOutOfRangeException>(() => row[2]),
            Assert.Throws<ArgumentOutOfRangeException>(() => row.LineOf(99)),
            Assert.Throws<ArgumentOutOfRangeException>(() => row.CharacterOf(-1)),
        };
        foreach (var e in thrown)
        {
            Assert.Equal("index", e.ParamName);
            Assert.Contains("from 0 to 1", e.Message, StringComparison.Ordinal);
        }
    }
}
