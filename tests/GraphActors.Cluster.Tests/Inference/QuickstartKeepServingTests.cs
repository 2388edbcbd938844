// `graphactors quickstart --keep-serving` as a real process: it serves the curl line it prints, and SIGTERM stops it cleanly.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Inference;

[Collection(MultiNodeCollection.Name)]
public sealed class QuickstartKeepServingTests
{
    [Fact]
    public async Task Keep_serving_answers_its_curl_line_and_stops_cleanly_on_SIGTERM()
    {
        var output = Path.Combine(Path.GetTempPath(), $"ga-quickstart-{Guid.NewGuid():N}");
        try
        {
            using var cli = CliProcess.Start(["quickstart", "--keep-serving", "--out", output, "--users", "2000", "--items", "1000", "--parts", "2", "--method", "hash"]);
            await cli.WaitForLine("serving; press Ctrl-C", TimeSpan.FromMinutes(4));

            var curl = Regex.Match(cli.Stdout, @"curl -X POST (\S+) -H 'Content-Type: application/json' -d '([^']+)'");
            Assert.True(curl.Success, $"no curl line in the output:\n{cli.Output}");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using (var response = await http.PostAsync(curl.Groups[1].Value, new StringContent(curl.Groups[2].Value, Encoding.UTF8, "application/json")))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, text);
                var predictions = JsonDocument.Parse(text).RootElement.GetProperty("predictions");
                Assert.Equal(3, predictions.GetArrayLength());
                Assert.Equal(8, predictions[0].GetProperty("probabilities").GetArrayLength());
            }

            // The management API needs the token the node generated into its data folder; the printed line reads it there.
            var list = Regex.Match(cli.Stdout, @"curl -H ""Authorization: Bearer \$\(cat (\S+)\)"" (\S+)");
            Assert.True(list.Success, $"no management curl line in the output:\n{cli.Output}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(list.Groups[1].Value));
            using (var anonymous = await http.GetAsync(list.Groups[2].Value))
                Assert.Equal(401, (int)anonymous.StatusCode);
            using (var request = new HttpRequestMessage(HttpMethod.Get, list.Groups[2].Value))
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(list.Groups[1].Value).Trim());
                using var listed = await http.SendAsync(request);
                var text = await listed.Content.ReadAsStringAsync();
                Assert.True(listed.IsSuccessStatusCode, text);
                Assert.Contains("\"modelName\":\"quickstart\"", text);
            }

            var exit = await cli.Terminate(TimeSpan.FromSeconds(60));
            Assert.True(exit == 0, $"exit code {exit}\n{cli.Output}");
            var stdout = cli.Stdout;
            Assert.Matches(@"SIGTERM: stopping the HTTP API \(inference http://127\.0\.0\.1:\d+/, management http://127\.0\.0\.1:\d+/, metrics http://127\.0\.0\.1:\d+/\) … stopped", stdout);
            Assert.Contains("stopped cleanly", stdout);
            Assert.Contains("quickstart finished", stdout);

            // Nothing listens any more.
            await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync(curl.Groups[1].Value, new StringContent(curl.Groups[2].Value, Encoding.UTF8, "application/json")));
        }
        finally
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
