using System.Text;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Fills the named constants of a line of generated TorchScript (<see cref="DecoderScript"/>): whole words only, so
/// <c>H</c> is replaced but not inside <c>HD</c> or <c>HID</c>, nor after a dot (<c>x.H</c>); <c>{NAME}</c> is replaced
/// even inside a word.
/// </summary>
internal static class ScriptTemplate
{
    public static string Substitute(string line, IReadOnlyDictionary<string, string> constants)
    {
        // Replace whole-word constant names only (e.g. H but not HD or HID).
        var sb = new StringBuilder();
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsLetter(line[i]) || line[i] == '_' || line[i] == '{')
            {
                var brace = line[i] == '{';
                var j = i + (brace ? 1 : 0);
                while (j < line.Length && (char.IsLetterOrDigit(line[j]) || line[j] == '_'))
                {
                    j++;
                }

                var word = line[(i + (brace ? 1 : 0))..j];
                if (brace && j < line.Length && line[j] == '}' && constants.TryGetValue(word, out var braced))
                {
                    sb.Append(braced);
                    i = j + 1;
                    continue;
                }

                var prevIsDot = i > 0 && line[i - 1] == '.';
                if (!brace && !prevIsDot && constants.TryGetValue(word, out var value))
                {
                    sb.Append(value);
                }
                else
                {
                    sb.Append(line, i, j - i);
                }

                i = j;
                continue;
            }

            sb.Append(line[i]);
            i++;
        }

        return sb.ToString();
    }
}
