using System.Diagnostics;
using LlmEff.Profiling.Torch.Parallelism;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Latency of the tensor-parallel all-reduce through <see cref="NcclCommunicator"/> over every visible GPU (one rank on a
/// one-GPU machine) for the messages a decoder sums: one token's hidden state (decode) and a 1536-token prompt (prefill).
/// </summary>
internal static class NcclLatency
{
    private static readonly (int Tokens, int Hidden)[] Messages = [(1, 4096), (1, 8192), (1, 12288), (1536, 8192)];

    public static Dictionary<string, object?> Measure(ILogger log, int calls = 200, int warmup = 20)
    {
        var devices = Enumerable.Range(0, cuda.device_count()).ToArray();
        if (devices.Length == 0)
        {
            throw new InvalidOperationException("No CUDA device is visible, so there is nothing for NCCL to all-reduce over.");
        }

        using var comm = NcclCommunicator.Create(devices);
        var ranks = comm.Ranks;
        var sizes = new List<Dictionary<string, object?>>();
        foreach (var (tokens, hidden) in Messages)
        {
            // Zeros: summing random values 220 times over N ranks would overflow bf16; NCCL's speed does not depend on the values.
            var perRank = devices.Select(d => zeros([tokens, hidden], ScalarType.BFloat16, torch.device(DeviceType.CUDA, d))).ToList();
            try
            {
                for (var i = 0; i < warmup; i++)
                {
                    comm.SumInPlace(perRank);
                }

                SyncAll(devices);
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < calls; i++)
                {
                    comm.SumInPlace(perRank);
                }

                var issueSeconds = sw.Elapsed.TotalSeconds;
                SyncAll(devices);
                var seconds = sw.Elapsed.TotalSeconds / calls;
                var bytes = (long)tokens * hidden * 2;

                // nccl-tests' convention: algorithm bandwidth = bytes / time; bus bandwidth = 2(N-1)/N of it for a ring.
                var algorithm = bytes / seconds;
                sizes.Add(new Dictionary<string, object?>
                {
                    ["tokens"] = tokens,
                    ["hidden"] = hidden,
                    ["dtype"] = "bf16",
                    ["bytes"] = bytes,
                    ["seconds_per_call"] = seconds,
                    ["issue_seconds_per_call"] = issueSeconds / calls,
                    ["algorithm_bytes_per_second"] = algorithm,
                    ["bus_bytes_per_second"] = ranks > 1 ? algorithm * 2 * (ranks - 1) / ranks : null,
                });
                log.LogInformation("NCCL all-reduce {Ranks} rank(s), {Tokens}x{Hidden} bf16 ({Bytes} B): {Us:F1} us per call ({Issue:F1} us to issue)", ranks, tokens, hidden, bytes, seconds * 1e6, issueSeconds / calls * 1e6);
            }
            finally
            {
                perRank.ForEach(t => t.Dispose());
            }
        }

        return new Dictionary<string, object?>
        {
            ["nccl_version"] = NcclCommunicator.Version.ToString(),
            ["ranks"] = ranks,
            ["devices"] = devices,
            ["calls"] = calls,
            ["warmup_calls"] = warmup,
            ["sizes"] = sizes,
        };
    }

    private static void SyncAll(int[] devices)
    {
        foreach (var d in devices)
        {
            cuda.synchronize(torch.device(DeviceType.CUDA, d));
        }
    }
}
