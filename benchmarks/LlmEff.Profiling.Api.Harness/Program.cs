// Profiles an OpenAI-compatible server end to end: the paper's grid with trials (denoised fit, Figure 5 spread,
// Figure 7a share) and a load study (Figure 6). Usage:
//   harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]
// The API key, if any, is read from OPENAI_API_KEY; set LLMEFF_NO_KEY=1 for servers without authentication.
using System.Globalization;
using LlmEff.Profiling.Api.Harness;

var inv = CultureInfo.InvariantCulture;
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]");
    return 2;
}

return await HarnessRun.ProfileAsync(args[0], args[1], args[2], args.Length > 3 ? args[3] : "cl100k_base",
    args.Length > 4 ? int.Parse(args[4], inv) : 5, args.Length > 5 ? int.Parse(args[5], inv) : 8,
    noKey: Environment.GetEnvironmentVariable("LLMEFF_NO_KEY") == "1");

