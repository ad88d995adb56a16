using LlmEff.Core.Serialization;

namespace LlmEff.Core.Tests.Serialization;

public class ProfilingSampleCsvBatchTests
{
    [Fact]
    public void BatchSize_RoundTrips_AndOldFilesReadAsBatchOne()
    {
        var samples = new[] { new ProfilingSample(128, 8, 0.5) { BatchSize = 16 }, new ProfilingSample(128, 8, 0.1) };
        using var writer = new StringWriter();
        ProfilingSampleCsv.Write(writer, samples);
        var back = ProfilingSampleCsv.Read(new StringReader(writer.ToString()));
        Assert.Equal(samples, back);

        var old = ProfilingSampleCsv.Read(new StringReader(ProfilingSampleCsv.HeaderWithoutBatchSize + "\n128,8,0.5,0,,,x\n"));
        Assert.Null(Assert.Single(old).BatchSize);
        var bad = Assert.Throws<InvalidDataException>(() => ProfilingSampleCsv.Read(new StringReader(ProfilingSampleCsv.Header + "\n128,8,0.5,,,,,0\n")));
        Assert.Contains("batch_size 0", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Appending_ToAFileWithoutTheBatchColumn_KeepsItsLayout_AndRefusesBatchedSamples()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-batch-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, ProfilingSampleCsv.HeaderWithoutBatchSize + "\n1,1,0.001,0,,,x\n");
            using (var w = ProfilingSampleCsvWriter.OpenAppend(path))
            {
                w.Write(new ProfilingSample(2, 2, 0.002));
                var ex = Assert.Throws<ArgumentException>(() => w.Write(new ProfilingSample(2, 2, 0.004) { BatchSize = 4 }));
                Assert.Contains("new file", ex.Message, StringComparison.Ordinal);
            }

            var lines = File.ReadAllLines(path);
            Assert.Equal(ProfilingSampleCsv.HeaderWithoutBatchSize, lines[0]);
            Assert.Equal(2, ProfilingSampleCsv.ReadFile(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
