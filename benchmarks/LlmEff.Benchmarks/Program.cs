using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/LlmEff.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(LlmEff.Benchmarks.FitBenchmarks).Assembly).Run(args);
