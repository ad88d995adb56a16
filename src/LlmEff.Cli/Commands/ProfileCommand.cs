using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Planning;
using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api;
using Microsoft.Extensions.Logging;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff profile api</c>: profile a model behind an OpenAI-compatible endpoint and fit its denoised runtime (paper §3.5, §4.1);
/// <c>llmeff profile torch</c> (<see cref="ProfileTorchCommand"/>): idealized runtime of a random-weight decoder.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create(TextWriter output, TextWriter error, TimeProvider clock)
    {
        var profile = new Command("profile", "Measure a model and fit its runtime model: `torch` for a random-weight decoder on a GPU (idealized runtime), `api` for a black-box endpoint (denoised runtime).");
        profile.Add(ProfileTorchCommand.Create(output, error));
        profile.Add(CreateApi(output, error, clock));
        return profile;
    }

    /// <summary>The <c>--target-p90</c> of an adaptive run (profile api and profile torch), checked so that the message names the flags.</summary>
    internal static double? TargetP90(double? target, bool adaptive)
    {
        if (target is not { } t)
        {
            return null;
        }

        if (!adaptive)
        {
            throw new ArgumentException("--target-p90 stops an adaptive run early; give --adaptive N too (a grid run measures every configuration).");
        }

        return t > 0 && t < 1
            ? t
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--target-p90 {t}: give the relative error to stop at as a fraction between 0 and 1, e.g. 0.02 for 2 %."));
    }

    private static Command CreateApi(TextWriter output, TextWriter error, TimeProvider clock)
    {
        var url = new Option<string>("--url") { Description = "Base address of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1/ .", Required = true };
        var model = new Option<string>("--model") { Description = "Model name the endpoint expects.", Required = true };
        var chat = new Option<bool>("--chat") { Description = "Use /chat/completions instead of /completions." };
        var tokenIds = new Option<bool>("--token-ids") { Description = "Send each prompt as its token ids (completions route only; vLLM and OpenAI accept it): the server then sees exactly p tokens whatever its tokenizer." };
        var keyEnv = new Option<string>("--api-key-env") { Description = "Environment variable holding the API key (never logged or written); empty for a server without authentication.", DefaultValueFactory = _ => "OPENAI_API_KEY" };
        var encoding = new Option<string>("--encoding") { Description = "Tokenizer for exact-size prompts: cl100k_base, o200k_base or gpt2.", DefaultValueFactory = _ => "cl100k_base" };
        var journal = new Option<FileInfo>("--journal") { Description = "JSONL journal: every request is written as it finishes; rerunning resumes.", Required = true };
        var prompts = new Option<string?>("--prompts") { Description = "Prompt sizes, comma-separated (default 1,256,512,1024,1536; a load study: 512, its requests cycling through the prompt × output grid)." };
        var outputs = new Option<string?>("--outputs") { Description = "Output lengths, comma-separated (default 1,2,4,8,16,32,64; a load study: 64)." };
        var trials = new Option<int>("--trials") { Description = "Trials per configuration (the denoised fit takes the minimum).", DefaultValueFactory = _ => 10 };
        var stream = new Option<bool>("--stream") { Description = "Stream responses and record time to first token and inter-token gaps." };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Send ignore_eos (vLLM and compatible) so exactly o tokens are generated." };
        var noMinTokens = new Option<bool>("--no-min-tokens") { Description = "Do not send min_tokens = max_tokens (sent by default; a server that refuses it gets requests without it)." };
        var fitReported = new Option<bool>("--fit-reported-length") { Description = "Fit answers of another output length than asked on their reported length (default: leave them out of the fit; counted either way)." };
        var maxRequests = new Option<int?>("--max-requests") { Description = "Stop cleanly after this many requests (budget cap); in a load study, the requests sent per level." };
        var concurrency = new Option<string?>("--concurrency") { Description = "Load study: concurrency levels to sweep, e.g. 1,2,4,8,16 (closed loop, that many requests always in flight); needs --duration or --max-requests." };
        var requestRate = new Option<string?>("--request-rate") { Description = "Load study: request rates to sweep in requests/s, e.g. 0.5,1,2 (Poisson arrivals seeded by --seed); needs --duration or --max-requests." };
        var duration = new Option<double?>("--duration") { Description = "Load study: seconds each level sends requests (those in flight then are awaited)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic prompts and the Poisson arrivals.", DefaultValueFactory = _ => 0 };
        var slo = new Option<string?>("--slo") { Description = "Load study: objectives for goodput in seconds, e.g. ttft=0.5,tpot=0.05,e2e=10 (any subset)." };
        var exportRequests = new Option<FileInfo?>("--export-requests") { Description = "Write every request of the journal as .csv or .json (columns in docs/api-profiling.md)." };
        var summary = new Option<FileInfo?>("--summary") { Description = "Load study: write the per-level summary as JSON here." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds allowed per request attempt before it counts as a timeout and is retried.", DefaultValueFactory = _ => 120 };
        var maxAttempts = new Option<int>("--max-attempts") { Description = "Attempts per request, the first included; transient failures (429, 5xx, timeouts, dropped connections) are retried with backoff.", DefaultValueFactory = _ => RetryPolicy.Default.MaxAttempts };
        var modelJson = new Option<FileInfo?>("--output", "-o") { Description = "Write the fitted denoised model as JSON here." };
        var targetP90 = new Option<double?>("--target-p90") { Description = "With --adaptive: stop before the budget once the fit's own p90 estimate is at or below this relative error (0.02 for 2 %) and the noise of one request has been read from a repeated one." };
        var keep = FitWarnings.KeepOption();
        keep.Description = "Write the --output model even where the denoised fit is not physical (g <= 0, a negative PE knot or prediction), with its warnings; without it such a fit is printed but not written. A low R² alone is only a warning.";
        var adaptive = new Option<int?>("--adaptive") { Description = "Adaptive profiling: the planner chooses this many queries among the --prompts × --outputs candidates (give a dense list), each --trials times, one request at a time; the fit reports its own error estimate at the candidates not measured." };
        var command = new Command("api", "Profile a model behind an OpenAI-compatible endpoint: synthetic exact-size prompts, trials, retries, resumable journal; prints the denoised fit.")
        {
            url, model, chat, tokenIds, keyEnv, encoding, journal, prompts, outputs, trials, stream, ignoreEos, noMinTokens, fitReported, maxRequests, timeout, maxAttempts, modelJson,
            concurrency, requestRate, duration, seed, slo, exportRequests, summary, adaptive, keep, targetP90,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Every file this run writes, checked before the first request: the writes come after a paid run.
            // The journal's folder is created for it, so only a folder given as the journal is refused there.
            if (parse.GetValue(journal) is { } journalFile && Directory.Exists(journalFile.FullName))
            {
                CliInputs.CheckOutputFile(journalFile, "--journal");
            }

            foreach (var (option, path) in new[] { ("--export-requests", parse.GetValue(exportRequests)), ("--summary", parse.GetValue(summary)), ("--output", parse.GetValue(modelJson)) })
            {
                CliInputs.CheckOutputFile(path, option);
            }

            var load = ProfileLoadStudy.ParseFlags(
                parse.GetValue(concurrency), parse.GetValue(requestRate), parse.GetValue(duration), parse.GetValue(maxRequests), parse.GetValue(slo),
                parse.GetValue(exportRequests), parse.GetValue(summary));
            if (load is not null)
            {
                // Flags of the grid run have no meaning in a load study; ignoring one would surprise, so it is refused.
                foreach (var (name, given) in new[] { ("--trials", Given(trials)), ("--max-attempts", Given(maxAttempts)), ("--output", Given(modelJson)), ("--fit-reported-length", parse.GetValue(fitReported)), ("--adaptive", Given(adaptive)), ("--keep-non-physical", parse.GetValue(keep)), ("--target-p90", Given(targetP90)) })
                {
                    if (given)
                    {
                        throw new ArgumentException($"{name} belongs to the grid run and the fit; a load study sends --max-requests per level, once each (no retries, no fit). Drop {name}.");
                    }
                }
            }

            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            var endpointOptions = new OpenAiEndpointOptions
            {
                BaseAddress = ParseUrl(parse.GetValue(url)!),
                Model = parse.GetValue(model)!,
                Api = parse.GetValue(chat) ? OpenAiApiKind.ChatCompletions : OpenAiApiKind.Completions,
                ApiKeyEnvironmentVariable = parse.GetValue(keyEnv) is { Length: > 0 } variable ? variable : null,
                IgnoreEos = parse.GetValue(ignoreEos),
                SendMinTokens = !parse.GetValue(noMinTokens),
                SendTokenIds = parse.GetValue(tokenIds),
                TimeProvider = clock,
            };
            if (endpointOptions.SendTokenIds && endpointOptions.Api == OpenAiApiKind.ChatCompletions)
            {
                throw new ArgumentException("--token-ids works with the completions route only (a chat message is text); drop --chat or --token-ids.");
            }

            var seconds = parse.GetValue(timeout);
            var longest = ApiProfilingOptions.MaxRequestTimeout.TotalSeconds;
            if (!double.IsFinite(seconds) || seconds <= 0 || seconds > longest)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--timeout {seconds}: give the seconds allowed per request, a positive number such as 30 (at most {Math.Floor(longest)}, about 49 days)."));
            }

            var attempts = parse.GetValue(maxAttempts);
            if (attempts < 1)
            {
                throw new ArgumentException($"--max-attempts {attempts}: give at least 1 (1 sends each request once, without retries).");
            }

            if (load is not null)
            {
                return await ProfileLoadStudy.RunAsync(
                    load, endpointOptions, parse.GetValue(journal)!.FullName, parse.GetValue(prompts), parse.GetValue(outputs), parse.GetValue(encoding)!,
                    TimeSpan.FromSeconds(seconds), parse.GetValue(seed), clock, output, error, cancellationToken).ConfigureAwait(false);
            }

            var options = new ApiProfilingOptions
            {
                JournalPath = parse.GetValue(journal)!.FullName,
                PromptTokens = ParseList(parse.GetValue(prompts) ?? "1,256,512,1024,1536", "--prompts"),
                OutputTokens = ParseList(parse.GetValue(outputs) ?? "1,2,4,8,16,32,64", "--outputs"),
                Seed = parse.GetValue(seed),
                Trials = parse.GetValue(trials),
                Stream = parse.GetValue(stream),
                RequestTimeout = TimeSpan.FromSeconds(seconds),
                Retry = RetryPolicy.Default with { MaxAttempts = attempts },
                Budget = parse.GetValue(maxRequests) is { } cap ? new ProfilingBudget { MaxRequests = cap } : ProfilingBudget.Unlimited,
                AdaptiveBudget = parse.GetValue(adaptive),
                AdaptiveTargetP90 = ProfileCommand.TargetP90(parse.GetValue(targetP90), parse.GetValue(adaptive) is not null),
                TimeProvider = clock,
            };
            // Every flag is checked before the endpoint is built, which needs the API key: a typo gets its own answer first.
            CheckApiFlags(options, parse.GetValue(maxRequests));

            // The run ends in a fit, which needs two output lengths per prompt size: say so before sending anything.
            if (options.OutputTokens.Distinct().Count() < 2)
            {
                throw new ArgumentException($"--outputs {string.Join(",", options.OutputTokens)}: the denoised fit needs at least two output lengths, e.g. --outputs 1,16,64.");
            }

            SyntheticPromptFactory promptFactory;
            try
            {
                promptFactory = SyntheticPromptFactory.ForEncoding(parse.GetValue(encoding)!);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"--encoding: {LlmEffCommand.Describe(ex)}", ex);
            }

            var gate = new object();
            var statusOpen = false;
            var logger = new ErrorLogger<ApiProfiler>(error, gate, () => statusOpen = false, () => statusOpen);
            using var endpoint = new OpenAiCompatibleEndpoint(endpointOptions);
            var profiler = new ApiProfiler(endpoint, promptFactory, options, logger);
            var sinceStart = Stopwatch.StartNew();
            var progress = new SynchronousProgress<ApiProfilingProgress>(p =>
            {
                // One status line, rewritten in place: points done, failures and an ETA from the rate so far.
                var done = p.Finished - p.Skipped;
                var rate = done > 0 ? sinceStart.Elapsed.TotalSeconds / done : double.NaN;
                var eta = double.IsFinite(rate) ? TimeSpan.FromSeconds(rate * (p.Total - p.Finished)) : (TimeSpan?)null;
                lock (gate)
                {
                    error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{p.Finished}/{p.Total} requests ({p.Skipped} resumed, {p.Failed} failed) ETA {eta?.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) ?? "--:--:--"}   "));
                    statusOpen = true;
                }
            });
            ApiProfilingResult result;
            try
            {
                result = await profiler.RunAsync(progress, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                error.WriteLine();
                error.WriteLine($"llmeff: interrupted; every finished request is in {options.JournalPath}; rerun the same command to resume.");
                return 130;
            }

            lock (gate)
            {
                if (statusOpen)
                {
                    error.WriteLine();
                }
            }

            // A request that failed and was sent again on resume has a record of each; it is one request.
            var requests = result.Records.Select(r => r.Key).Distinct().Count();
            var records = requests == result.Records.Count ? string.Empty : $" ({result.Records.Count} records)";
            output.WriteLine($"{endpoint.Description}: {requests} requests in the journal{records}, stopped: {result.StopReason}, {result.Failed} failed, {result.Suspect} suspect this run.");
            if (endpoint.MinTokensRefused)
            {
                output.WriteLine("the server refused min_tokens; requests went without it (exact lengths rest on max_tokens and --ignore-eos).");
            }

            if (parse.GetValue(exportRequests) is { } requestsFile)
            {
                LoadStudyExport.WriteRequests(result.Records, requestsFile.FullName);
                output.WriteLine($"requests written to {requestsFile.FullName}");
            }

            // An adaptive design measures most prompt sizes at one output length: the planner's fit options allow that.
            var report = DenoisedRuntimeAnalysis.Analyze(result.Records, options.AdaptiveBudget is null ? null : AdaptiveProfilingPlanner.FitOptions, fitReportedLength: parse.GetValue(fitReported));
            var m = report.Model;
            FitWarnings.Print(output, m);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"denoised g = {m.PerOutputTokenSeconds * 1e3:F3} ms/token, R² = {m.RSquared:F4}, mean CV = {report.MeanCoefficientOfVariation:F3}, raw runs above the denoised fit: {report.ShareAboveDenoised:P1}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted {report.RawVersusDenoised.Count} samples; left out {report.ExcludedSamples} whose token counts cannot be trusted, {report.FailedRequests} failed requests; {report.MismatchedSamples} fitted with server-reported counts"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"output length: {report.OutputLengthMismatches} answers ({report.OutputLengthMismatchShare:P1}) generated another length than asked; {(parse.GetValue(fitReported) ? "fitted on their reported length" : "left out of the fit (--fit-reported-length fits them on their reported length)")}"));
            foreach (var reason in report.Exclusions.GroupBy(e => e.Reason).OrderByDescending(g => g.Count()).Take(5))
            {
                output.WriteLine($"  left out {reason.Count()}: {reason.Key}");
            }

            foreach (var knot in m.PromptEncoding.Knots)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  PE({knot.X}) = {knot.Y * 1e3:F2} ms"));
            }

            if (result.Assessment is { } assessment)
            {
                output.WriteLine(AdaptiveEstimateLine.Describe(assessment, "request"));
            }

            if (parse.GetValue(modelJson) is { } target)
            {
                // A model file is what later commands trust: one with warnings counts as kept on purpose. Noisy timings
                // that fit a g <= 0 (too few trials on a busy server) must not become that by default; a low R² alone
                // is what black-box timings often give, and stays a printed warning.
                if (!parse.GetValue(keep) && m.Warnings.FirstOrDefault(w => w.Kind is not RuntimeFitWarningKind.LowRSquared) is { } impossible)
                {
                    throw new InvalidOperationException($"the denoised fit is not physical ({impossible.Message.TrimEnd('.')}), so it was not written to {target.Name}. The journal keeps every request: rerun with {(options.AdaptiveBudget is null ? "more --trials (only the new trials are sent)" : "a larger --adaptive (only the new queries are sent)")}, or pass --keep-non-physical to write this fit with its warnings.");
                }

                RuntimeModelJson.Save(m.WithMetadata(m.Metadata with { ModelName = endpointOptions.Model, Metric = RuntimeMetric.Denoised, Source = endpoint.Description }), target.FullName);
                output.WriteLine($"model written to {target.FullName}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>The most trials per configuration the profilers accept: beyond it the minimum no longer moves, only the bill.</summary>
    internal const int MaximumTrials = 10_000;

    private static void CheckApiFlags(ApiProfilingOptions options, int? maxRequests)
    {
        if (options.Trials is < 1 or > MaximumTrials)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--trials {options.Trials}: give 1 to {MaximumTrials} trials per configuration (the paper used 10)."));
        }

        if (options.AdaptiveBudget is < 6)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--adaptive {options.AdaptiveBudget}: give at least 6 queries (the planner starts with the smallest, middle and largest prompt size at the smallest and largest output length)."));
        }

        if (options.AdaptiveBudget is not null && (options.PromptTokens.Count < 3 || options.OutputTokens.Count < 2))
        {
            throw new ArgumentException("--adaptive chooses among the --prompts × --outputs candidates: give at least three prompt sizes and two output lengths, more for it to choose from (e.g. --prompts 1,64,128,256,384,512,768,1024,1536).");
        }

        if (maxRequests is < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--max-requests {maxRequests}: give 1 or more requests, or omit it for no cap."));
        }

        if (options.OutputTokens.FirstOrDefault(o => o < 1, 1) is var o && o < 1)
        {
            throw new ArgumentException($"--outputs: {o} is not an output length; every query generates at least 1 token.");
        }

        if (options.PromptTokens.Distinct().Count() != options.PromptTokens.Count || options.OutputTokens.Distinct().Count() != options.OutputTokens.Count)
        {
            throw new ArgumentException("--prompts and --outputs must not repeat a value; use --trials for repetitions.");
        }
    }

    private static Uri ParseUrl(string text)
        => Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new ArgumentException($"--url: '{System.Text.RegularExpressions.Regex.Replace(text, "//[^/@]*@", "//***@")}' is not an absolute http(s) address; give the API's base, e.g. http://127.0.0.1:8000/v1/.");

    internal static IReadOnlyList<int> ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 0)
            {
                throw new ArgumentException($"{option}: '{part}' is not a non-negative integer; give a comma-separated list such as 1,256,512.");
            }

            // Beyond any model's context; past int's range p + o would also wrap around in buffer sizes.
            if (v > CliInputs.MaximumTokens)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option}: {v} tokens is beyond any model's context (at most {CliInputs.MaximumTokens:N0} here); give sizes within the model's context, e.g. 1,256,512."));
            }

            values.Add(v);
        }

        return values.Count > 0 ? values : throw new ArgumentException($"{option} is empty; give at least one value.");
    }

    internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>
    /// The profiler's retries, failures and count warnings as <c>llmeff:</c> lines on the error stream; concurrent
    /// requests log together, so writes share the status line's lock.
    /// </summary>
    internal sealed class ErrorLogger<T>(TextWriter error, object gate, Action statusEnded, Func<bool> statusOpen) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // Warnings and errors: every retry with its reason, the first count mismatch and suspect answer of a run.
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (gate)
            {
                if (statusOpen())
                {
                    error.WriteLine();
                    statusEnded();
                }

                error.WriteLine($"llmeff: {(logLevel >= LogLevel.Error ? "error: " : logLevel == LogLevel.Warning ? "warning: " : string.Empty)}{formatter(state, exception)}");
            }
        }
    }
}
