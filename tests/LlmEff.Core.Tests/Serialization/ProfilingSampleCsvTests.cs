using LlmEff.Core.Serialization;
using LlmEff.Tests.Shared;

namespace LlmEff.Core.Tests.Serialization;

public class ProfilingSampleCsvTests
{
    [Fact]
    public void WriteThenRead_RoundTripsEveryField()
    {
        var samples = new[]
        {
            new ProfilingSample(1, 1, 0.023) { Trial = 0, Source = "h100, run \"a\"" },
            new ProfilingSample(512, 64, 1.0 / 3) { Trial = 2, Concurrency = 4, EnergyJoules = 123.456 },
        };
        var sw = new StringWriter();
        ProfilingSampleCsv.Write(sw, samples);

        Assert.StartsWith("prompt_tokens,output_tokens,runtime_seconds", sw.ToString(), StringComparison.Ordinal);
        var back = ProfilingSampleCsv.Read(new StringReader(sw.ToString()));
        Assert.Equal(samples, back);
    }

    [Fact]
    public void Read_MinimalHeaderAndExtraColumns()
    {
        var csv = "prompt_tokens,output_tokens,runtime_seconds,stddev_seconds\n1,1,0.023,0.001\n\n256,8,0.5,0.002\n";
        var back = ProfilingSampleCsv.Read(new StringReader(csv));
        Assert.Equal([new ProfilingSample(1, 1, 0.023), new ProfilingSample(256, 8, 0.5)], back);
    }

    [Theory]
    [InlineData("prompt_tokens,runtime_seconds\n1,0.1\n", "missing column 'output_tokens'")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds\n1,1,0.1\n2,x,0.1\n", "line 3, column 2 (output_tokens)")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds\n1,1,abc\n", "line 2, column 3 (runtime_seconds)")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds\n1,1\n", "line 2")]
    [InlineData("", "empty")]
    // A measured energy is positive, a trial numbered from 0, a concurrency 0 or more: the rest was dropped or kept unsaid.
    [InlineData("prompt_tokens,output_tokens,runtime_seconds,energy_joules\n1,1,0.1,-100\n", "energy_joules -100")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds,energy_joules\n1,1,0.1,NaN\n", "energy_joules NaN")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds,trial\n1,1,0.1,-1\n", "trial is numbered from 0")]
    [InlineData("prompt_tokens,output_tokens,runtime_seconds,concurrency\n1,1,0.1,-3\n", "concurrency counts")]
    public void Read_Malformed_GivesLineAndColumn(string csv, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ProfilingSampleCsv.Read(new StringReader(csv), "x.csv"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("x.csv", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_QuotedSourceWithCommaAndCrlf()
    {
        var csv = "prompt_tokens,output_tokens,runtime_seconds,source\r\n1,1,0.5,\"h100, tp2\"\r\n";
        var back = ProfilingSampleCsv.Read(new StringReader(csv), "x.csv");
        Assert.Equal([new ProfilingSample(1, 1, 0.5) { Source = "h100, tp2" }], back);
    }

    [Fact]
    public void Writer_AppendsAndResumes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-{Guid.NewGuid():N}", "samples.csv");
        try
        {
            using (var w = ProfilingSampleCsvWriter.OpenAppend(path))
            {
                w.Write(new ProfilingSample(1, 1, 0.1));
            }

            // Every row is flushed as written: readable before the writer closes.
            using (var w = ProfilingSampleCsvWriter.OpenAppend(path))
            {
                w.Write(new ProfilingSample(1, 2, 0.2));
                Assert.Equal(2, ReadShared(path).Count);
            }

            var all = ProfilingSampleCsv.ReadFile(path);
            Assert.Equal([new ProfilingSample(1, 1, 0.1), new ProfilingSample(1, 2, 0.2)], all);
            Assert.Single(File.ReadAllLines(path), l => l.StartsWith("prompt_tokens", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Writer_RefusesForeignHeader()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "a,b,c\n");
            Assert.Throws<InvalidDataException>(() => ProfilingSampleCsvWriter.OpenAppend(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_SharedMegatronLog()
    {
        var samples = ProfilingSampleCsv.ReadFile(SharedData.Require("megatron/a100-gptj_6b.csv"));
        Assert.Equal(270, samples.Count);
        Assert.Equal(new ProfilingSample(1, 1, 0.023), samples[0]);
    }

    private static IReadOnlyList<ProfilingSample> ReadShared(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs);
        return ProfilingSampleCsv.Read(reader, path);
    }
}
