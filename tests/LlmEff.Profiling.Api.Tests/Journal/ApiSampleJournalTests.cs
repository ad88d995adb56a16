
namespace LlmEff.Profiling.Api.Tests.Journal;

public sealed class ApiSampleJournalTests
{
    private static ApiSampleRecord Record(int trial) => new()
    {
        PromptTokens = 512,
        OutputTokens = 16,
        Trial = trial,
        Concurrency = 2,
        Slot = 1,
        Stream = true,
        Status = ApiSampleStatus.Succeeded,
        RuntimeSeconds = 0.75,
        TimeToFirstTokenSeconds = 0.25,
        InterTokenGapsSeconds = [0.03, 0.0325],
        ReportedPromptTokens = 513,
        ReportedOutputTokens = 16,
        CountMismatch = true,
        FinishReason = "length",
        Attempts = [new ApiAttempt(1, EndpointFailureKind.RateLimited, 429, 0.01, 2, 2.5, "slow down"), new ApiAttempt(2, null, null, 0.75, null, null, null)],
        StartedUtc = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero),
        Endpoint = "m at http://127.0.0.1/v1/completions",
        Encoding = "cl100k_base",
    };

    [Fact]
    public void Records_RoundTrip()
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.jsonl");
        using (var journal = ApiSampleJournal.OpenAppend(path))
        {
            journal.Append(Record(0));
            journal.Append(Record(1));
        }

        var read = ApiSampleJournal.Read(path);
        Assert.Equal(2, read.Count);
        var r = read[1];
        Assert.Equal(Record(1) with { InterTokenGapsSeconds = r.InterTokenGapsSeconds, Attempts = r.Attempts }, r);
        Assert.Equal(Record(1).InterTokenGapsSeconds, r.InterTokenGapsSeconds);
        Assert.Equal(Record(1).Attempts, r.Attempts);
        Assert.Equal(new ApiRequestKey(512, 16, 1, 2, 1, true), r.Key);
        Assert.StartsWith("{\"schema\":\"llmeff.api-journal\",\"schema_version\":1}\n", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Contains("\"failure\":\"rate_limited\"", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void TornLastLine_IsIgnoredAndDroppedOnReopen()
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.jsonl");
        using (var journal = ApiSampleJournal.OpenAppend(path))
        {
            journal.Append(Record(0));
        }

        File.AppendAllText(path, "{\"prompt_tokens\":5");
        Assert.Single(ApiSampleJournal.Read(path));
        using (var journal = ApiSampleJournal.OpenAppend(path))
        {
            journal.Append(Record(1));
        }

        Assert.Equal(new[] { 0, 1 }, ApiSampleJournal.Read(path).Select(r => r.Trial));
    }

    [Fact]
    public void CorruptMiddleLine_OrForeignFile_IsRefusedWithLineAndFix()
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.jsonl");
        using (var journal = ApiSampleJournal.OpenAppend(path))
        {
            journal.Append(Record(0));
        }

        File.AppendAllText(path, "not json\n");
        var error = Assert.Throws<InvalidDataException>(() => ApiSampleJournal.Read(path));
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);

        var foreign = dir.File("samples.csv");
        File.WriteAllText(foreign, "prompt_tokens,output_tokens,runtime_seconds\n1,1,0.1\n");
        Assert.Throws<InvalidDataException>(() => ApiSampleJournal.OpenAppend(foreign));

        var future = dir.File("future.jsonl");
        File.WriteAllText(future, "{\"schema\":\"llmeff.api-journal\",\"schema_version\":2}\n");
        Assert.Contains("schema_version 2", Assert.Throws<InvalidDataException>(() => ApiSampleJournal.Read(future)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.0, 5.0, "time_to_first_token_seconds")] // first token after the end: TPOT would be negative
    [InlineData(-1.0, null, "runtime_seconds")] // was dropped from every latency without a word
    [InlineData(1e300, null, "runtime_seconds")] // printed as 300 digits
    [InlineData(1.0, -0.5, "time_to_first_token_seconds")]
    public void ImpossibleTimings_AreRefusedNamingFileLineAndField(double runtime, double? ttft, string field)
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.jsonl");
        using (var journal = ApiSampleJournal.OpenAppend(path))
        {
            journal.Append(Record(0));
            journal.Append(Record(1) with { RuntimeSeconds = runtime, TimeToFirstTokenSeconds = ttft });
        }

        var error = Assert.Throws<InvalidDataException>(() => ApiSampleJournal.Read(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains("repair that line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedOrEmptyRecords_GiveNoProfilingSample()
    {
        Assert.Null((Record(0) with { Status = ApiSampleStatus.Failed, RuntimeSeconds = null }).ToProfilingSample());
        Assert.Null((Record(0) with { ReportedOutputTokens = 0 }).ToProfilingSample());
        var sample = Record(0).ToProfilingSample()!;
        Assert.Equal((513, 16, 0.75, 2), (sample.PromptTokens, sample.OutputTokens, sample.RuntimeSeconds, sample.Concurrency!.Value));
    }

    [Fact]
    public void HeaderTornByACrash_StartsTheJournalAfresh_WithOrWithoutAHeaderToCheck()
    {
        using var dir = new TempDirectory();
        var header = new ApiJournalHeader { Model = "m", Endpoint = "e" };
        var full = System.Text.Json.JsonSerializer.Serialize(header, ApiJournalJsonContext.Default.ApiJournalHeader);
        foreach (var cut in new[] { 1, 12, 31, full.Length / 2, full.Length })
        {
            foreach (var withHeader in new[] { false, true })
            {
                var path = dir.File($"torn-{cut}-{withHeader}.jsonl");
                File.WriteAllText(path, full[..cut]); // no newline: the crash came before the header line ended
                using (var journal = withHeader ? ApiSampleJournal.OpenAppend(path, header) : ApiSampleJournal.OpenAppend(path))
                {
                    journal.Append(Record(0));
                }

                Assert.Equal(0, Assert.Single(ApiSampleJournal.Read(path)).Trial);
                if (withHeader)
                {
                    Assert.Equal("m", ApiSampleJournal.ReadHeader(path)!.Model);
                }
            }
        }
    }

    [Fact]
    public void AFileWithoutACompleteLine_ThatIsNoTornHeader_IsRefusedAndLeftAlone()
    {
        using var dir = new TempDirectory();
        var path = dir.File("notes.txt");
        File.WriteAllText(path, "my notes, no newline");

        var ex = Assert.Throws<InvalidDataException>(() => ApiSampleJournal.OpenAppend(path));

        Assert.Contains("no complete line", ex.Message, StringComparison.Ordinal);
        Assert.Equal("my notes, no newline", File.ReadAllText(path)); // once cut to nothing
    }
}
