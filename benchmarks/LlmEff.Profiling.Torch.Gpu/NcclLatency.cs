using System.Diagnostics;
using LlmEff.Core.Hardware;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Latency of the tensor-parallel all-reduce through <see cref="NcclCommunicator"/> over every visible GPU (one rank on a
/// one-GPU machine) for the messages a decoder sums: one token's hidden state (decode) and a 1536-token prompt (prefill);
/// then nccl-tests' sweep, 8 KB to 256 MB in factors of 4, and on two or more GPUs the communication model's latency and
/// bus bandwidth fitted to all of them (<see cref="InterconnectCalibration"/>) beside the built-in NVLink 4 figures.
/// </summary>
internal static class NcclLatency
{
    // bf16 elements as [tokens, hidden]: the decoder's messages, then 8 KB .. 128 MB in factors of 4 and 256 MB, as [1, bytes / 2].
    private static readonly (int Tokens, int Hidden)[] Messages =
        [(1, 4096), (1, 8192), (1, 12288), (1536, 8192), .. Enumerable.Range(0, 8).Select(k => (1, 4096 << (2 * k))), (1, 128 << 20)];

    public static Dictionary<string, object?> Measure(ILogger log, int calls = 200, int warmup = 20)
    {
        var devices = Enumerable.Range(0, cuda.device_count()).ToArray();
        if (devices.Length == 0)
        {
            throw new InvalidOperationException("No CUDA device is visible, so there is nothing for NCCL to all-reduce over.");
        }

        using var comm = NcclCommunicator.Create(devices);
        var ranks = comm.Ranks;
        // NCCL sets up its channels and buffers on the first calls: warm the communicator up before any size is timed (the
        // first size timed otherwise came out 30% slower than the same size timed later, on 2 H200s).
        var first = devices.Select(d => zeros([1, 4096], ScalarType.BFloat16, torch.device(DeviceType.CUDA, d))).ToList();
        for (var i = 0; i < 200; i++)
        {
            comm.SumInPlace(first);
        }

        CudaGraph.SynchronizeDevices(devices);
        first.ForEach(t => t.Dispose());
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

                CudaGraph.SynchronizeDevices(devices);
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < calls; i++)
                {
                    comm.SumInPlace(perRank);
                }

                var issueSeconds = sw.Elapsed.TotalSeconds;
                CudaGraph.SynchronizeDevices(devices);
                var seconds = sw.Elapsed.TotalSeconds / calls;
                var bytes = (long)tokens * hidden * 2;

                // The same all-reduce recorded in CUDA graphs (one per rank, as TensorParallelDecoder's captured step has
                // them) and replayed: no host issue per call.
                var graphSeconds = CapturedSecondsPerCall(comm, devices, perRank);

                // nccl-tests' convention: algorithm bandwidth = bytes / time; bus bandwidth = 2(N-1)/N of it for a ring.
                var algorithm = bytes / seconds;
                sizes.Add(new Dictionary<string, object?>
                {
                    ["tokens"] = tokens,
                    ["hidden"] = hidden,
                    ["dtype"] = "bf16",
                    ["bytes"] = bytes,
                    ["seconds_per_call"] = seconds,
                    ["graph_seconds_per_call"] = graphSeconds,
                    ["issue_seconds_per_call"] = issueSeconds / calls,
                    ["algorithm_bytes_per_second"] = algorithm,
                    ["bus_bytes_per_second"] = ranks > 1 ? algorithm * 2 * (ranks - 1) / ranks : null,
                });
                log.LogInformation("NCCL all-reduce {Ranks} rank(s), {Tokens}x{Hidden} bf16 ({Bytes} B): {Us:F1} us per call ({Issue:F1} us to issue), {Graph:F1} us per call in a graph", ranks, tokens, hidden, bytes, seconds * 1e6, issueSeconds / calls * 1e6, graphSeconds * 1e6);
            }
            finally
            {
                perRank.ForEach(t => t.Dispose());
            }
        }

        var result = new Dictionary<string, object?>
        {
            ["nccl_version"] = NcclCommunicator.Version.ToString(),
            ["ranks"] = ranks,
            ["devices"] = devices,
            ["calls"] = calls,
            ["warmup_calls"] = warmup,
            ["sizes"] = sizes,
        };
        if (ranks > 1)
        {
            Fit("seconds_per_call", "fit", "eager");
            Fit("graph_seconds_per_call", "graph_fit", "graph-captured");
        }

        void Fit(string column, string prefix, string how)
        {
            var samples = sizes.Select(z => new AllReduceSample(ranks, (long)z["bytes"]!, (double)z[column]!)).ToList();
            var fit = InterconnectCalibration.FitAllReduce(samples, $"NVLink-measured-{ranks}gpu", $"NCCL {NcclCommunicator.Version} all-reduce over {ranks} GPUs, {how}, measured from C# {DateTimeOffset.UtcNow:yyyy-MM-dd}");
            result[$"{prefix}_latency_seconds"] = fit.Interconnect.LatencySeconds;
            result[$"{prefix}_bus_bandwidth_bytes_per_second"] = fit.Interconnect.BusBandwidthBytesPerSecond;
            result[$"{prefix}_max_abs_relative_error"] = fit.MaxAbsoluteRelativeError;
            result[$"{prefix}_relative_residuals"] = fit.RelativeResiduals;
            // The baseline: what the built-in NVLink 4 link (used for the emulated Table 1 profiles) predicts for each size.
            result["nvlink4_builtin_seconds"] = samples.Select(z => CommunicationModel.AllReduceSeconds(z.Bytes, ranks, Interconnects.NvLink4)).ToArray();
            log.LogInformation("NCCL {How} fit over {Ranks} GPUs: latency {Us:F1} us, bus bandwidth {Gb:F0} GB/s, max relative error {Err:P1}", how, ranks, fit.Interconnect.LatencySeconds * 1e6, fit.Interconnect.BusBandwidthBytesPerSecond / 1e9, fit.MaxAbsoluteRelativeError);
        }

        return result;
    }

    /// <summary>
    /// Seconds per all-reduce when <paramref name="callsPerGraph"/> of them are captured in one CUDA graph per rank (each
    /// rank's capture stream current on its device) and the ranks' graphs are replayed together.
    /// </summary>
    internal static double CapturedSecondsPerCall(NcclCommunicator comm, int[] devices, List<Tensor> perRank, int callsPerGraph = 20, int replays = 20)
    {
        var streams = devices.Select(CudaGraph.SideStream).ToArray();
        CudaGraph[] graphs = [];
        CudaGraph.OnStreams(devices, streams, () =>
        {
            // NCCL sets up its per-stream state on a stream's first call: not inside the capture.
            comm.SumInPlace(perRank);
            CudaGraph.SynchronizeDevices(devices);
            graphs = CudaGraph.CaptureOnDevices(devices, streams, () =>
            {
                for (var k = 0; k < callsPerGraph; k++)
                {
                    comm.SumInPlace(perRank);
                }
            });
        });

        try
        {
            for (var i = 0; i < 3; i++)
            {
                Array.ForEach(graphs, g => g.Replay());
            }

            CudaGraph.SynchronizeDevices(devices);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < replays; i++)
            {
                Array.ForEach(graphs, g => g.Replay());
            }

            CudaGraph.SynchronizeDevices(devices);
            return sw.Elapsed.TotalSeconds / (replays * callsPerGraph);
        }
        finally
        {
            Array.ForEach(graphs, g => g.Dispose());
        }
    }
}
