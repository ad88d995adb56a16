namespace LlmEff.Cli.Profiling;

/// <summary>A progress line rewritten in place with <c>\r</c>; other messages end it first so they start on a line of their own.</summary>
internal sealed class StatusLine(TextWriter writer)
{
    private bool _open;

    /// <summary>Replaces the line's text.</summary>
    public void Update(string text)
    {
        writer.Write("\r" + text);
        _open = true;
    }

    /// <summary>Ends the line, if one is showing.</summary>
    public void End()
    {
        if (_open)
        {
            writer.WriteLine();
            _open = false;
        }
    }
}
