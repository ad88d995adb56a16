namespace LlmEff.Profiling.Api.Tests.Emulator;

/// <summary>What the emulator saw of one request.</summary>
internal sealed record ReceivedRequest(int Number, int PromptTokens, int OutputTokens, string PromptKey, bool Stream, bool Chat, EmulatedFaultKind? Fault, bool Completed);
