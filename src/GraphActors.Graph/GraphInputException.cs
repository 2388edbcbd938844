namespace GraphActors.Graph;

/// <summary>
/// Bad input to a graph load: says which source (file or table), line or row, and field was wrong,
/// so a person can go straight to it.
/// </summary>
public sealed class GraphInputException : BadInputException
{
    public GraphInputException(string source, long line, string? field, string problem, Exception? inner = null)
        : base(Format(source, line, field, problem), inner)
    {
        SourceName = source;
        Line = line;
        Field = field;
        Problem = problem;
    }

    /// <summary>The file path or table the bad value came from.</summary>
    public string SourceName { get; }

    /// <summary>1-based line (text sources) or row number; 0 when the problem is not tied to a line.</summary>
    public long Line { get; }

    /// <summary>The column or field name, when one is at fault.</summary>
    public string? Field { get; }

    public string Problem { get; }

    private static string Format(string source, long line, string? field, string problem)
    {
        var where = line > 0 ? $"{source}:{line}" : source;
        return field is null ? $"{where}: {problem}" : $"{where}: field '{field}': {problem}";
    }
}
