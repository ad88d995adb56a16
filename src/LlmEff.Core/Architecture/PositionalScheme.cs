namespace LlmEff.Core.Architecture;

/// <summary>How token positions enter the model.</summary>
public enum PositionalScheme
{
    /// <summary>A learned absolute position embedding table (GPT-2/3): adds <c>maxContext × h</c> parameters.</summary>
    Learned = 0,

    /// <summary>Rotary embeddings applied to queries and keys (GPT-J, Llama): no parameters.</summary>
    Rotary = 1,

    /// <summary>ALiBi attention biases (BLOOM): no parameters.</summary>
    Alibi = 2,
}
