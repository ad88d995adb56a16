// Profiles an OpenAI-compatible server end to end: the paper's grid with trials (denoised fit, Figure 5 spread,
// Figure 7a share) and a load study (Figure 6); or, with 'load' first, a serving-style load study with per-request
// and per-level exports. Usage:
//   harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]
//   harness load <base-url> <model> <out-dir> [levels=c:1,2,4,8,16 | r:0.5,1,2] [requests-per-level=64] [p=512] [o=64] [encoding=cl100k_base]
// The API key, if any, is read from OPENAI_API_KEY; set LLMEFF_NO_KEY=1 for servers without authentication.
using System.Globalization;
using LlmEff.Profiling.Api.Harness;

var inv = CultureInfo.InvariantCulture;
var noKey = Environment.GetEnvironmentVariable("LLMEFF_NO_KEY") == "1";
if (args.Length >= 4 && args[0] == "load")
{
    string Arg(int i, string fallback) => args.Length > i ? args[i] : fallback;
    var levels = Arg(4, "c:1,2,4,8,16");
    if (!levels.StartsWith("c:", StringComparison.Ordinal) && !levels.StartsWith("r:", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"levels '{levels}': give c:1,2,4 (concurrency) or r:0.5,1,2 (requests per second).");
        return 2;
    }

    return await LoadStudyRun.RunAsync(args[1], args[2], args[3], levels, int.Parse(Arg(5, "64"), inv), int.Parse(Arg(6, "512"), inv), int.Parse(Arg(7, "64"), inv), Arg(8, "cl100k_base"), noKey);
}

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]");
    Console.Error.WriteLine("       harness load <base-url> <model> <out-dir> [levels=c:1,2,4,8,16 | r:0.5,1,2] [requests-per-level=64] [p=512] [o=64] [encoding=cl100k_base]");
    return 2;
}

return await HarnessRun.ProfileAsync(args[0], args[1], args[2], args.Length > 3 ? args[3] : "cl100k_base",
    args.Length > 4 ? int.Parse(args[4], inv) : 5, args.Length > 5 ? int.Parse(args[5], inv) : 8,
    noKey);
