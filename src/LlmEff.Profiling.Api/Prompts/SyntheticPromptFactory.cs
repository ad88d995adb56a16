using Microsoft.ML.Tokenizers;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Builds prompts of an exact token count from seeded random English words, so that every request of a run is
/// distinct (no prefix-cache hits inflating the apparent prompt-encoding speed) yet reproducible.
/// </summary>
public sealed class SyntheticPromptFactory
{
    // Common, mostly single-token words keep the text natural without biasing towards long merges.
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "time", "people", "year", "way", "day", "man", "thing", "woman", "life", "child", "world",
        "school", "state", "family", "student", "group", "country", "problem", "hand", "part", "place", "case", "week",
        "company", "system", "program", "question", "work", "number", "night", "point", "home", "water", "room",
        "mother", "area", "money", "story", "fact", "month", "lot", "right", "study", "book", "eye", "job", "word",
    ];

    private readonly Tokenizer _tokenizer;

    private SyntheticPromptFactory(Tokenizer tokenizer, string encodingName)
    {
        _tokenizer = tokenizer;
        EncodingName = encodingName;
    }

    /// <summary>The encoding prompt sizes are counted in.</summary>
    public string EncodingName { get; }

    /// <summary>The tokenizer used to count.</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>
    /// A factory for a tiktoken encoding shipped with LlmEff: <c>cl100k_base</c> (GPT-3.5/4), <c>o200k_base</c>
    /// (GPT-4o and later) or <c>gpt2</c> (GPT-2 and GPT-3, the same vocabulary as <c>r50k_base</c>).
    /// </summary>
    /// <param name="encodingName">The encoding's name.</param>
    /// <exception cref="ArgumentException">The encoding is unknown.</exception>
    public static SyntheticPromptFactory ForEncoding(string encodingName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(encodingName);
        var normalized = encodingName.Trim().ToLowerInvariant() switch
        {
            "cl100k" or "cl100k_base" => "cl100k_base",
            "o200k" or "o200k_base" => "o200k_base",
            // r50k_base is GPT-2's vocabulary; it ships in the Gpt2 data package under the model name.
            "gpt2" or "gpt-2" or "r50k" or "r50k_base" => "gpt2",
            _ => throw new ArgumentException(
                $"Unknown encoding '{encodingName}'; use cl100k_base, o200k_base or gpt2, or pass a Tokenizer (e.g. a Llama SentencePiece model) to ForTokenizer.",
                nameof(encodingName)),
        };
        var tokenizer = normalized == "gpt2" ? TiktokenTokenizer.CreateForModel("gpt2") : TiktokenTokenizer.CreateForEncoding(normalized);
        return new SyntheticPromptFactory(tokenizer, normalized);
    }

    /// <summary>A factory for any <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, e.g. <c>LlamaTokenizer.Create(stream)</c> of a model's <c>tokenizer.model</c>.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="encodingName">A name for provenance, e.g. <c>llama-2</c>.</param>
    public static SyntheticPromptFactory ForTokenizer(Tokenizer tokenizer, string encodingName)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(encodingName);
        return new SyntheticPromptFactory(tokenizer, encodingName);
    }

    /// <summary>A factory for a SentencePiece model file (Llama, Mistral and friends: the model's <c>tokenizer.model</c>).</summary>
    /// <param name="modelPath">Path of the SentencePiece model.</param>
    public static SyntheticPromptFactory ForSentencePieceModel(string modelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"SentencePiece model '{modelPath}' does not exist; pass the path of the model's tokenizer.model.", modelPath);
        }

        using var stream = File.OpenRead(modelPath);
        // No BOS/EOS: servers add their own, and the prompt size should count only what we send.
        var tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        return new SyntheticPromptFactory(tokenizer, Path.GetFileNameWithoutExtension(modelPath));
    }

    /// <summary>Counts the tokens of <paramref name="text"/> under this encoding.</summary>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.CountTokens(text);
    }

    /// <summary>Builds a prompt of exactly <paramref name="promptTokens"/> tokens; the same seed gives the same prompt.</summary>
    /// <param name="promptTokens">Prompt size <c>p</c>; non-negative (0 gives the empty prompt, the overhead anchor of §3.5).</param>
    /// <param name="seed">Seed of the word sequence.</param>
    /// <exception cref="InvalidOperationException">No text of exactly that size could be found (an unusual tokenizer).</exception>
    public SyntheticPrompt Create(int promptTokens, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        if (promptTokens == 0)
        {
            return new SyntheticPrompt(string.Empty, Array.Empty<int>(), EncodingName);
        }

        var random = new Random(seed);
        var builder = new System.Text.StringBuilder(promptTokens * 6);
        // Over-generate, then cut at a token boundary; a few cuts can land inside a merge, so re-check and extend.
        for (var attempt = 0; attempt < 8; attempt++)
        {
            while (_tokenizer.CountTokens(builder.ToString()) < promptTokens + 8)
            {
                AppendWords(builder, random, Math.Max(16, promptTokens - (builder.Length / 6)));
            }

            var text = builder.ToString();
            var cut = _tokenizer.GetIndexByTokenCount(text, promptTokens, out _, out var count);
            var candidate = text[..cut];
            var ids = _tokenizer.EncodeToIds(candidate);
            if (count == promptTokens && ids.Count == promptTokens)
            {
                return new SyntheticPrompt(candidate, ids.ToArray(), EncodingName);
            }

            AppendWords(builder, random, 4);
        }

        throw new InvalidOperationException(
            $"Could not build a prompt of exactly {promptTokens} tokens under '{EncodingName}'; try another seed or encoding.");
    }

    private static void AppendWords(System.Text.StringBuilder builder, Random random, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(Words[random.Next(Words.Length)]);
        }
    }
}
