using LlmEff.Core.Serialization;

namespace LlmEff.Core.Tests.Serialization;

public class CsvReaderTests
{
    private static List<string[]> Records(string text)
        => new CsvReader(new StringReader(text), "t.csv").ReadAll().Select(r => r.ToArray()).ToList();

    [Fact]
    public void PlainFields_SplitOnCommas_LastFieldMayBeEmpty()
    {
        var records = Records("a,b,c\n1,,3\n4,5,\n");
        Assert.Equal([["a", "b", "c"], ["1", "", "3"], ["4", "5", ""]], records);
    }

    [Fact]
    public void QuotedField_HoldsCommasAndDoubledQuotes()
    {
        var records = Records("id,text,prompt_tokens\n1,\"Hello, world\",300\n2,\"say \"\"hi\"\", then go\",5\n3,\"\",7\n");
        Assert.Equal(["1", "Hello, world", "300"], records[1]);
        Assert.Equal(["2", "say \"hi\", then go", "5"], records[2]);
        Assert.Equal(["3", "", "7"], records[3]);
    }

    [Fact]
    public void QuotedField_HoldsLineBreaks_AndLaterLinesAreCountedRight()
    {
        var reader = new CsvReader(new StringReader("a,b\n\"one\ntwo\r\nthree\",x\n9,\"y\"\n"), "t.csv");
        var header = reader.ReadRecord()!;
        var multi = reader.ReadRecord()!;
        var after = reader.ReadRecord()!;
        Assert.Null(reader.ReadRecord());

        Assert.Equal(1, header.LineNumber);
        Assert.Equal("one\ntwo\r\nthree", multi[0]);
        Assert.Equal(2, multi.LineNumber);
        Assert.Equal(4, multi.LineOf(1));
        Assert.Equal(8, multi.CharacterOf(1));
        Assert.Equal(5, after.LineNumber);
        Assert.Equal(3, after.CharacterOf(1));
    }

    [Theory]
    [InlineData("a,b\r\n1,2\r\n")]
    [InlineData("a,b\n1,2\n")]
    [InlineData("a,b\r1,2\r")]
    [InlineData("a,b\n1,2")]
    [InlineData("\uFEFFa,b\n1,2\n")]
    [InlineData("\n  \na,b\n\n1,2\n\n")]
    public void LineEndings_ByteOrderMark_AndBlankLines(string text)
    {
        Assert.Equal([["a", "b"], ["1", "2"]], Records(text));
    }

    [Fact]
    public void ByteOrderMark_DoesNotShiftCharacterPositions()
    {
        var record = new CsvReader(new StringReader("\uFEFFab,cd\n")).ReadRecord()!;
        Assert.Equal(1, record.CharacterOf(0));
        Assert.Equal(4, record.CharacterOf(1));
    }

    [Fact]
    public void SpacesAroundAQuotedField_AreDropped_ButKeptInUnquotedOnes()
    {
        Assert.Equal([["1", "a, b", " 2 "]], Records("1, \"a, b\" , 2 \n"));
    }

    [Fact]
    public void UnterminatedQuote_NamesWhereItOpened()
    {
        var e = Assert.Throws<InvalidDataException>(() => Records("a,b\n1,\"oops\n2,3\n"));
        Assert.StartsWith("t.csv: line 2, column 2, character 3:", e.Message, StringComparison.Ordinal);
        Assert.Contains("never closed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuoteInsideUnquotedField_IsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Records("a,b\n1,5\" disk\n"));
        Assert.StartsWith("t.csv: line 2, column 2, character 4:", e.Message, StringComparison.Ordinal);
        Assert.Contains("write the quote twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextAfterClosingQuote_IsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Records("\"a\"b,c\n"));
        Assert.StartsWith("t.csv: line 1, column 1, character 4:", e.Message, StringComparison.Ordinal);
        Assert.Contains("'b' follows the closing quote", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyInput_HasNoRecords()
    {
        Assert.Empty(Records(string.Empty));
        Assert.Empty(Records("\n\r\n  \n"));
    }

    [Fact]
    public void CsvFormat_RoundTripsAwkwardFields()
    {
        string?[] fields = ["plain", "with, comma", "with \"quotes\"", "two\nlines", " edge ", "", null, "crlf\r\nx"];
        var text = new StringWriter();
        CsvFormat.WriteRow(text, fields);
        CsvFormat.WriteRow(text, ["1", "2"]);
        Assert.Equal("plain,\"with, comma\",\"with \"\"quotes\"\"\",\"two\nlines\",\" edge \",,,\"crlf\r\nx\"\n1,2\n", text.ToString());

        var back = Records(text.ToString());
        Assert.Equal(fields.Select(f => f ?? string.Empty), back[0]);
        Assert.Equal(["1", "2"], back[1]);
    }
}
