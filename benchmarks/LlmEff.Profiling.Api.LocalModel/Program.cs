// Serves TinyDecoder (random weights, TorchSharp CPU) on 127.0.0.1 and profiles it end to end through HTTP with
// LlmEff.Profiling.Api. Usage: local-model <out-dir> [trials=5] [max-concurrency=4], or local-model <out-dir> adaptive [budgets=20,30,50]
// TorchSharp's native library needs ../shared/torchsharp-cpu/patch-libtorchsharp.sh on Debian 12 (see .ci/run).
using System.Globalization;
using LlmEff.Profiling.Api.Harness;
using LlmEff.Profiling.Api.LocalModel;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: local-model <out-dir> [trials=5] [max-concurrency=4]");
    return 2;
}

var inv = CultureInfo.InvariantCulture;
TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
// cl100k ids reach 100,276, so the vocabulary covers them; 6 layers of width 512 keep a 2-core CPU busy, not for hours.
using var model = new TinyDecoder(vocabulary: 100_352, hidden: 512, layers: 6, heads: 8, maxContext: 2048, seed: 0);
Console.WriteLine($"TinyDecoder: {model.ParameterCount / 1e6:0.0} M parameters, TorchSharp CPU, {Environment.ProcessorCount} threads");
foreach (var _ in model.Generate(Enumerable.Range(1, 1536).ToArray(), 2))
{
    // warm-up: allocator and kernels
}

await using var server = await LocalModelServer.StartAsync(model);
if (args.Length > 1 && args[1] == "adaptive")
{
    // local-model <out-dir> adaptive [budgets=20,30,50]: adaptive profiling scored against a dense grid of the same server.
    var budgets = (args.Length > 2 ? args[2] : "20,30,50").Split(',').Select(b => int.Parse(b, inv)).ToArray();
    return await AdaptiveAccuracyRun.RunAsync(server.BaseAddress, args[0], budgets, CancellationToken.None);
}

return await HarnessRun.ProfileAsync(server.BaseAddress.ToString(), "tiny-decoder-512x6", args[0], "cl100k_base",
    args.Length > 1 ? int.Parse(args[1], inv) : 5, args.Length > 2 ? int.Parse(args[2], inv) : 4, noKey: true);
