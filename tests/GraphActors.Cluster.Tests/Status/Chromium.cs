// Debian's headless chromium driven through Debian's chromedriver with Selenium WebDriver. Both paths are given, so
// Selenium Manager never looks for (or downloads) a driver or a browser.
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace GraphActors.Cluster.Tests.Status;

internal static class Chromium
{
    public const string DriverPath = "/usr/bin/chromedriver", BrowserPath = "/usr/bin/chromium";

    public static bool Available => File.Exists(DriverPath) && File.Exists(BrowserPath);

    /// <summary>
    /// One chromedriver on a free loopback port and one headless browser session with a fresh profile (chromedriver makes
    /// it and deletes it at the end). Every command has a timeout; Dispose quits the browser and stops the driver.
    /// </summary>
    public static ChromeDriver Start(int width = 1400, int height = 1700)
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            $"--window-size={width},{height}");
        try
        {
            return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="script"/> (a function body) in the page and returns what it returned.</summary>
    public static object? Run(this IWebDriver browser, string script) => ((IJavaScriptExecutor)browser).ExecuteScript(script);

    /// <summary>Runs a script that returns an array of strings.</summary>
    public static string[] Strings(this IWebDriver browser, string script) => browser.Run(script) switch
    {
        IEnumerable<object> items => items.Select(i => i as string ?? throw new InvalidOperationException($"the script returned a {i?.GetType().Name ?? "null"} in its array:\n{script}")).ToArray(),
        var other => throw new InvalidOperationException($"the script returned {other?.GetType().Name ?? "null"}, not an array:\n{script}"),
    };

    /// <summary>A PNG of the viewport, written to <paramref name="path"/> (temp file, then renamed).</summary>
    public static void Screenshot(this ITakesScreenshot browser, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        browser.GetScreenshot().SaveAsFile(temp);
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>A fact that needs Debian's chromium and chromium-driver; reported skipped, saying what to install, when absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!Chromium.Available)
            Skip = $"{Chromium.BrowserPath} or {Chromium.DriverPath} not found (install the Debian packages 'chromium' and " +
                   "'chromium-driver'; .ci/run does): the status page browser test did not run.";
    }
}
