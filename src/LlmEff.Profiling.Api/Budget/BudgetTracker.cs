namespace LlmEff.Profiling.Api;

/// <summary>Thread-safe spending against a <see cref="ProfilingBudget"/>; projected costs are reserved before sending.</summary>
internal sealed class BudgetTracker
{
    private readonly ProfilingBudget _budget;
    private readonly object _gate = new();
    private int _requests;
    private long _promptTokens;
    private long _outputTokens;
    private long _reservedPrompt;
    private long _reservedOutput;

    // The most tokens an answer was charged beyond what was asked (a chat template's prompt tokens, an answer longer than
    // max_tokens): projections add them, so that a batch the caps allow is not charged past them.
    private long _extraPrompt;
    private long _extraOutput;

    public BudgetTracker(ProfilingBudget budget) => _budget = budget;

    public BudgetUsage Usage
    {
        get
        {
            lock (_gate)
            {
                return new BudgetUsage(_requests, _promptTokens, _outputTokens, _budget.Dollars(_promptTokens, _outputTokens));
            }
        }
    }

    /// <summary>Counts what an earlier run already spent.</summary>
    public void AddHistory(int requests, long promptTokens, long outputTokens)
    {
        lock (_gate)
        {
            _requests += requests;
            _promptTokens += promptTokens;
            _outputTokens += outputTokens;
        }
    }

    /// <summary>Notes how many tokens beyond the requested counts an answer was charged (negative values are ignored).</summary>
    public void ObserveExtra(long promptTokens, long outputTokens)
    {
        lock (_gate)
        {
            ObserveExtraLocked(promptTokens, outputTokens);
        }
    }

    /// <summary>True when <paramref name="requests"/> more requests of the given projected size fit every cap.</summary>
    public bool CanAfford(int requests, long promptTokensEach, long outputTokensEach)
    {
        lock (_gate)
        {
            return FitsLocked(requests, requests * promptTokensEach, requests * outputTokensEach);
        }
    }

    /// <summary>Counts one attempt and reserves its projected tokens; false (nothing counted) when it would break a cap.</summary>
    public bool TryBeginAttempt(long promptTokens, long outputTokens)
    {
        lock (_gate)
        {
            if (!FitsLocked(1, promptTokens, outputTokens))
            {
                return false;
            }

            _requests++;
            _reservedPrompt += promptTokens;
            _reservedOutput += outputTokens;
            return true;
        }
    }

    /// <summary>Releases an attempt's reservation and charges what it actually used (0 for a failure).</summary>
    public void EndAttempt(long reservedPrompt, long reservedOutput, long usedPrompt, long usedOutput)
    {
        lock (_gate)
        {
            _reservedPrompt -= reservedPrompt;
            _reservedOutput -= reservedOutput;
            _promptTokens += usedPrompt;
            _outputTokens += usedOutput;
            if (usedPrompt > 0 || usedOutput > 0)
            {
                ObserveExtraLocked(usedPrompt - reservedPrompt, usedOutput - reservedOutput);
            }
        }
    }

    private void ObserveExtraLocked(long promptTokens, long outputTokens)
    {
        _extraPrompt = Math.Max(_extraPrompt, promptTokens);
        _extraOutput = Math.Max(_extraOutput, outputTokens);
    }

    private bool FitsLocked(int requests, long promptTokens, long outputTokens)
    {
        if (_budget.MaxRequests is { } maxRequests && _requests + requests > maxRequests)
        {
            return false;
        }

        var prompt = _promptTokens + _reservedPrompt + promptTokens + (requests * _extraPrompt);
        var output = _outputTokens + _reservedOutput + outputTokens + (requests * _extraOutput);
        if (_budget.MaxTokens is { } maxTokens && prompt + output > maxTokens)
        {
            return false;
        }

        return _budget.MaxDollars is not { } maxDollars || _budget.Dollars(prompt, output) <= maxDollars;
    }
}
