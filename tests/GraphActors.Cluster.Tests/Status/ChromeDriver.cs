// Debian's chromedriver driving Debian's headless chromium over the W3C WebDriver HTTP API (no Selenium package).
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Status;

/// <summary>
/// One chromedriver process on a free loopback port and one browser session with a fresh profile. Every call has a
/// timeout; Dispose ends the session, kills the driver with the browser it started, and deletes the profile.
/// </summary>
internal sealed class ChromeDriver : IAsyncDisposable
{
    public const string DriverPath = "/usr/bin/chromedriver", BrowserPath = "/usr/bin/chromium";

    private readonly Process _driver;
    private readonly HttpClient _http;
    private readonly string _profile;
    private readonly System.Text.StringBuilder _log = new();
    private string? _session;

    public static bool Available => File.Exists(DriverPath) && File.Exists(BrowserPath);

    private ChromeDriver(Process driver, HttpClient http, string profile)
    {
        _driver = driver;
        _http = http;
        _profile = profile;
    }

    /// <summary>What chromedriver printed (for failure messages).</summary>
    public string DriverLog { get { lock (_log) return _log.ToString(); } }

    public static async Task<ChromeDriver> StartAsync(int width = 1400, int height = 1700)
    {
        var port = TestNodes.FreePort();
        var psi = new ProcessStartInfo(DriverPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add($"--port={port}");
        psi.ArgumentList.Add("--allowed-ips=127.0.0.1");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {DriverPath}");
        var profile = Path.Combine(Path.GetTempPath(), "ga-status-chromium", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var driver = new ChromeDriver(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) }, profile);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (driver._log) driver._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (driver._log) driver._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await driver.AwaitReady(TimeSpan.FromSeconds(30));
            await driver.CreateSession(width, height);
            return driver;
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
    }

    private async Task AwaitReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_driver.HasExited) throw new InvalidOperationException($"chromedriver exited with {_driver.ExitCode}:\n{DriverLog}");
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var status = await _http.GetFromJsonAsync<JsonObject>("status", cts.Token);
                if (status?["value"]?["ready"]?.GetValue<bool>() == true) return;
                last = status?.ToJsonString() ?? "empty answer";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"chromedriver was not ready within {timeout} (last: {last}):\n{DriverLog}");
    }

    private async Task CreateSession(int width, int height)
    {
        var args = new JsonArray("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            $"--window-size={width},{height}", $"--user-data-dir={_profile}");
        var body = new JsonObject
        {
            ["capabilities"] = new JsonObject
            {
                ["alwaysMatch"] = new JsonObject
                {
                    ["browserName"] = "chrome",
                    ["goog:chromeOptions"] = new JsonObject { ["binary"] = BrowserPath, ["args"] = args },
                },
            },
        };
        var value = await Call(HttpMethod.Post, "session", body);
        _session = value["sessionId"]?.GetValue<string>() ?? throw new InvalidOperationException($"no sessionId in {value.ToJsonString()}");
    }

    public Task Navigate(Uri url) => Call(HttpMethod.Post, $"session/{_session}/url", new JsonObject { ["url"] = url.ToString() });

    /// <summary>Runs <paramref name="script"/> (a function body) in the page and returns what it returned.</summary>
    public async Task<JsonNode?> Execute(string script)
    {
        var value = await Call(HttpMethod.Post, $"session/{_session}/execute/sync", new JsonObject { ["script"] = script, ["args"] = new JsonArray() });
        return value;
    }

    /// <summary>A PNG of the viewport, written to <paramref name="path"/> (temp file, then renamed).</summary>
    public async Task Screenshot(string path)
    {
        var value = await Call(HttpMethod.Get, $"session/{_session}/screenshot", null);
        var png = Convert.FromBase64String(value.GetValue<string>());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        await File.WriteAllBytesAsync(temp, png);
        File.Move(temp, path, overwrite: true);
    }

    // One WebDriver command: its "value", or an exception with the driver's error and message.
    private async Task<JsonNode> Call(HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path);
        // A plain content with a length: chromedriver's server resets chunked requests.
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"WebDriver {method} /{path} answered {(int)response.StatusCode} with non-JSON: {text}");
        }
        var value = json?["value"];
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"WebDriver {method} /{path} failed ({(int)response.StatusCode}): {value?["error"]} {value?["message"]}\n{DriverLog}");
        return value ?? JsonValue.Create((string?)null)!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is not null)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _http.DeleteAsync($"session/{_session}", cts.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // The driver is killed below anyway.
            }
        }
        if (!_driver.HasExited)
        {
            _driver.Kill(entireProcessTree: true);
            await _driver.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _driver.Dispose();
        _http.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that needs Debian's chromium and chromium-driver; reported skipped, saying what to install, when absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!ChromeDriver.Available)
            Skip = $"{ChromeDriver.BrowserPath} or {ChromeDriver.DriverPath} not found (install the Debian packages 'chromium' and " +
                   "'chromium-driver'; .ci/run does): the status page browser test did not run.";
    }
}
