using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Serialization;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

/// <summary>
/// Every command answers bad input with one "llmeff: error:" line naming the problem and the fix and exit code 1, never a
/// stack trace. Arguments starting with '@' name files of <see cref="Files"/>, written fresh into a temporary folder.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private const string SamplesHeader = "prompt_tokens,output_tokens,runtime_seconds\n";

    private readonly TempDir _dir = new();

    public BadInputTests()
    {
        foreach (var (name, contents) in Files())
        {
            File.WriteAllBytes(_dir.File(name), contents);
        }

        Directory.CreateDirectory(_dir.File("empty-dir"));
        Directory.CreateDirectory(_dir.File("fig-dir.png"));
        Directory.CreateDirectory(_dir.File("binary-grid"));
        File.Copy(_dir.File("binary.csv"), Path.Combine(_dir.File("binary-grid"), "grid.csv"));
        Directory.CreateDirectory(_dir.File("nan-grid"));
        File.Copy(_dir.File("nan.csv"), Path.Combine(_dir.File("nan-grid"), "grid.csv"));
        Directory.CreateDirectory(_dir.File("header-grid"));
        File.Copy(_dir.File("header.csv"), Path.Combine(_dir.File("header-grid"), "grid.csv"));
        Directory.CreateDirectory(_dir.File("negative-grid"));
        File.Copy(_dir.File("negative-tokens.csv"), Path.Combine(_dir.File("negative-grid"), "grid.csv"));
        Directory.CreateDirectory(_dir.File("incomplete-grid"));
        File.WriteAllText(Path.Combine(_dir.File("incomplete-grid"), "grid.csv"), File.ReadAllText(_dir.File("good.csv")).Replace("1,32,", "2,32,", StringComparison.Ordinal));
        Directory.CreateDirectory(_dir.File("design-grid"));
        File.Copy(_dir.File("good.csv"), Path.Combine(_dir.File("design-grid"), "grid.csv"));
    }

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string[], string[]> Cases() => new()
    {
        // any command: mistyped names and unparsable arguments
        { "unknown command", ["estmate"], ["'estmate'", "Closest: 'estimate'", "llmeff --help"] },
        { "unknown subcommand", ["profile", "tourch"], ["'tourch'", "Closest: 'torch'", "llmeff profile --help"] },
        { "no command", [], ["Required command", "llmeff --help"] },
        { "word for a count", ["estimate", "--batch", "eight"], ["'eight'", "--batch", "as a whole number", "llmeff estimate --help"] },
        { "folder for a file", ["fit", "@empty-dir"], ["empty-dir' is a folder, not a file", "prompt_tokens,output_tokens,runtime_seconds"] },
        { "word for a number", ["pareto", "--log-unit", "tiny"], ["'tiny'", "--log-unit", "as a number"] },

        // fit: files
        { "fit missing", ["fit", "@nope.csv"], ["nope.csv", "does not exist", "prompt_tokens,output_tokens,runtime_seconds"] },
        { "fit empty", ["fit", "@empty.csv"], ["empty.csv", "empty", "header"] },
        { "fit binary", ["fit", "@binary.csv"], ["binary.csv", "is a binary file", "pass the text file"] },
        { "fit wrong header", ["fit", "@header.csv"], ["header.csv", "prompt_tokens"] },
        { "fit NaN runtime", ["fit", "@nan.csv", "--bootstrap", "0"], ["nan.csv", "data row 1", "NaN", "finite and positive"] },
        { "fit infinite runtime", ["fit", "@inf.csv", "--bootstrap", "0"], ["inf.csv", "Infinity", "finite and positive"] },
        { "fit negative runtime", ["fit", "@negative.csv", "--bootstrap", "0"], ["negative.csv", "-0.1", "finite and positive"] },
        { "fit zero runtime", ["fit", "@zero.csv", "--bootstrap", "0"], ["zero.csv", "RuntimeSeconds = 0", "drop failed"] },
        { "fit absurd runtime", ["fit", "@huge.csv", "--bootstrap", "0"], ["huge.csv", "data row 1", "1E+308", "in seconds"] },
        { "fit negative tokens", ["fit", "@negative-tokens.csv", "--bootstrap", "0"], ["negative-tokens.csv", "PromptTokens = -1", "0 or more"] },
        { "fit o = 0", ["fit", "@o0.csv", "--bootstrap", "0"], ["o0.csv", "OutputTokens = 0", "o >= 1"] },
        { "fit one output length", ["fit", "@one-output.csv", "--bootstrap", "0"], ["one-output.csv", "distinct output lengths", "--allow-single-output"] },
        { "fit non-physical", ["fit", "@shrinking.csv", "--bootstrap", "0"], ["not physical", "g = ", "mixed-up column", "o = 1, 16, 64", "--keep-non-physical"] },
        // fit: flags
        { "fit negative bootstrap", ["fit", "@good.csv", "--bootstrap", "-5"], ["--bootstrap -5", "0 to skip", "20 to 100000"] },
        { "fit huge bootstrap", ["fit", "@good.csv", "--bootstrap", "1000000000"], ["--bootstrap 1000000000", "20 to 100000"] },
        { "fit too few bootstrap", ["fit", "@good.csv", "--bootstrap", "5"], ["--bootstrap 5", "20 to 100000"] },
        { "fit unknown aggregation", ["fit", "@good.csv", "--aggregation", "Max"], ["'Max'", "--aggregation", "llmeff fit --help"] },
        { "fit no samples", ["fit"], ["samples", "llmeff fit --help"] },
        // output files: checked before any work (a missing folder, or a folder given as the file)
        { "fit output in a missing folder", ["fit", "@good.csv", "--bootstrap", "0", "-o", "@nodir/m.json"], ["--output", "nodir", "does not exist", "create it first"] },
        { "fit output is a folder", ["fit", "@good.csv", "--bootstrap", "0", "-o", "@empty-dir"], ["--output", "empty-dir' is a folder", "file name inside it"] },
        { "compare per-query in a missing folder", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "--per-query", "@nodir/q.csv"], ["--per-query", "does not exist"] },
        { "accuracy output in a missing folder", ["accuracy", "--data", "@design-grid", "-o", "@nodir/r.md"], ["--output", "does not exist"] },
        { "plot output is a folder", ["plot", "runtime", "@good.csv", "-o", "@fig-dir.png"], ["fig-dir.png' is a folder", ".png or .svg file name"] },
        { "api journal is a folder", ["profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m", "--journal", "@empty-dir"], ["--journal", "is a folder"] },
        { "api model output in a missing folder", Api("--output", "@nodir/m.json"), ["--output", "does not exist"] },

        // fit: benchmark logs of other tools
        { "fit unknown --from", ["fit", "@vllm.json", "--from", "sglang"], ["--from sglang", "vllm|aiperf|genai-perf|llmperf|guidellm"] },
        { "fit log of another tool", ["fit", "@vllm.json", "--from", "llmperf"], ["vllm.json", "is not a llmperf log", "number_output_tokens", "--from vllm"] },
        { "fit truncated log", ["fit", "@vllm-truncated.json"], ["vllm-truncated.json", "truncated", "vllm|aiperf"] },
        { "fit truncated log, named tool", ["fit", "@vllm-truncated.json", "--from", "vllm"], ["vllm-truncated.json", "truncated", "--save-detailed"] },
        { "fit JSON of no tool", ["fit", "@foreign.json", "--from", "auto"], ["foreign.json", "cannot tell which benchmark tool", "--from vllm|aiperf|genai-perf|llmperf|guidellm"] },
        { "fit log, every request failed", ["fit", "@vllm-failed.json", "--from", "vllm"], ["vllm-failed.json", "no usable request", "failed 9", "HTTP 500"] },
        { "fit log without per-request data", ["fit", "@vllm-summary.json"], ["vllm-summary.json", "--save-detailed"] },
        { "fit missing log", ["fit", "@nope.json", "--from", "vllm"], ["nope.json", "does not exist"] },
        { "fit log flags on a CSV", ["fit", "@good.csv", "--keep-mismatched"], ["good.csv", "samples CSV", "--from TOOL"] },
        { "fit unknown tokenizer", ["fit", "@vllm.json", "--tokenizer", "llama9"], ["llama9", "cl100k_base"] },

        // plot runtime figures
        { "plot missing", ["plot", "runtime", "@nope.csv", "-o", "@fig.png"], ["nope.csv", "does not exist"] },
        { "plot empty", ["plot", "runtime", "@empty.csv", "-o", "@fig.png"], ["empty.csv", "empty"] },
        { "plot binary", ["plot", "predicted", "@binary.csv", "-o", "@fig.png"], ["binary.csv", "is a binary file"] },
        { "plot wrong header", ["plot", "runtime", "@header.csv", "-o", "@fig.png"], ["header.csv", "prompt_tokens"] },
        { "plot NaN runtime", ["plot", "runtime", "@nan.csv", "-o", "@fig.png"], ["nan.csv", "NaN", "finite and positive"] },
        { "plot infinite runtime", ["plot", "predicted", "@inf.csv", "-o", "@fig.png"], ["inf.csv", "Infinity", "finite and positive"] },
        { "plot zero runtime", ["plot", "runtime", "@zero.csv", "-o", "@fig.png"], ["zero.csv", "RuntimeSeconds = 0"] },
        { "plot negative tokens", ["plot", "runtime", "@negative-tokens.csv", "-o", "@fig.png"], ["PromptTokens = -1", "0 or more"] },
        { "plot o = 0", ["plot", "runtime", "@o0.csv", "-o", "@fig.png"], ["OutputTokens = 0", "o >= 1"] },
        { "plot pareto binary", ["plot", "pareto", "-a", "@binary.csv", "-o", "@fig.png"], ["binary.csv", "is a binary file"] },
        { "plot pareto empty", ["plot", "pareto", "-a", "@empty.csv", "-o", "@fig.png"], ["empty.csv", "empty"] },
        { "plot one output length", ["plot", "prompt-encoding", "@one-output.csv", "-o", "@fig.png"], ["distinct output lengths", "--allow-single-output"] },
        { "plot non-physical", ["plot", "runtime", "@shrinking.csv", "-o", "@fig.png"], ["not physical", "--keep-non-physical"] },
        { "plot truncated model", ["plot", "runtime", "@good.csv", "-m", "@truncated.json", "-o", "@fig.png"], ["truncated.json", "truncated"] },
        { "plot other schema version", ["plot", "runtime", "@good.csv", "-m", "@v3.json", "-o", "@fig.png"], ["schema_version 3", "Upgrade"] },
        { "plot bad extension", ["plot", "runtime", "@good.csv", "-o", "@fig.bmp"], ["fig.bmp", ".png or .svg"] },
        { "plot no output", ["plot", "runtime", "@good.csv"], ["--output", "llmeff plot runtime --help"] },
        { "plot pareto missing", ["plot", "pareto", "-a", "@nope.csv", "-o", "@fig.png"], ["nope.csv", "does not exist"] },
        { "plot pareto unknown metric", ["plot", "pareto", "-a", "@accuracy.csv", "--metric", "runtme", "-o", "@fig.png"], ["no metric 'runtme'", "Closest: 'runtime'"] },

        // estimate: models
        { "estimate schema version as string", ["estimate", "-m", "@version-string.json"], ["version-string.json", "\"schema_version\": 1 (no quotes)"] },
        { "estimate truncated model", ["estimate", "-m", "@truncated.json"], ["truncated.json", "truncated", "llmeff fit --output"] },
        { "estimate foreign JSON", ["estimate", "-m", "@foreign.json"], ["foreign.json", "not an LlmEff runtime model"] },
        { "estimate other schema version", ["estimate", "-m", "@v3.json"], ["schema_version 3", "this LlmEff reads versions 1 to 2", "Upgrade"] },
        { "estimate empty model", ["estimate", "-m", "@empty.json"], ["empty.json", "empty", "llmeff fit --output"] },
        { "estimate binary model", ["estimate", "-m", "@binary.json"], ["binary.json", "binary"] },
        { "estimate negative g", ["estimate", "-m", "@negative-g.json"], ["per_output_token_seconds", "non-negative", "re-fit"] },
        { "estimate r_squared 5", ["estimate", "-m", "@r2.json"], ["r_squared", "at most 1"] },
        { "estimate HELM mode at p = 0", ["estimate", "-m", "@helm-zero.json"], ["prompt_encoding", "p >= 1", "Interpolate"] },
        { "estimate missing model file", ["estimate", "-m", "@nope.json"], ["nope.json", "does not exist", "llmeff models"] },
        { "estimate unknown model", ["estimate", "-m", "davinci"], ["unknown model 'davinci'", "Closest:", "OpenAI/davinci", "llmeff models"] },
        // estimate: workloads
        { "estimate missing workload", ["estimate", "-w", "@nope.csv"], ["nope.csv", "does not exist", "omit --workload"] },
        { "estimate empty workload", ["estimate", "-w", "@empty.csv"], ["empty.csv", "empty", "prompt_tokens,output_tokens"] },
        { "estimate binary workload", ["estimate", "-w", "@binary.csv"], ["binary.csv", "is a binary file"] },
        { "estimate binary JSON workload", ["estimate", "-w", "@binary.json"], ["binary.json", "is a binary file"] },
        { "estimate wrong header", ["estimate", "-w", "@header.csv"], ["header.csv", "prompt_tokens"] },
        { "estimate workload o = 0", ["estimate", "-w", "@workload-o0.csv"], ["workload-o0.csv", "output_tokens", "at least 1 token"] },
        { "estimate negative tokens", ["estimate", "-w", "@workload-negative.csv"], ["workload-negative.csv", "prompt_tokens", "0 or more"] },
        { "estimate beyond context", ["estimate", "-m", "OpenAI/davinci", "-w", "@workload-long.csv"], ["p = 5000", "beyond OpenAI/davinci's 2048", "truncate or drop"] },
        { "estimate beyond any context", ["estimate", "-w", "@workload-huge.csv"], ["2000000000", "beyond any model's context", "token counts"] },
        // estimate: flags
        { "estimate unknown accelerator", ["estimate", "--accelerator", "Z100"], ["unknown accelerator 'Z100'", "Closest:"] },
        { "estimate unknown metric", ["estimate", "--metric", "fast"], ["'fast'", "llmeff estimate --help"] },
        { "estimate missing HELM folder", ["estimate", "-m", "helm:openai/davinci", "--helm-tables", "@nowhere"], ["--helm-tables", "does not exist", "omit the option"] },

        { "estimate metric misspelled", ["estimate", "--metric", "denoise"], ["--metric 'denoise' is not one of 'idealized', 'denoised'"] },

        // compare
        { "compare unknown model", ["compare", "OpenAI/davinci", "davinc"], ["unknown model 'davinc'", "Closest:", "OpenAI/davinci"] },
        { "compare negative g", ["compare", "OpenAI/davinci", "@negative-g.json"], ["per_output_token_seconds", "re-fit"] },
        // g = 0 and PE = 0 are each valid given parameters (Create writes this file, so FromJson reads it back); what compare
        // cannot do is divide by a predicted 0 s, so it refuses the model by name before computing a speedup.
        { "compare zero runtime", ["compare", "OpenAI/davinci", "@zero-model.json"], ["model 'zero-model'", "predicts 0 s", "no speedup", "positive PE and g"] },
        // estimate and plot refuse the same model: it would be estimated at 0 s and $0, or drawn as a runtime.
        { "estimate zero runtime", ["estimate", "-m", "@zero-model.json"], ["model 'zero-model'", "predicts 0 s", "positive PE and g"] },
        { "plot zero-runtime model", ["plot", "runtime", "@good.csv", "-m", "@zero-model.json", "-o", "@fig.png"], ["zero-model.json", "predicts 0 s", "positive PE and g"] },
        { "plot predicted zero-runtime model", ["plot", "predicted", "@good.csv", "-m", "@zero-model.json", "-o", "@fig.png"], ["zero-model.json", "predicts 0 s"] },
        // An empty name is refused naming the option or argument and what to pass.
        { "estimate empty model", ["estimate", "-m", ""], ["--model \"\"", "empty model name", "llmeff models"] },
        { "compare empty A", ["compare", "", "OpenAI/davinci"], ["compare A (the first model) is empty", "llmeff models"] },
        { "compare empty B", ["compare", "OpenAI/davinci", " "], ["compare B (the second model) is empty", "llmeff models"] },
        { "compare beyond context", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@workload-long.csv"], ["beyond OpenAI/davinci's 2048", "truncate or drop"] },
        { "compare truncated workload JSON", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@truncated.json"], ["truncated.json"] },
        { "compare unknown accelerator", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "--accelerator-b", "V99"], ["unknown accelerator 'V99'", "Closest:"] },
        { "compare one model", ["compare", "OpenAI/davinci"], ["'B'", "llmeff compare --help"] },
        { "compare empty workload", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@empty.csv"], ["empty.csv", "empty", "prompt_tokens,output_tokens"] },
        { "compare binary workload", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@binary.csv"], ["binary.csv", "is a binary file"] },
        { "compare workload o = 0", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@workload-o0.csv"], ["output_tokens", "at least 1 token"] },
        { "compare negative tokens", ["compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "-w", "@workload-negative.csv"], ["prompt_tokens", "0 or more"] },
        { "compare other schema version", ["compare", "@v3.json", "OpenAI/davinci"], ["schema_version 3", "Upgrade"] },

        // models
        { "models missing HELM folder", ["models", "--helm-tables", "@nowhere"], ["--helm-tables", "does not exist"] },
        { "models unknown option", ["models", "--jsn"], ["--jsn", "llmeff models --help"] },

        // accuracy
        { "accuracy missing folder", ["accuracy", "--data", "@nowhere"], ["does not exist", "--data"] },
        { "accuracy empty folder", ["accuracy", "--data", "@empty-dir"], ["No *.csv grids", "--data"] },
        { "accuracy binary grid", ["accuracy", "--data", "@binary-grid"], ["grid.csv", "is a binary file"] },
        { "accuracy wrong header", ["accuracy", "--data", "@header-grid"], ["grid.csv", "prompt_tokens"] },
        { "accuracy NaN runtime", ["accuracy", "--data", "@nan-grid"], ["grid.csv", "data row 1", "NaN", "finite and positive"] },
        { "accuracy negative tokens", ["accuracy", "--data", "@negative-grid"], ["grid.csv", "data row 1", "PromptTokens = -1"] },
        { "accuracy incomplete grid", ["accuracy", "--data", "@incomplete-grid"], ["not fully measured", "p = 1, o = 32", "every prompt size at every output length"] },
        { "accuracy grid too small", ["accuracy", "--data", "@design-grid"], ["grid.csv", "at least 6 prompt sizes", "measure more prompt sizes"] },

        // pareto
        { "pareto missing", ["pareto", "-a", "@nope.csv"], ["nope.csv", "does not exist", "model,accuracy"] },
        { "pareto empty", ["pareto", "-a", "@empty.csv"], ["empty.csv", "empty", "header"] },
        { "pareto binary", ["pareto", "-a", "@binary.csv"], ["binary.csv", "is a binary file"] },
        { "pareto wrong header", ["pareto", "-a", "@header.csv"], ["header.csv", "'model'"] },
        { "pareto NaN metric", ["pareto", "-a", "@accuracy-nan.csv", "--metric", "runtime"], ["accuracy-nan.csv", "NaN", "finite"] },
        { "pareto unknown metric", ["pareto", "-a", "@accuracy.csv", "--metric", "runtme"], ["no metric 'runtme'", "Closest: 'runtime'"] },
        { "pareto unknown model", ["pareto", "-a", "@accuracy.csv", "--metric", "runtime", "--models", "c"], ["unknown model 'c'", "Closest:"] },
        { "pareto zero min-models", ["pareto", "-a", "@accuracy.csv", "--metric", "runtime", "--min-models", "0"], ["--min-models", "at least 1"] },
        { "pareto zero log unit", ["pareto", "-a", "@accuracy.csv", "--metric", "runtime", "--log-unit", "0"], ["positive number of seconds"] },
        { "pareto negative log unit", ["pareto", "-a", "@accuracy.csv", "--metric", "runtime", "--log-unit", "-1"], ["positive number of seconds"] },
        { "pareto no accuracies", ["pareto"], ["--accuracies", "llmeff pareto --help"] },

        // profile api: argument validation only (no endpoint is contacted)
        { "api huge prompt", Api("--prompts", "2000000000"), ["--prompts", "2000000000", "beyond any model's context"] },
        { "api prompt not a number", Api("--prompts", "1,x"), ["--prompts", "'x'", "1,256,512"] },
        { "api zero trials", Api("--trials", "0"), ["--trials 0", "1 to 10000"] },
        { "api too many trials", Api("--trials", "1000000"), ["--trials 1000000", "1 to 10000"] },
        { "api zero max requests", Api("--max-requests", "0"), ["--max-requests 0", "1 or more"] },
        { "api output 0", Api("--outputs", "0,1"), ["--outputs", "at least 1 token"] },
        { "api unknown encoding", Api("--encoding", "foo"), ["--encoding", "'foo'", "cl100k_base"] },
        { "api token ids on chat", Api("--token-ids", "--chat"), ["--token-ids", "completions route"] },
        { "api bad url", ["profile", "api", "--url", "ftp://x", "--model", "m", "--journal", "@j.jsonl"], ["--url", "ftp://x", "http://127.0.0.1:8000/v1/"] },
        { "api no journal", ["profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m"], ["--journal", "llmeff profile api --help"] },
        { "api concurrency 0", Api("--concurrency", "0", "--max-requests", "4"), ["--concurrency 0", "1,2,4,8,16"] },
        { "api concurrency not a number", Api("--concurrency", "1,x", "--max-requests", "4"), ["--concurrency x", "1,2,4,8,16"] },
        { "api concurrency repeated", Api("--concurrency", "2,2", "--max-requests", "4"), ["--concurrency lists a level twice"] },
        { "api negative request rate", Api("--request-rate", "-1", "--max-requests", "4"), ["--request-rate -1", "positive requests per second", "0.5,1,2"] },
        { "api zero request rate", Api("--request-rate", "0", "--duration", "10"), ["--request-rate 0", "positive requests per second"] },
        { "api both load modes", Api("--concurrency", "1", "--request-rate", "1", "--max-requests", "4"), ["--concurrency and --request-rate", "one of them"] },
        { "api load study without end", Api("--concurrency", "1,2"), ["--duration SECONDS", "--max-requests N"] },
        { "api load study zero duration", Api("--concurrency", "1", "--duration", "0"), ["--duration 0", "positive number"] },
        { "api load study zero max requests", Api("--concurrency", "1", "--max-requests", "0"), ["--max-requests 0", "1 or more"] },
        { "api unknown slo", Api("--concurrency", "1", "--max-requests", "4", "--slo", "foo=1"), ["--slo", "unknown SLO 'foo'", "ttft=0.5,tpot=0.05,e2e=10"] },
        { "api slo not a number", Api("--concurrency", "1", "--max-requests", "4", "--slo", "ttft=abc"), ["--slo", "ttft=SECONDS"] },
        { "api slo without load study", Api("--slo", "e2e=1"), ["--slo belongs to a load study", "--concurrency"] },
        { "api load study with trials", Api("--concurrency", "1", "--max-requests", "4", "--trials", "3"), ["--trials belongs to the grid run", "Drop --trials"] },
        { "api export extension", Api("--concurrency", "1", "--max-requests", "4", "--export-requests", "@r.txt"), ["--export-requests 'r.txt'", ".csv or .json"] },

        // profile torch: argument validation only (fails before loading libtorch)
        { "torch huge prompt", Torch("--prompts", "2000000000"), ["--prompts", "2000000000", "beyond any model's context"] },
        { "torch unknown architecture", ["profile", "torch", "--arch", "gpt-j", "--out", "@out"], ["unknown architecture 'gpt-j'", "Closest:", "--arch-file"] },
        { "torch conflicting architecture", ["profile", "torch", "--arch", "EleutherAI/gpt-j-6b", "--arch-file", "@good.csv", "--out", "@out"], ["conflict", "give one of them"] },
        { "torch conflicting layout", Torch("--gpus", "4", "--tensor-parallel", "2"), ["--gpus 4 conflicts", "not both"] },
        { "torch zero GPUs", Torch("--gpus", "0"), ["--gpus 0", "1 or more"] },
        { "torch too many trials", Torch("--trials", "100000"), ["--trials 100000", "1 to 10000"] },
        { "torch too many warm-ups", Torch("--warmup", "5000"), ["--warmup 5000", "0 to 1000"] },
        { "torch beyond context", Torch("--prompts", "2048", "--outputs", "1,64"), ["beyond EleutherAI/gpt-j-6b's context of 2048", "smaller sizes"] },
        { "torch seed not a number", Torch("--seed", "x"), ["'x'", "--seed", "llmeff profile torch --help"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GivesOneLineNamingProblemAndFix(string name, string[] args, string[] fragments)
    {
        var result = Run(args.Select(a => a.StartsWith('@') ? _dir.File(a[1..]) : a).ToArray());

        Assert.True(result.Code == 1, $"{name}: exit {result.Code}, stderr: {result.Err}");
        AssertOneLineError(result, fragments);
    }

    [Fact]
    public void KeepNonPhysical_FitsAndPrintsEveryWarning()
    {
        var json = _dir.File("kept.json");
        var result = Run("fit", _dir.File("shrinking.csv"), "--bootstrap", "0", "--keep-non-physical", "-o", json);

        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("warning: g = ", result.Out, StringComparison.Ordinal);
        var kept = RuntimeModelJson.Load(json);
        Assert.Contains(kept.Warnings, w => w.Kind == RuntimeFitWarningKind.NonPositiveDecodeTime);
    }

    [Fact]
    public void EstimateAndCompare_OfAKeptNonPhysicalModel_PrintItsWarnings_AndNoNegativeNumbers()
    {
        var json = _dir.File("kept.json");
        Assert.Equal(0, Run("fit", _dir.File("shrinking.csv"), "--bootstrap", "0", "--keep-non-physical", "-o", json).Code);

        var estimate = Run("estimate", "-m", json, "--json");
        Assert.True(estimate.Code == 0, estimate.Err);
        Assert.Contains("warning: kept: g = ", estimate.Err, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(estimate.Out))
        {
            var row = doc.RootElement.GetProperty("models")[0];
            foreach (var field in new[] { "mean_seconds", "p90_seconds", "total_seconds", "prompt_encoding_512_seconds" })
            {
                Assert.True(row.GetProperty(field).GetDouble() >= 0, $"{field} = {row.GetProperty(field)}");
            }
        }

        // The kept model predicts 0 s for long outputs (its g is negative), so a speedup against it is refused, not printed negative.
        var compare = Run("compare", "OpenAI/davinci", json);
        AssertOneLineError(compare, "predicts 0 s", "no speedup");
    }

    [Fact]
    public void Plot_KeepNonPhysical_DrawsAndPrintsTheWarnings()
    {
        var figure = _dir.File("kept.svg");
        var result = Run("plot", "runtime", _dir.File("shrinking.csv"), "-o", figure, "--keep-non-physical");

        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("warning: g = ", result.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(figure));
    }

    [Fact]
    public void CtrlC_DuringFit_EndsWithOneLineAndExit130()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var output = new StringWriter();
        var error = new StringWriter();

        var code = LlmEffCommand.Run(["fit", _dir.File("good.csv"), "--bootstrap", "2000"], output, error, cancelled.Token);

        Assert.Equal(LlmEffCommand.CancelledExitCode, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("llmeff: error: cancelled", line, StringComparison.Ordinal);
    }

    private static string[] Api(params string[] extra)
        => ["profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m", "--journal", "@j.jsonl", "--api-key-env", "LLMEFF_TEST_NO_SUCH_KEY", .. extra];

    private static string[] Torch(params string[] extra)
        => ["profile", "torch", "--arch", "EleutherAI/gpt-j-6b", "--device", "cpu", "--out", "@out", .. extra];

    /// <summary>A vLLM 'bench serve --save-detailed' result (per-request lists, seconds) of PE(p) = 0.02 + 1e-4·p, g = 25 ms.</summary>
    internal static string VllmLog(string? error)
    {
        var requests = (from p in new[] { 1, 256, 512 } from o in new[] { 1, 8, 32 } select (p, o, t: 0.02 + (1e-4 * p) + (0.025 * (o - 1)))).ToArray();
        string List<T>(Func<(int p, int o, double t), T> f) => "[" + string.Join(", ", requests.Select(r => FormattableString.Invariant($"{f(r)}"))) + "]";
        return "{\"backend\": \"openai\", "
            + $"\"input_lens\": {List(r => r.p)}, \"output_lens\": {List(r => error is null ? r.o : 0)}, "
            + $"\"ttfts\": {List(r => 0.02 + (1e-4 * r.p))}, \"itls\": {List(r => "[]")}, \"latencies\": {List(r => error is null ? r.t : 0)}, "
            + $"\"errors\": {List(r => "\"" + (error ?? string.Empty) + "\"")}}}";
    }

    private static IEnumerable<(string Name, byte[] Contents)> Files()
    {
        static byte[] Text(string s) => System.Text.Encoding.UTF8.GetBytes(s);
        static string Samples(Func<int, int, double> runtime)
            => SamplesHeader + string.Concat(from p in new[] { 1, 256, 512 } from o in new[] { 1, 8, 32 } select FormattableString.Invariant($"{p},{o},{runtime(p, o)}\n"));

        yield return ("vllm.json", Text(VllmLog(error: null)));
        yield return ("vllm-failed.json", Text(VllmLog(error: "HTTP 500: Internal Server Error")));
        var vllm = VllmLog(error: null);
        yield return ("vllm-truncated.json", Text(vllm[..(vllm.Length / 2)]));
        yield return ("vllm-summary.json", Text("""{"backend": "openai", "completed": 9, "duration": 3.5, "mean_ttft_ms": 21.0}"""));

        var binary = new byte[512];
        new Random(7).NextBytes(binary);
        binary[10] = 0;
        yield return ("binary.csv", binary);
        yield return ("binary.json", binary);
        yield return ("empty.csv", []);
        yield return ("empty.json", []);
        yield return ("header.csv", Text("a,b,c\n1,2,3\n"));
        yield return ("good.csv", Text(Samples((p, o) => 0.02 + (1e-4 * p) + (0.025 * (o - 1)))));
        yield return ("shrinking.csv", Text(Samples((p, o) => 3.0 + (1e-4 * p) - (0.03 * (o - 1)))));
        yield return ("nan.csv", Text(SamplesHeader + "1,1,NaN\n1,2,0.2\n"));
        yield return ("inf.csv", Text(SamplesHeader + "1,1,Infinity\n1,2,0.2\n"));
        yield return ("negative.csv", Text(SamplesHeader + "1,1,-0.1\n1,2,0.2\n"));
        yield return ("zero.csv", Text(SamplesHeader + "1,1,0\n1,2,0.2\n"));
        yield return ("huge.csv", Text(SamplesHeader + "1,1,1e308\n1,2,0.2\n1,4,0.3\n"));
        yield return ("negative-tokens.csv", Text(SamplesHeader + "-1,1,0.1\n-1,2,0.2\n"));
        yield return ("o0.csv", Text(SamplesHeader + "1,0,0.1\n1,2,0.2\n"));
        yield return ("one-output.csv", Text(SamplesHeader + "1,1,0.1\n256,4,0.2\n"));
        yield return ("workload-o0.csv", Text("prompt_tokens,output_tokens\n1,0\n"));
        yield return ("workload-negative.csv", Text("prompt_tokens,output_tokens\n-5,3\n"));
        yield return ("workload-long.csv", Text("prompt_tokens,output_tokens\n100,10\n5000,100\n"));
        yield return ("workload-huge.csv", Text("prompt_tokens,output_tokens\n2000000000,3\n"));
        yield return ("accuracy.csv", Text("model,accuracy,runtime\na,0.5,1\nb,0.6,2\n"));
        yield return ("accuracy-nan.csv", Text("model,accuracy,runtime\na,0.5,NaN\nb,0.6,2\n"));

        var valid = RuntimeModel.Create([(1, 0.02), (512, 0.1)], 0.03).ToJson();
        yield return ("truncated.json", Text(valid[..(valid.Length / 2)]));
        yield return ("foreign.json", Text("""{"name": "workload", "queries": [{"prompt_tokens": 1, "output_tokens": 2}]}"""));
        yield return ("v3.json", Text(valid.Replace("\"schema_version\": 1", "\"schema_version\": 3", StringComparison.Ordinal)));
        yield return ("version-string.json", Text(valid.Replace("\"schema_version\": 1", "\"schema_version\": \"1\"", StringComparison.Ordinal)));
        yield return ("negative-g.json", Text(valid.Replace("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": -0.03", StringComparison.Ordinal)));
        yield return ("r2.json", Text(valid.Replace("\"overhead_seconds\": 0", "\"overhead_seconds\": 0, \"r_squared\": 5", StringComparison.Ordinal)));
        yield return ("helm-zero.json", Text(RuntimeModel.Create([(0, 0.0), (512, 0.1)], 0.03).ToJson()
            .Replace("\"per_output_token_seconds\"", "\"prompt_encoding_mode\": \"HelmNextKeyScaled\", \"per_output_token_seconds\"", StringComparison.Ordinal)));
        yield return ("zero-model.json", Text(RuntimeModel.Create([(1, 0.0), (512, 0.0)], 0.0).ToJson()));
    }
}
