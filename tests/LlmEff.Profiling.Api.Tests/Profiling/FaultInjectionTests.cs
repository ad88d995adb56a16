using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>
/// The fault-injecting emulator against the whole profiler: every planned request ends in the journal exactly once,
/// as a sample, a suspect answer with its reason, or a failure with its reason; nothing untrustworthy is fitted; the
/// key and URL credentials appear nowhere. Timeouts and waits run on a <see cref="TestClock"/>.
/// </summary>
public sealed class FaultInjectionTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0.00001, PerOutputTokenSeconds = 0.0005, NoiseMeanSeconds = 0 };

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Every kind once per 2 × |kinds| requests: half the requests get a fault.
    private static readonly EmulatedFault[] Kinds =
    [
        new(EmulatedFaultKind.RateLimited, 0.2),
        new(EmulatedFaultKind.RateLimitedNoRetryAfter),
        new(EmulatedFaultKind.ServerError),
        new(EmulatedFaultKind.ServiceUnavailable),
        new(EmulatedFaultKind.DropConnection),
        new(EmulatedFaultKind.DropMidStream),
        new(EmulatedFaultKind.MalformedJson),
        new(EmulatedFaultKind.MalformedSse),
        new(EmulatedFaultKind.Slow, 0.02),
        new(EmulatedFaultKind.Hang),
        new(EmulatedFaultKind.ShortStream),
        new(EmulatedFaultKind.WrongPromptUsage, 7),
        new(EmulatedFaultKind.WrongOutputUsage),
        new(EmulatedFaultKind.NoUsage),
        new(EmulatedFaultKind.EchoAuthorization),
    ];

    // A fixed schedule: a seeded coin decides which requests get a fault (half of them), and the faulty ones cycle
    // through every kind, so each kind occurs within the first 2 × |kinds| requests or so.
    private static readonly EmulatedFault?[] Schedule = BuildSchedule(4096);

    internal static EmulatedFault? HalfFaulty(int n) => n < Schedule.Length ? Schedule[n] : null;

    private static EmulatedFault?[] BuildSchedule(int length)
    {
        var coin = new Random(20260101);
        var schedule = new EmulatedFault?[length];
        var next = 0;
        for (var n = 0; n < length; n++)
        {
            schedule[n] = coin.Next(2) == 0 ? Kinds[next++ % Kinds.Length] : null;
        }

        return schedule;
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HalfTheRequestsFaulty_EveryConfigurationEndsRecordedExactlyOnce_AndNothingUntrustworthyIsFitted(bool stream)
    {
        var variable = "LLMEFF_TEST_KEY_" + Guid.NewGuid().ToString("N");
        var key = "sk-test-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, key);
        try
        {
            await using var emulator = await OpenAiEmulator.StartAsync(Fast, apiKey: key);
            emulator.Faults = HalfFaulty;
            var clock = new TestClock(TimeSpan.FromSeconds(10));
            emulator.OnHang = _ => Task.Run(() => clock.Advance(Timeout));
            using var endpoint = Harness.Endpoint(emulator, o => o with { ApiKeyEnvironmentVariable = variable });
            using var dir = new TempDirectory();
            var logger = new ListLogger<ApiProfiler>();
            var options = new ApiProfilingOptions
            {
                JournalPath = dir.File("j.jsonl"),
                PromptTokens = [16, 32, 64],
                OutputTokens = [2, 4, 8],
                Trials = 4,
                Stream = stream,
                RequestTimeout = Timeout,
                Retry = Harness.FastRetry with { MaxAttempts = 2 }, // few enough that some requests fail for good
                TimeProvider = clock,
            };

            var result = await new ApiProfiler(endpoint, Harness.Cl100k, options, logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
            var report = DenoisedRuntimeAnalysis.Analyze(result.Records, logger: logger);

            // Exactly once: every planned request, no other, none twice.
            var planned = (from t in Enumerable.Range(0, 4) from p in options.PromptTokens from o in options.OutputTokens select new ApiRequestKey(p, o, t, 1, 0, stream)).ToHashSet();
            Assert.Equal(planned.Count, result.Records.Count);
            Assert.True(planned.SetEquals(result.Records.Select(r => r.Key)));
            Assert.Equal(emulator.ReceivedCount, result.Records.Sum(r => r.Attempts.Count));
            Assert.Equal(emulator.ReceivedCount, result.AttemptsThisRun);

            // Each outcome carries its reason.
            Assert.True(result.Failed > 0, "the schedule must make some requests fail for good");
            Assert.All(result.Records.Where(r => r.Status == ApiSampleStatus.Failed), r =>
            {
                Assert.NotNull(r.Attempts[^1].Failure);
                Assert.False(string.IsNullOrWhiteSpace(r.Attempts[^1].Message));
            });
            Assert.All(result.Records.Where(r => r.Status == ApiSampleStatus.Suspect), r => Assert.False(string.IsNullOrWhiteSpace(r.Issue)));

            // Answers that could not vouch for their counts: journaled suspect, one per completed request of such a kind.
            var answered = emulator.Requests.Where(q => q.Completed).ToArray();
            var untrusted = new HashSet<EmulatedFaultKind> { EmulatedFaultKind.WrongOutputUsage, EmulatedFaultKind.NoUsage };
            if (stream)
            {
                untrusted.Add(EmulatedFaultKind.ShortStream);
            }

            Assert.Equal(answered.Count(q => q.Fault is { } f && untrusted.Contains(f)), result.Records.Count(r => r.Status == ApiSampleStatus.Suspect));
            Assert.Equal(result.Suspect, result.Records.Count(r => r.Status == ApiSampleStatus.Suspect));

            // A miscounted prompt is fitted by nobody: the analysis leaves it out beside the suspect answers.
            var miscounted = answered.Count(q => q.Fault == EmulatedFaultKind.WrongPromptUsage);
            Assert.True(miscounted > 0, "the schedule must include a miscounted prompt that was answered");
            Assert.Equal(result.Records.Count(r => r.Status == ApiSampleStatus.Suspect) + miscounted, report.ExcludedSamples);
            Assert.Equal(report.ExcludedSamples, report.Exclusions.Count);
            Assert.Equal(result.Records.Count(r => r.Status == ApiSampleStatus.Succeeded) - miscounted, report.RawVersusDenoised.Count);
            Assert.Equal(result.Records.Count(r => r.Status == ApiSampleStatus.Failed), report.FailedRequests);
            Assert.Equal(new[] { 16, 32, 64 }, report.Model.ProfiledPromptTokens);

            // Retry-After is a floor for the wait, and every wait passed on the clock.
            Assert.All(result.Records.SelectMany(r => r.Attempts).Where(a => a.RetryAfterSeconds is not null && a.DelayBeforeRetrySeconds is not null), a => Assert.True(a.DelayBeforeRetrySeconds >= a.RetryAfterSeconds));
            Assert.Contains(result.Records.SelectMany(r => r.Attempts), a => a.Failure == EndpointFailureKind.Timeout && Math.Abs(a.ElapsedSeconds - Timeout.TotalSeconds) < 1e-6);

            // The key: sent with every request, seen nowhere else.
            var journal = File.ReadAllText(options.JournalPath);
            Assert.DoesNotContain(key, journal, StringComparison.Ordinal);
            Assert.All(logger.Messages, m => Assert.DoesNotContain(key, m, StringComparison.Ordinal));
            Assert.Contains("[redacted]", journal, StringComparison.Ordinal);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"stream={stream}: {result.Records.Count} requests, {emulator.ReceivedCount} attempts, {emulator.Requests.Count(q => q.Fault is not null)} faults; " +
                $"{result.Records.Count(r => r.Status == ApiSampleStatus.Succeeded)} succeeded, {result.Records.Count(r => r.Status == ApiSampleStatus.Suspect)} suspect, {result.Failed} failed; " +
                $"{report.ExcludedSamples} excluded from the fit; g = {report.Model.PerOutputTokenSeconds * 1e3:F3} ms");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAbandonedMidRequest_ResumesWithNoSampleLostOrDuplicated()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n == 5 ? new EmulatedFault(EmulatedFaultKind.Hang) : null;
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [16, 32], OutputTokens = [2, 4], Trials = 3, Retry = Harness.FastRetry };
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        emulator.OnHang = _ => Task.Run(kill.Cancel); // the process dies while request 5 is on the wire

        using (var endpoint = Harness.Endpoint(emulator))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: kill.Token));
        }

        // Five answers, and the request on the wire when the run was cancelled, journaled so that its attempt counts.
        var before = ApiSampleJournal.Read(options.JournalPath);
        Assert.Equal(5, before.Count(r => r.Status == ApiSampleStatus.Succeeded));
        Assert.Equal(EndpointFailureKind.Cancelled, Assert.Single(before, r => r.Status == ApiSampleStatus.Failed).Attempts[^1].Failure);
        Assert.Equal(0, DenoisedRuntimeAnalysis.Analyze(before).FailedRequests); // interrupted, not failed

        // A kill can also tear the line being written; the resumed run drops it.
        File.AppendAllText(options.JournalPath, "{\"prompt_tokens\":16,\"outp");
        emulator.Faults = null;
        using var fresh = Harness.Endpoint(emulator);
        var result = await new ApiProfiler(fresh, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(13, result.Records.Count);
        Assert.Equal(12, result.Records.Select(r => r.Key).Distinct().Count());
        Assert.Equal(12, result.Records.Count(r => r.Status == ApiSampleStatus.Succeeded));
        Assert.Equal(0, DenoisedRuntimeAnalysis.Analyze(result.Records).FailedRequests);
        Assert.Equal(5, result.Skipped);
        // Only the request cut off by the kill reached the server twice.
        var prompts = emulator.Requests.GroupBy(q => q.PromptKey).ToArray();
        Assert.Equal(12, prompts.Length);
        Assert.Single(prompts, g => g.Count() == 2);
        Assert.Equal(13, emulator.ReceivedCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task LoadStudyRetry_IsLabelledWithTheLoadItRanAt()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast with { OverheadSeconds = 0.005 });
        emulator.Faults = n => n == 0 ? new EmulatedFault(EmulatedFaultKind.ServerError) : null;
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var clock = new TestClock(TimeSpan.Zero); // nothing moves by itself: the test decides when the retry goes out
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("j.jsonl"),
            PromptTokens = [16],
            OutputTokens = [4],
            Trials = 1,
            ConcurrencyLevels = [4],
            Retry = Harness.FastRetry,
            RequestTimeout = TimeSpan.FromHours(1),
            TimeProvider = clock,
        };
        var finished = 0;
        var progress = new SyncProgress<ApiProfilingProgress>(_ => Interlocked.Increment(ref finished));

        var run = new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(progress, TestContext.Current.CancellationToken);
        // Release the failed request's backoff only once the other three are journaled, i.e. after their batch ended.
        while (!run.IsCompleted && emulator.ReceivedCount < 5)
        {
            if (Volatile.Read(ref finished) == 3)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var result = await run;

        Assert.Equal(new int?[] { 1, 4, 4, 4 }, result.Records.Select(r => r.InFlight).Order());
        Assert.All(result.Records, r => Assert.Equal(4, r.Concurrency)); // the plan's label, which resuming matches
        var points = LoadStudyAnalysis.Analyze(result.Records);
        Assert.Equal(new[] { (1, 1), (4, 3) }, points.Select(pt => (pt.Concurrency, pt.Samples)));
    }

    [Fact(Timeout = 60_000)]
    public async Task ErrorBody_IsRedactedBeforeItIsCut_SoNoPrefixOfTheKeyLeaks()
    {
        var variable = "LLMEFF_TEST_KEY_" + Guid.NewGuid().ToString("N");
        var secret = Guid.NewGuid().ToString("N");
        var key = "sk-" + secret;
        Environment.SetEnvironmentVariable(variable, key);
        try
        {
            await using var emulator = await OpenAiEmulator.StartAsync(Fast, apiKey: key);
            var padding = 0;
            emulator.Faults = _ => new EmulatedFault(EmulatedFaultKind.EchoAuthorization, padding);
            using var endpoint = Harness.Endpoint(emulator, o => o with { ApiKeyEnvironmentVariable = variable });

            // The body is {"error":{"message":"<dots>upstream refused header Authorization: Bearer sk-...: the key
            // starts 67 + padding characters in, so these paddings put the 400-character cut inside it.
            var leaked = new List<string>();
            for (padding = 300; padding < 335; padding++)
            {
                var error = await Assert.ThrowsAsync<EndpointException>(() => endpoint.SendAsync(new EndpointRequest(Harness.Cl100k.Create(8, 1), 1, Stream: false), TestContext.Current.CancellationToken));
                Assert.Equal(503, error.StatusCode);
                if (error.Message.Contains(secret[..6], StringComparison.Ordinal))
                {
                    leaked.Add($"padding {padding}: {error.Message}");
                }
            }

            Assert.Empty(leaked);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task PasswordInTheUrl_IsSentButNeverRecorded()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var address = new UriBuilder(emulator.BaseAddress) { UserName = "alice", Password = password }.Uri;
        using var endpoint = Harness.Endpoint(emulator, o => o with { BaseAddress = address });
        using var dir = new TempDirectory();
        var logger = new ListLogger<ApiProfiler>();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 2], Trials = 1, Retry = Harness.FastRetry };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options, logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);

        Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        Assert.Equal(emulator.BaseAddress.AbsoluteUri + "completions", ApiSampleJournal.ReadHeader(options.JournalPath)!.Url);
        foreach (var text in new[] { File.ReadAllText(options.JournalPath), endpoint.Description, endpoint.Address.AbsoluteUri, report.Model.Metadata.Source ?? string.Empty, string.Join("\n", logger.Messages) })
        {
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
            Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Journal_RefusesAnotherModelOrPlan_NamingTheDifference()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 2], Trials = 1, Retry = Harness.FastRetry };
        using (var endpoint = Harness.Endpoint(emulator))
        {
            await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        }

        var header = ApiSampleJournal.ReadHeader(options.JournalPath)!;
        Assert.Equal("emulated-model", header.Model);
        Assert.Equal("completions", header.Api);
        Assert.Equal("cl100k_base", header.Encoding);
        Assert.Equal(new[] { 1, 2 }, header.Plan!.OutputTokens);

        using var other = Harness.Endpoint(emulator, o => o with { Model = "another-model" });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(other, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("model: 'emulated-model' vs 'another-model'", error.Message, StringComparison.Ordinal);

        using var same = Harness.Endpoint(emulator);
        var plan = await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(same, Harness.Cl100k, options with { OutputTokens = [1, 4] }).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("output_tokens: '1,2' vs '1,4'", plan.Message, StringComparison.Ordinal);
        var chat = await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(Harness.Endpoint(emulator, o => o with { Api = OpenAiApiKind.ChatCompletions, SendTokenIds = false }), Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("api: 'completions' vs 'chat_completions'", chat.Message, StringComparison.Ordinal);
        Assert.Equal(2, emulator.ReceivedCount); // refused before anything was sent

        // The same run resumes as before.
        var resumed = await new ApiProfiler(same, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, resumed.Skipped);
    }

    [Theory]
    [InlineData("{\"schema\":5,\"schema_version\":1}", "\"schema\" is 5")]
    [InlineData("{\"schema\":\"llmeff.api-journal\",\"schema_version\":\"1\"}", "\"schema_version\" is \"1\"")]
    [InlineData("{\"schema\":\"llmeff.api-journal\"}", "\"schema_version\" is missing")]
    [InlineData("[1,2]", "not a 'llmeff.api-journal' header")]
    [InlineData("not json", "not JSON")]
    public void MalformedHeader_IsAOneLineError(string header, string fragment)
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.jsonl");
        File.WriteAllText(path, header + "\n");

        var error = Assert.Throws<InvalidDataException>(() => ApiSampleJournal.OpenAppend(path));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task OneMiscountedPrompt_IsLeftOutInsteadOfBecomingAKnot()
    {
        // 18 good requests and one whose usage reports p + 7: fitted, 71 would be a knot with one output length.
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n == 4 ? new EmulatedFault(EmulatedFaultKind.WrongPromptUsage, 7) : null;
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [16, 64], OutputTokens = [1, 4, 8], Trials = 3, Retry = Harness.FastRetry };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);

        Assert.Equal(new[] { 16, 64 }, report.Model.ProfiledPromptTokens);
        var excluded = Assert.Single(report.Exclusions);
        Assert.Equal(64, excluded.Key.PromptTokens); // request 4 is trial 0's (64, 4)
        Assert.Contains("usage reports 71 prompt tokens where the other requests of p = 64 report 64", excluded.Reason, StringComparison.Ordinal);
        Assert.Equal(17, report.RawVersusDenoised.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamWithoutUsage_IsSuspect_AndTheFitSaysWhy()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator, o => o with { IncludeStreamUsage = false });
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 4], Trials = 2, Stream = true, Retry = Harness.FastRetry };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Records, r =>
        {
            Assert.Equal(ApiSampleStatus.Suspect, r.Status);
            Assert.Contains("no usage", r.Issue, StringComparison.Ordinal);
            Assert.Null(r.ToProfilingSample());
        });
        var error = Assert.Throws<ArgumentException>(() => DenoisedRuntimeAnalysis.Analyze(result.Records));
        Assert.Contains("4 excluded (4 × the answer carried no usage", error.Message, StringComparison.Ordinal);

        // Suspect answers count as finished: a resumed run does not send them again.
        var again = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(4, again.Skipped);
        Assert.Equal(4, emulator.ReceivedCount);
    }
}
