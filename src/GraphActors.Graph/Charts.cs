// Charts a person reads after a run (partition balance, training curves), drawn by ScottPlot as PNG and SVG.
using ScottPlot;

namespace GraphActors.Graph;

public static class Charts
{
    public const int Width = 800;
    public const int Height = 450;

    /// <summary>
    /// Writes <paramref name="plot"/> to <paramref name="path"/> as SVG or PNG (by its extension) and the other format
    /// beside it (same name), each through a temporary file and a rename. Returns both paths, SVG first.
    /// </summary>
    public static (string Svg, string Png) Write(Plot plot, string path, int width = Width, int height = Height)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".svg" or ".png"))
            throw new BadInputException($"chart path '{path}': give a .svg or .png file (the other format is written beside it).");
        var svg = Path.ChangeExtension(path, ".svg");
        var png = Path.ChangeExtension(path, ".png");
        AtomicFile.WriteAllText(svg, plot.GetSvgXml(width, height));
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(width, height, ImageFormat.Png));
        return (svg, png);
    }

    /// <summary>Major ticks at whole numbers from <paramref name="first"/> to <paramref name="last"/>, at most ~12 of them.</summary>
    public static ScottPlot.TickGenerators.NumericManual IntegerTicks(int first, int last, Func<int, string>? label = null)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var step = Math.Max(1, (int)Math.Ceiling((last - first + 1) / 12.0));
        for (var i = first; i <= last; i += step) ticks.AddMajor(i, label?.Invoke(i) ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ticks;
    }
}
