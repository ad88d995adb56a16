using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// GenAI-Perf <c>profile_export.json</c> (Perf Analyzer's raw export, genai-perf/docs/files.md and
/// tests/test_llm_profile_data_parser.py): nanosecond send and response timestamps with the raw payloads. Token counts
/// come from the responses' OpenAI <c>usage</c>, else from <see cref="BenchmarkImportOptions.Tokenizer"/>.
/// </summary>
internal static class GenAiPerfLogReader
{
    public static string Read(string text, ImportCollector c)
    {
        var expected = BenchmarkLogImport.Expected(BenchmarkLogFormat.GenAiPerf);
        using var document = JsonLog.Parse(text, c.SourceName, expected);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || JsonLog.Get(root, "experiments") is not { ValueKind: JsonValueKind.Array } experiments)
        {
            throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.GenAiPerf);
        }

        var count = 0;
        foreach (var experiment in experiments.EnumerateArray())
        {
            var requests = JsonLog.Array(experiment, "requests", c.SourceName, expected);
            var mode = JsonLog.Get(experiment, "experiment") is { } e ? e : default;
            int? concurrency = JsonLog.Text(mode, "mode") == "concurrency" ? JsonLog.Count(mode, "value") : null;
            foreach (var r in requests.EnumerateArray())
            {
                c.Add(Request(r, concurrency, c));
            }

            count++;
        }

        if (count > 1)
        {
            c.Note(string.Create(CultureInfo.InvariantCulture, $"{count} experiments (load levels) in one export; samples carry the concurrency they ran at"));
        }

        var kind = JsonLog.Text(root, "service_kind");
        var version = JsonLog.Text(root, "version");
        return $"Perf Analyzer profile_export.json ({kind ?? "unknown service kind"}{(string.IsNullOrEmpty(version) ? string.Empty : ", version " + version)})";
    }

    private static ImportedRequest Request(JsonElement r, int? concurrency, ImportCollector c)
    {
        var sent = JsonLog.Number(r, "timestamp");
        var stamps = JsonLog.Get(r, "response_timestamps") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Select(x => JsonLog.Number(x)).ToArray() : [];
        var outputs = JsonLog.Get(r, "response_outputs") is { ValueKind: JsonValueKind.Array } o ? o.EnumerateArray().ToArray() : [];
        if (sent is null || stamps.Length == 0 || stamps.Any(s => s is null))
        {
            return new ImportedRequest { Failure = "no response recorded" };
        }

        var inputs = JsonLog.Get(r, "request_inputs") ?? default;
        var payload = JsonLog.Text(inputs, "payload") is { } p ? TryParse(p) : null;
        using var payloadDocument = payload;
        var request = payloadDocument?.RootElement ?? inputs;
        var answer = new StringBuilder();
        int? promptTokens = null, completionTokens = null, reasoningTokens = null;
        double? firstToken = null;
        bool done = false, finished = false;
        string? error = null;
        for (var i = 0; i < outputs.Length; i++)
        {
            var before = answer.Length;
            if (JsonLog.Text(outputs[i], "text_output") is { } tritonText)
            {
                answer.Append(tritonText);
                finished = true;
            }

            foreach (var ev in Events(JsonLog.Text(outputs[i], "response")))
            {
                if (ev == "[DONE]")
                {
                    done = true;
                    continue;
                }

                using var chunk = TryParse(ev);
                if (chunk is null)
                {
                    continue;
                }

                var json = chunk.RootElement;
                if (JsonLog.Get(json, "error") is { } err)
                {
                    error = err.ValueKind == JsonValueKind.Object ? JsonLog.Text(err, "message") ?? err.GetRawText() : err.ToString();
                }

                if (JsonLog.Get(json, "usage") is { ValueKind: JsonValueKind.Object } usage)
                {
                    promptTokens = JsonLog.Count(usage, "prompt_tokens") ?? promptTokens;
                    completionTokens = JsonLog.Count(usage, "completion_tokens") ?? completionTokens;
                    reasoningTokens = (JsonLog.Get(usage, "completion_tokens_details") is { } details ? JsonLog.Count(details, "reasoning_tokens") : null) ?? reasoningTokens;
                }

                if (JsonLog.Get(json, "choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
                {
                    var choice = choices[0];
                    finished |= JsonLog.Text(choice, "finish_reason") is not null;
                    var delta = JsonLog.Get(choice, "delta") ?? JsonLog.Get(choice, "message");
                    // A reasoning model's thinking (vLLM: reasoning_content, newer: reasoning) is generated tokens too: it
                    // comes first, so it marks the first token, and it counts when the tokenizer counts the answer.
                    if (delta is { } thinking)
                    {
                        answer.Append(JsonLog.Text(thinking, "reasoning_content") ?? JsonLog.Text(thinking, "reasoning") ?? string.Empty);
                    }

                    answer.Append((delta is { } d ? JsonLog.Text(d, "content") : null) ?? JsonLog.Text(choice, "text") ?? string.Empty);
                }
            }

            if (answer.Length > before && firstToken is null && i < stamps.Length)
            {
                firstToken = stamps[i];
            }
        }

        if (error is not null)
        {
            return new ImportedRequest { Failure = error };
        }

        var streamed = JsonLog.Get(request, "stream") is { ValueKind: JsonValueKind.True };
        var runtime = (stamps[^1]!.Value - sent.Value) / 1e9;
        var tokenizer = c.Options.Tokenizer;
        string? missing = null;
        if (promptTokens is null || completionTokens is null)
        {
            if (tokenizer is not null)
            {
                // As GenAI-Perf counts: the prompt's text and the joined answer, without special tokens.
                promptTokens ??= tokenizer.CountTokens(PromptText(request));
                completionTokens ??= tokenizer.CountTokens(answer.ToString());
                c.Note("token counts from the given tokenizer (the responses carry no usage)");
            }
            else
            {
                missing = "the responses carry no usage; pass the model's tokenizer (BenchmarkImportOptions.Tokenizer, --tokenizer) to count tokens as GenAI-Perf does";
            }
        }

        return new ImportedRequest
        {
            PromptTokens = promptTokens,
            OutputTokens = completionTokens,
            ReasoningTokens = reasoningTokens,
            RuntimeSeconds = runtime,
            // One response without streaming is the end of the request, not a first token.
            TimeToFirstTokenSeconds = (streamed || stamps.Length > 1) && firstToken is { } first ? (first - sent.Value) / 1e9 : null,
            RequestedOutputTokens = JsonLog.FindCount(request, 0, "max_tokens", "max_completion_tokens"),
            StartSeconds = sent.Value / 1e9,
            Concurrency = concurrency,
            CutShort = streamed && !done && !finished ? "the response stream ended without a finish_reason or [DONE]" : null,
            MissingTokensDetail = missing,
        };
    }

    /// <summary>The payloads of the server-sent events in one recorded response (one response may hold several), or the whole text.</summary>
    private static IEnumerable<string> Events(string? response)
    {
        if (string.IsNullOrWhiteSpace(response))
        {
            yield break;
        }

        if (!response.TrimStart().StartsWith("data:", StringComparison.Ordinal))
        {
            yield return response.Trim();
            yield break;
        }

        foreach (var line in response.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("data:", StringComparison.Ordinal))
            {
                yield return t["data:".Length..].Trim();
            }
        }
    }

    private static string PromptText(JsonElement request)
    {
        var text = new StringBuilder();
        if (JsonLog.Text(request, "text_input") is { } triton)
        {
            text.Append(triton);
        }

        if (JsonLog.Text(request, "prompt") is { } prompt)
        {
            text.Append(prompt);
        }

        if (JsonLog.Get(request, "messages") is { ValueKind: JsonValueKind.Array } messages)
        {
            foreach (var m in messages.EnumerateArray())
            {
                if (JsonLog.Get(m, "content") is not { } content)
                {
                    continue;
                }

                if (content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var part in content.EnumerateArray())
                    {
                        text.Append(JsonLog.Text(part, "text"));
                    }
                }
            }
        }

        return text.ToString();
    }

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
