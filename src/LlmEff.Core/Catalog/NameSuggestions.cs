namespace LlmEff.Core.Catalog;

/// <summary>Closest-name suggestions for unknown model, architecture, accelerator or scenario names, as the catalog's errors give them.</summary>
public static class NameSuggestions
{
    /// <summary>
    /// The <paramref name="count"/> candidates closest to <paramref name="name"/>, case-insensitive: those it begins first,
    /// then a typo of a whole name (an edit or two, about one in eight characters), then those containing it (or contained
    /// in it), then by edit distance.
    /// </summary>
    /// <param name="name">The unknown name.</param>
    /// <param name="candidates">The known names.</param>
    /// <param name="count">How many to return at most.</param>
    public static IReadOnlyList<string> Closest(string name, IEnumerable<string> candidates, int count = 3)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var query = Key(name);
        return candidates
            .Distinct(StringComparer.Ordinal)
            .Select(c => (Name: c, Key: Key(c), Short: Key(c[(c.LastIndexOfAny([':', '/']) + 1)..])))
            // A name the typed one begins ("H100" of "H100-SXM") comes first: otherwise the one-character slip rule below
            // would offer "H200". Then a one-character slip of a full name ("…-bf17" for "…-bf16") outranks a short name
            // that happens to be inside it.
            .OrderBy(x => query.Length > 0 && (x.Key.StartsWith(query, StringComparison.Ordinal) || x.Short.StartsWith(query, StringComparison.Ordinal)) ? 0
                : query.Length > 0 && EditDistance(query, x.Key) <= Math.Max(1, query.Length / 8) ? 1
                : query.Length > 0 && (x.Key.Contains(query, StringComparison.Ordinal) || query.Contains(x.Short, StringComparison.Ordinal)) ? 2 : 3)
            .ThenBy(x => Math.Min(EditDistance(query, x.Key), EditDistance(query, x.Short)))
            .ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(count)
            .Select(x => x.Name)
            .ToArray();
    }

    /// <summary>"Closest: 'a', 'b', 'c'." for an error message; "No names are known to suggest from." without candidates.</summary>
    /// <param name="name">The unknown name.</param>
    /// <param name="candidates">The known names.</param>
    /// <param name="count">How many to name at most.</param>
    public static string Describe(string name, IEnumerable<string> candidates, int count = 3)
    {
        var closest = Closest(name, candidates, count);
        // An empty catalog (an empty HELM tables folder) would otherwise print "Closest: ."
        return closest.Count == 0
            ? "No names are known to suggest from."
            : "Closest: " + string.Join(", ", closest.Select(c => $"'{c}'")) + ".";
    }

    // Case-folded letters and digits only, so "llama3-8b" finds "Meta-Llama-3-8B"; zeros read as O because
    // HELM spells BLOOM "BL00M".
    private static string Key(string name) => new(name.Where(char.IsLetterOrDigit).Select(c => c == '0' ? 'o' : char.ToLowerInvariant(c)).ToArray());

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
