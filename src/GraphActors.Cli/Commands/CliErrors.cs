// The one place that turns an exception into an exit code: bad input → 2 and one line naming where; anything else → 1.
using System.CommandLine;
using System.Text.Json;
using GraphActors.Cluster.Hosting;
using GraphActors.Graph;
using GraphActors.Training;

namespace GraphActors.Cli.Commands;

/// <summary>
/// Exit codes of every verb (docs/CLI.md): 0 done, 1 an internal error (a fault of this program, or of something it
/// depends on at run time), 2 bad input (a missing or malformed file, a bad row, key, field or option). Bad input prints
/// exactly one line, <c>error: …</c>, that names the file, row, key, field or option; an internal error prints
/// <c>internal error: …</c> and the stack trace for a bug report.
/// </summary>
internal static class CliErrors
{
    public const int Internal = 1;
    public const int BadInput = 2;

    /// <summary>Prints <paramref name="e"/> as its class of error and returns the exit code.</summary>
    public static int Report(Exception e, TextWriter? error = null)
    {
        error ??= Console.Error;
        var inner = Unwrap(e);
        if (BadInputMessage(inner) is { } message)
        {
            error.WriteLine($"error: {OneLine(message)}");
            return BadInput;
        }
        error.WriteLine($"internal error: {inner.GetType().Name}: {OneLine(inner.Message)}");
        error.WriteLine(inner.ToString());
        return Internal;
    }

    /// <summary>The one-line message of a bad-input exception; null when <paramref name="e"/> is an internal error.</summary>
    public static string? BadInputMessage(Exception e) => e switch
    {
        BadInputException => e.Message,
        TrainingConfigException => e.Message,
        DeployException => e.Message,
        Akka.Configuration.ConfigurationException => $"bad HOCON: {e.Message}",
        FileNotFoundException f => f.FileName is { } name && !f.Message.Contains(name, StringComparison.Ordinal) ? $"{name}: {f.Message}" : f.Message,
        DirectoryNotFoundException => e.Message,
        UnauthorizedAccessException => e.Message,
        JsonException j => $"malformed JSON{(j.Path is null ? "" : $" at {j.Path}")}: {j.Message}",
        Parquet.ParquetException => $"malformed Parquet: {e.Message}",
        _ => null,
    };

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a: e = a.InnerExceptions[0]; continue;
                case System.Reflection.TargetInvocationException { InnerException: { } i }: e = i; continue;
                case TypeInitializationException { InnerException: { } t }: e = t; continue;
                default: return e;
            }
        }
    }

    private static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A bad option value: names the option.</summary>
    public static BadInputException BadOption(string option, string problem) => new($"{option}: {problem}");
}

/// <summary>Runs a verb body; a failure is reported by <see cref="CliErrors"/> (exit 2 for bad input, 1 otherwise).</summary>
internal static class CliRun
{
    public static int Guarded(Action body)
    {
        try
        {
            body();
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return CliErrors.Report(e);
        }
    }

    public static int Guarded(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return CliErrors.Report(e);
        }
    }
}

/// <summary>Option validators: a bad value is a parse error (exit 2, one line naming the option) before any work starts.</summary>
internal static class CliOptions
{
    public static Option<T> AtLeast<T>(this Option<T> option, T min) where T : IComparable<T>
    {
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<T>();
            if (v is not null && v.CompareTo(min) < 0) r.AddError($"{option.Name} must be at least {min}, not {v}.");
        });
        return option;
    }

    /// <summary>A comma-separated list of positive integers (fanouts, sizes), or bad input naming the option.</summary>
    public static int[] PositiveInts(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
                throw CliErrors.BadOption(option, $"'{parts[i]}' is not a positive integer (expected a list such as '10,5').");
        if (values.Length == 0) throw CliErrors.BadOption(option, "is empty (expected a list such as '10,5').");
        return values;
    }
}
