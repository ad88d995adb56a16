using Microsoft.Extensions.Logging;

namespace LlmEff.Core.Batching;

/// <summary>
/// The paper's runtime model extended to a static batch of <c>b</c> queries with the same <c>(p, o)</c>:
/// <c>t(p, o, b) = PE(p, b) + Σ_{i=1}^{o−1} g(b, p + i − 1)</c>. At every profiled batch size <c>b_k</c> it holds one
/// batch-1-form <see cref="RuntimeModel"/> (piecewise-linear <c>PE</c> in <c>p</c>, context-aware decode
/// <c>g0 + g1·context</c>), fitted by the paper's two-step procedure on that batch size's samples; between profiled
/// batch sizes every term is linear in <c>b</c>, so the prediction interpolates linearly (see docs/batching.md for why).
/// Immutable and thread-safe.
/// </summary>
public sealed class BatchedRuntimeModel
{
    private readonly int[] _batchSizes;
    private readonly RuntimeModel[] _models;

    private BatchedRuntimeModel(int[] batchSizes, RuntimeModel[] models, ErrorSummary? fitError, ErrorSummary? leaveOneOut, RuntimeModelMetadata metadata)
    {
        _batchSizes = batchSizes;
        _models = models;
        FitError = fitError;
        LeaveOneBatchSizeOutError = leaveOneOut;
        Metadata = metadata;
    }

    /// <summary>Name of this model's JSON schema (<c>"schema"</c> field).</summary>
    public const string JsonSchemaName = "llmeff.batched-runtime-model";

    /// <summary>Version of this model's JSON schema that this library writes and reads.</summary>
    public const int JsonSchemaVersion = 1;

    /// <summary>The profiled batch sizes, ascending.</summary>
    public IReadOnlyList<int> ProfiledBatchSizes => _batchSizes;

    /// <summary>The per-batch-size runtime models, in the order of <see cref="ProfiledBatchSizes"/>; each predicts the whole batch's runtime.</summary>
    public IReadOnlyList<RuntimeModel> BatchModels => _models;

    /// <summary>Smallest profiled batch size.</summary>
    public int MinimumProfiledBatchSize => _batchSizes[0];

    /// <summary>Largest profiled batch size; beyond it predictions extrapolate.</summary>
    public int MaximumProfiledBatchSize => _batchSizes[^1];

    /// <summary>Errors of the fit on its own samples (null for a model built from given parameters).</summary>
    public ErrorSummary? FitError { get; }

    /// <summary>
    /// Held-out error of the interpolation in <c>b</c>: each interior profiled batch size is left out and its samples are
    /// predicted from its neighbours. Conservative, since leaving one out doubles the span interpolated over. Null with
    /// fewer than three profiled batch sizes or for a model built from given parameters.
    /// </summary>
    public ErrorSummary? LeaveOneBatchSizeOutError { get; }

    /// <summary>Provenance (model, hardware, accelerators, source).</summary>
    public RuntimeModelMetadata Metadata { get; }

    /// <summary>
    /// Fits one <see cref="RuntimeModel"/> per batch size in <paramref name="samples"/> (<see cref="ProfilingSample.BatchSize"/>,
    /// null meaning 1) and reports the fit and leave-one-batch-size-out errors.
    /// </summary>
    /// <param name="samples">Measured batches: at least two batch sizes, each with the prompt sizes and output lengths <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> needs.</param>
    /// <param name="options">Options of every per-batch-size fit; null uses the defaults with the context-aware decode
    /// (<see cref="DecodeModel.ContextLinear"/>), since a batched step reads <c>b</c> KV caches that grow with context.</param>
    /// <param name="logger">Receives each per-batch-size fit's findings; null logs nothing.</param>
    /// <exception cref="ArgumentException">No samples, or fewer than two batch sizes.</exception>
    /// <exception cref="RuntimeFitException">A per-batch-size fit is not physical and <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> is not set.</exception>
    public static BatchedRuntimeModel Fit(IEnumerable<ProfilingSample> samples, RuntimeFitOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var list = samples.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("No samples to fit; profile at least two batch sizes (e.g. llmeff profile torch --batch-sizes 1,4,16).", nameof(samples));
        }

        // Nulls first: the grouping by batch size below would dereference them.
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is null)
            {
                throw new ArgumentException($"samples[{i}] is null; remove null entries.", nameof(samples));
            }

            if (list[i].BatchSize is < 1)
            {
                throw new ArgumentException($"A sample has batch size {list[i].BatchSize}; a batch holds 1 or more queries.", nameof(samples));
            }
        }

        var groups = list.GroupBy(s => s.BatchSize ?? 1).OrderBy(g => g.Key).ToArray();
        if (groups.Length < 2)
        {
            throw new ArgumentException($"The samples hold only batch size {groups[0].Key}; a batched model interpolates between batch sizes, so profile at least two (e.g. --batch-sizes 1,4,16), or fit a RuntimeModel for one batch size.", nameof(samples));
        }

        options ??= RuntimeFitOptions.Default with { Decode = DecodeModel.ContextLinear };
        var sizes = groups.Select(g => g.Key).ToArray();
        var models = new RuntimeModel[groups.Length];
        for (var k = 0; k < groups.Length; k++)
        {
            // Each batch size's model keeps the run's provenance, its batch size first.
            var shared = options.Metadata ?? new RuntimeModelMetadata();
            var metadata = shared with { Notes = string.IsNullOrEmpty(shared.Notes) ? $"batch size {sizes[k]}" : $"batch size {sizes[k]}; {shared.Notes}" };
            models[k] = RuntimeModel.Fit(groups[k], options with { Metadata = metadata }, logger);
        }

        var fitted = new BatchedRuntimeModel(sizes, models, null, null, options.Metadata ?? new RuntimeModelMetadata());
        var fitError = fitted.Evaluate(list);
        ErrorSummary? leaveOneOut = null;
        if (sizes.Length >= 3)
        {
            var errors = new List<double>();
            for (var k = 1; k < sizes.Length - 1; k++)
            {
                var without = new BatchedRuntimeModel(
                    [.. sizes.Where((_, i) => i != k)], [.. models.Where((_, i) => i != k)], null, null, fitted.Metadata);
                errors.AddRange(groups[k].Select(s => RelativeError(without, s)));
            }

            leaveOneOut = ErrorSummary.FromRelativeErrors(errors);
        }

        return new BatchedRuntimeModel(sizes, models, fitError, leaveOneOut, fitted.Metadata);
    }

    /// <summary>Builds a model from per-batch-size runtime models (e.g. ones fitted or published separately).</summary>
    /// <param name="models">At least two (batch size, model of the whole batch's runtime) pairs with distinct batch sizes of 1 or more.</param>
    /// <param name="metadata">Provenance.</param>
    /// <exception cref="ArgumentException">Fewer than two models, a repeated batch size or one below 1.</exception>
    public static BatchedRuntimeModel Create(IEnumerable<KeyValuePair<int, RuntimeModel>> models, RuntimeModelMetadata? metadata = null)
        => Create(models, metadata, null, null);

    internal static BatchedRuntimeModel Create(IEnumerable<KeyValuePair<int, RuntimeModel>> models, RuntimeModelMetadata? metadata, ErrorSummary? fitError, ErrorSummary? leaveOneOut)
    {
        ArgumentNullException.ThrowIfNull(models);
        var pairs = models.OrderBy(m => m.Key).ToArray();
        if (pairs.Length < 2)
        {
            throw new ArgumentException($"A batched model needs runtime models at two or more batch sizes; got {pairs.Length}.", nameof(models));
        }

        for (var i = 0; i < pairs.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(pairs[i].Value, nameof(models));
            if (pairs[i].Key < 1)
            {
                throw new ArgumentException($"Batch size {pairs[i].Key} is not a batch; use 1 or more.", nameof(models));
            }

            if (i > 0 && pairs[i].Key == pairs[i - 1].Key)
            {
                throw new ArgumentException($"Batch size {pairs[i].Key} appears twice; give one model per batch size.", nameof(models));
            }
        }

        return new BatchedRuntimeModel([.. pairs.Select(p => p.Key)], [.. pairs.Select(p => p.Value)], fitError, leaveOneOut, metadata ?? new RuntimeModelMetadata());
    }

    /// <summary>True when <paramref name="batchSize"/> lies outside the profiled batch sizes.</summary>
    public bool IsBatchSizeExtrapolated(int batchSize) => batchSize < _batchSizes[0] || batchSize > _batchSizes[^1];

    /// <summary>Predicted end-to-end runtime in seconds of a static batch of <paramref name="batchSize"/> queries of <c>(p, o)</c>.</summary>
    /// <param name="promptTokens">Prompt size <c>p</c> of each query; non-negative.</param>
    /// <param name="outputTokens">Output tokens <c>o</c> of each query; at least 1.</param>
    /// <param name="batchSize">Queries in the batch, <c>b</c>; at least 1. Outside the profiled range the result is extrapolated (see <see cref="Explain"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A token count or the batch size is out of range.</exception>
    /// <exception cref="InvalidOperationException">Extrapolating in <c>b</c> gives no positive runtime (the profiled trend falls); profile that batch size.</exception>
    public double Predict(int promptTokens, int outputTokens, int batchSize) => Explain(promptTokens, outputTokens, batchSize).BatchSeconds;

    /// <summary>The prediction broken into prompt encoding and decode, with extrapolation flags.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token count or the batch size is out of range.</exception>
    /// <exception cref="InvalidOperationException">Extrapolating in <c>b</c> gives no positive runtime; profile that batch size.</exception>
    public BatchedRuntimePrediction Explain(int promptTokens, int outputTokens, int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds 1 or more queries; pass batchSize >= 1.");
        }

        // The segment [b_k, b_k+1] holding b, or the nearest end segment when b is outside the profiled range.
        var k = 0;
        while (k < _batchSizes.Length - 2 && batchSize > _batchSizes[k + 1])
        {
            k++;
        }

        var lo = _models[k].Explain(promptTokens, outputTokens);
        var hi = _models[k + 1].Explain(promptTokens, outputTokens);
        var w = (batchSize - _batchSizes[k]) / (double)(_batchSizes[k + 1] - _batchSizes[k]);
        var pe = Lerp(lo.PromptEncodingSeconds + lo.OverheadSeconds, hi.PromptEncodingSeconds + hi.OverheadSeconds, w);
        var decode = Lerp(lo.GenerationSeconds, hi.GenerationSeconds, w);
        var total = pe + decode;
        if (!(pe >= 0 && decode >= 0 && total > 0))
        {
            // Only a kept non-physical per-batch-size fit (see their Warnings) or a falling trend extended past the
            // profiled range gets here; a runtime of zero or less, or a part of it below zero, is never returned.
            throw new InvalidOperationException(IsBatchSizeExtrapolated(batchSize)
                ? FormattableString.Invariant($"Batch size {batchSize} lies outside the profiled {_batchSizes[0]}..{_batchSizes[^1]}, and following the nearest profiled segment gives a non-physical runtime (prompt encoding {pe:G4} s, decode {decode:G4} s); profile that batch size.")
                : FormattableString.Invariant($"Between the profiled batch sizes {_batchSizes[k]} and {_batchSizes[k + 1]} the runtime of (p = {promptTokens}, o = {outputTokens}) comes out non-physical (prompt encoding {pe:G4} s, decode {decode:G4} s): the per-batch-size fits are not physical; see their Warnings and profile again with more trials."));
        }

        return new BatchedRuntimePrediction(
            promptTokens, outputTokens, batchSize, pe, decode, total, IsBatchSizeExtrapolated(batchSize), lo.PromptExtrapolated || hi.PromptExtrapolated);
    }

    /// <summary>Errors of this model on measured batches (each sample as is, its <see cref="ProfilingSample.BatchSize"/> null meaning 1); a query it cannot predict physically counts as a 100% error.</summary>
    /// <exception cref="ArgumentException">No samples.</exception>
    public ErrorSummary Evaluate(IEnumerable<ProfilingSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return ErrorSummary.FromRelativeErrors(samples.Select(s => RelativeError(this, s)));
    }

    /// <summary>Returns a copy with different provenance.</summary>
    public BatchedRuntimeModel WithMetadata(RuntimeModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new BatchedRuntimeModel(_batchSizes, _models, FitError, LeaveOneBatchSizeOutError, metadata);
    }

    /// <summary>Serialises the model (per-batch-size models, errors, provenance) to JSON, schema <see cref="JsonSchemaName"/>.</summary>
    public string ToJson() => BatchedRuntimeModelJson.Serialize(this);

    /// <summary>Reads a model written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">Not JSON, another schema or version, or a malformed entry; the message names the field and the fix.</exception>
    public static BatchedRuntimeModel FromJson(string json) => BatchedRuntimeModelJson.Deserialize(json);

    /// <summary>Reads a model from the JSON file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">The file is not a batched runtime model of this schema version.</exception>
    public static BatchedRuntimeModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No batched runtime-model file at '{path}'; check the path or write one with BatchedRuntimeModel.ToJson().", path);
        }

        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{Metadata.ModelName ?? "BatchedRuntimeModel"}: batch sizes {string.Join(",", _batchSizes)}{(LeaveOneBatchSizeOutError is { } e ? $", leave-one-batch-size-out {e}" : string.Empty)}");

    private static double Lerp(double a, double b, double w) => a + ((b - a) * w);

    // A query the model cannot predict physically counts as a 100% error rather than stopping the error report.
    private static double RelativeError(BatchedRuntimeModel model, ProfilingSample s)
    {
        double predicted;
        try
        {
            predicted = model.Predict(s.PromptTokens, s.OutputTokens, s.BatchSize ?? 1);
        }
        catch (InvalidOperationException)
        {
            predicted = 0;
        }

        return (predicted - s.RuntimeSeconds) / s.RuntimeSeconds;
    }
}
