// The status page on a running local cluster: its JSON and token rules over HTTP, and what headless Chromium renders,
// its job compared with what `graphactors ctl train status --json` prints for the same cluster.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenQA.Selenium.Chrome;
using Akka.Actor;
using Akka.Cluster.Sharding;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;
using Xunit.Abstractions;
using static GraphActors.Contracts.Protocols.TrainingProtocol;
using LocalTrainingConfig = GraphActors.Training.TrainingConfig;

namespace GraphActors.Cluster.Tests.Status;

[Collection(MultiNodeCollection.Name)]
public sealed class StatusPageTests(ITestOutputHelper output)
{
    private const string Token = "status-test-token";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    // How long the node's TrainerActor may take over the test's two-epoch job on a loaded machine.
    private static readonly TimeSpan JobRuns = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task The_page_needs_no_token_but_its_data_does_and_the_data_follows_the_cluster_and_the_job()
    {
        await using var cluster = await StatusCluster.StartAsync(withModel: false, secondNode: false);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var management = cluster.Started.Management;

        using (var root = await http.GetAsync(management))
        {
            Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
            Assert.Equal("/status", root.Headers.Location?.OriginalString);
        }
        using (var page = await http.GetAsync(new Uri(management, "status")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var csp = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
            Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]+'", csp);
            Assert.Contains("connect-src 'self'", csp);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("/status/api", html);
            Assert.DoesNotContain(cluster.Main.Name + "@", html); // no data in the page itself
        }
        using (var anonymous = await http.GetAsync(new Uri(management, "status/api")))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var wrong = await Get(http, new Uri(management, "status/api"), "not-the-token"))
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        // The management API's own routes keep their token check with the page's middleware in front.
        using (var models = await http.GetAsync(new Uri(management, "models")))
            Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);

        var self = Akka.Cluster.Cluster.Get(cluster.Main).SelfAddress.ToString();
        var json = await Eventually(http, management, j =>
            j["partitions"]!["rows"]!.AsArray().Count == 2 && j["partitions"]!["rows"]!.AsArray().All(r => r!["state"]!.GetValue<string>() == "Serving"),
            "both partitions serving");
        var member = Assert.Single(json["cluster"]!["members"]!.AsArray())!;
        Assert.Equal(self, member["address"]!.GetValue<string>());
        Assert.Equal(["inference", "partition", "trainer"], member["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("Up", member["status"]!.GetValue<string>());
        Assert.All(json["partitions"]!["rows"]!.AsArray(), r => Assert.Equal(self, r!["node"]!.GetValue<string>()));
        Assert.Empty(json["serving"]!["models"]!.AsArray());

        var job = await cluster.StartJobAsync("status-api-job", averagingPeriod: 2);
        // The API answers from the collector's last sample: poll until it agrees with the coordinator asked just after.
        var deadline = DateTime.UtcNow + Settle;
        string shown = "", expected = "";
        while (DateTime.UtcNow < deadline)
        {
            var j = await Eventually(http, management, _ => true, "an answer");
            Assert.Equal("", j["training"]!["problem"]!.GetValue<string>());
            shown = j["training"]!["job"] is JsonObject o
                ? $"{o["jobId"]} {o["state"]} epoch {o["epoch"]} step {o["step"]}"
                : "no job";
            var s = await cluster.JobStatusAsync();
            expected = $"{s.JobId} {s.State} epoch {s.Epoch} step {s.Step}";
            if (shown == expected) break;
            await Task.Delay(300);
        }
        Assert.Equal(expected, shown);
        Assert.StartsWith(job.JobId + " ", shown);
    }

    [ChromiumFact]
    public async Task Chromium_shows_the_members_partitions_job_and_serving_numbers_of_the_running_cluster()
    {
        await using var cluster = await StatusCluster.StartAsync(withModel: true, secondNode: true);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        // One prediction, so that the serving table has a number to show.
        var body = JsonSerializer.Serialize(new { node_type = "user", ids = new long[] { 10_000, 10_007 } });
        using (var predicted = await http.PostAsync(new Uri(cluster.Started.Inference, "predictions/sage"), new StringContent(body, Encoding.UTF8, "application/json")))
            Assert.True(predicted.IsSuccessStatusCode, await predicted.Content.ReadAsStringAsync());
        var metrics = await http.GetStringAsync(new Uri(cluster.Started.Metrics, "metrics"));
        var served = Regex.Match(metrics, "ts_inference_requests_total\\{model_name=\"sage\",model_version=\"[^\"]*\",code=\"200\"\\} (\\d+)");
        Assert.True(served.Success, metrics);

        // Two rounds of averaging per few steps: the node's TrainerActor reports progress often enough for curves.
        var job = await cluster.StartJobAsync("status-page-job", averagingPeriod: 2);

        using var browser = Chromium.Start();
        var page = new Uri(cluster.Started.Management, "status");

        // Without the token the page asks for it.
        browser.Navigate().GoToUrl(page);
        await Until(browser, "document.getElementById('auth').classList.contains('shown')", "the token form");

        // With it (in the fragment, never sent to the server) the page loads its data and drops it from the address.
        browser.Navigate().GoToUrl(new Uri(page + "#token=" + Token));
        await Until(browser, "!!document.body.dataset.at", "the first data");
        Assert.Equal("", browser.Run("return location.hash;"));

        // Members and roles as the cluster has them.
        var expectedMembers = Akka.Cluster.Cluster.Get(cluster.Main).State.Members
            .Select(m => $"{m.Address} [{string.Join(",", m.Roles.Order(StringComparer.Ordinal))}] {m.Status}").Order().ToArray();
        Assert.Equal(2, expectedMembers.Length);
        await Match(browser, ReadMembers, () => Task.FromResult(expectedMembers), "members and roles");

        // Partition placement as the shard coordinator reports it.
        await Match(browser, ReadPartitions, cluster.PlacementAsync, "partition placement");

        // Serving: the model and its successful requests as the metrics port counts them.
        await Match(browser, ReadServing, async () =>
        {
            var text = await http.GetStringAsync(new Uri(cluster.Started.Metrics, "metrics"));
            var ok = Regex.Match(text, "ts_inference_requests_total\\{model_name=\"sage\",model_version=\"[^\"]*\",code=\"200\"\\} (\\d+)").Groups[1].Value;
            return [$"sage ok={ok}"];
        }, "serving numbers");

        // The job, trained by the node's TrainerActor, as the real `graphactors ctl train status --json` prints it for
        // this cluster, whatever its values. It moves while it is read: page, ctl, page, and ctl's answer must be one of
        // the two readings (or the job has ended meanwhile, checked next). Then exactly at its end, when nothing moves.
        await MatchCtl(browser, cluster, "job status while it runs", JobReading.Moving, JobRuns);
        var end = await CoordinatorReaches(cluster, s => s.State is not (JobState.Running or JobState.Idle), "the end of the job", JobRuns);
        var ended = await MatchCtl(browser, cluster, $"job status at its end ({end.State})", JobReading.Exact);
        Assert.Contains($"state {end.State}", ended);

        // The curves hold what the API's history holds; a finished job has points on both.
        var curves = await Match(browser, ReadCharts, async () =>
        {
            var api = await Api(http, cluster.Started.Management);
            var metricPoints = api["training"]!["epochs"]!.AsArray().Sum(e => e!["metrics"]!.AsArray().Count(m => m!["value"] is not null));
            return [$"loss points {api["training"]!["loss"]!.AsArray().Count}", $"metric points {metricPoints}"];
        }, "curves");
        if (end.State == JobState.Finished)
            Assert.All(curves, c => Assert.DoesNotMatch(" 0$", c));

        var screenshot = Path.Combine(AppContext.BaseDirectory, "status-page", "status-page.png");
        browser.Screenshot(screenshot);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is suspiciously small");
        output.WriteLine($"screenshot of the status page: {screenshot}");
    }

    private const int StepReports = 3;

    /// <summary>
    /// Plays one trainer of the job through the coordinator's protocol (as TrainingCoordinatorSpec's probes do): per
    /// epoch, <see cref="StepReports"/> progress reports with a falling loss, one averaging round, the epoch's metrics
    /// and its checkpoint. After each report the page must show that step and loss and one more point on its curve.
    /// </summary>
    private async Task DriveAsTrainer(ChromeDriver browser, StatusCluster cluster, string jobId)
    {
        var proxy = await cluster.Coordinator();
        var inbox = Inbox.Create(cluster.Main);
        var me = inbox.Receiver;
        proxy.Tell(new RegisterTrainer(me, Akka.Cluster.Cluster.Get(cluster.Main).SelfAddress.ToString(), [0, 1]), me);
        await Next<TrainerRegistered>(inbox);
        var points = 0;
        for (var epoch = 0; epoch < StatusCluster.JobEpochs; epoch++)
        {
            var assignment = await Next<EpochAssignment>(inbox);
            Assert.Equal(epoch, assignment.Epoch);
            Assert.True(assignment.TotalSteps >= StepReports, $"epoch {epoch} has {assignment.TotalSteps} steps; the test reports {StepReports} times");
            for (var k = 1; k <= StepReports; k++)
            {
                // The last report is the epoch's last step, so closing the round moves nothing the page shows.
                var step = assignment.TotalSteps * k / StepReports;
                var loss = 2f - 0.25f * (epoch * StepReports + k);
                proxy.Tell(new StepsReported(jobId, epoch, step, loss, 0.5f), me);
                await CoordinatorReaches(cluster, s => s.Epoch == epoch && s.Step == step && s.LastLoss == loss, $"epoch {epoch} step {step}");
                points++;
                // Nothing moves until the next report: page and ctl must agree exactly, on this step and loss.
                var shown = await MatchCtl(browser, cluster, $"job at epoch {epoch} step {step}", JobReading.Exact);
                Assert.Contains($"step {step}", shown);
                Assert.Contains("loss=" + Float(loss), shown);
                await Match(browser, ReadLossPoints, () => Task.FromResult<string[]>([$"loss points {points}"]), $"loss curve at epoch {epoch} step {step}");
            }
            // The only trainer holds every piece, and K covers the epoch: one round with all the seeds.
            proxy.Tell(new ParametersReady(jobId, epoch, assignment.Attempt, 0, 0, 1, assignment.SeedIds.Length, SeedChecksum(assignment.SeedIds),
                [1f, 2f, 3f]), me);
            await Next<AveragedParameters>(inbox);
            var accuracy = 0.5f + 0.125f * epoch;
            proxy.Tell(new EpochFinished(jobId, epoch, 1f - 0.25f * epoch, ["val_accuracy"], [accuracy]), me);
            var write = await Next<WriteCheckpoint>(inbox);
            proxy.Tell(new CheckpointWritten(jobId, epoch, write.Directory, $"sha-{epoch}", ["val_accuracy"], [accuracy]), me);
            await CoordinatorReaches(cluster, s => s.LastCompletedEpoch == epoch, $"epoch {epoch} completed");
            var completed = await MatchCtl(browser, cluster, $"job after epoch {epoch}", JobReading.Exact);
            Assert.Contains($"last completed {epoch}", completed);
            Assert.Contains($"metric val_accuracy={Float(accuracy)}", completed);
            await Match(browser, ReadMetricPoints, () => Task.FromResult<string[]>([$"metric points {epoch + 1}"]), $"metric curve after epoch {epoch}");
        }
    }

    private static async Task<T> Next<T>(Inbox inbox)
    {
        var timeout = TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var message = await inbox.ReceiveAsync(deadline - DateTime.UtcNow);
            if (message is T t) return t;
        }
        throw new TimeoutException($"the coordinator sent no {typeof(T).Name} within {timeout}");
    }

    private static async Task<JobStatus> CoordinatorReaches(StatusCluster cluster, Func<JobStatus, bool> done, string what, TimeSpan? within = null)
    {
        var timeout = within ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + timeout;
        JobStatus s;
        do
        {
            s = await cluster.JobStatusAsync();
            if (done(s)) return s;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"the coordinator did not reach {what} within {timeout}: job {s.JobId} {s.State} epoch {s.Epoch} step {s.Step} loss {s.LastLoss}");
    }

    private static async Task<JsonNode> Api(HttpClient http, Uri management)
    {
        using var response = await Get(http, new Uri(management, "status/api"), Token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/status/api answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [ChromiumFact]
    public async Task Chromium_follows_a_running_job_step_by_step_on_its_curves()
    {
        // No trainer role (the coordinator runs on a role of its own): the test is the job's only trainer.
        await using var cluster = await StatusCluster.StartAsync(withModel: false, secondNode: false, trainerRole: false);
        var job = await cluster.StartJobAsync("status-curves-job", averagingPeriod: 1000);
        using var browser = Chromium.Start();
        browser.Navigate().GoToUrl(new Uri(new Uri(cluster.Started.Management, "status") + "#token=" + Token));
        await Until(browser, "!!document.body.dataset.at", "the first data");
        var waiting = await MatchCtl(browser, cluster, "job waiting for trainers", JobReading.Exact);
        Assert.Contains("trainers 0: ", waiting);
        await Match(browser, ReadCharts, () => Task.FromResult<string[]>(["loss points 0", "metric points 0"]), "empty curves");

        await DriveAsTrainer(browser, cluster, job.JobId);

        var done = await MatchCtl(browser, cluster, "finished job", JobReading.Exact);
        Assert.Contains($"state {JobState.Finished}", done);
        Assert.Contains($"last completed {StatusCluster.JobEpochs - 1}", done);
        Assert.Contains("eta –", done);
        await Match(browser, ReadCharts, () => Task.FromResult<string[]>(
            [$"loss points {StepReports * StatusCluster.JobEpochs}", $"metric points {StatusCluster.JobEpochs}"]), "curves of the finished job");
    }

    // ---- what the page shows, read from its DOM ----

    private const string ReadLossPoints = "return ['loss points ' + document.getElementById('loss-chart').dataset.points];";

    private const string ReadMetricPoints = "return ['metric points ' + document.getElementById('metric-chart').dataset.points];";

    private const string ReadCharts = """
        return ['loss points ' + document.getElementById('loss-chart').dataset.points,
                'metric points ' + document.getElementById('metric-chart').dataset.points];
        """;

    private const string ReadMembers = """
        return [...document.querySelectorAll('#members tbody tr')]
          .map(tr => tr.dataset.address + ' [' + tr.dataset.roles + '] ' + tr.dataset.status).sort();
        """;

    private const string ReadPartitions = """
        return [...document.querySelectorAll('#partitions tbody tr')].map(tr => tr.dataset.partition + ' ' + tr.dataset.node + ' ' + tr.dataset.state);
        """;

    // Everything the Training panel shows of the job. Loss, best metric and metric values are read from the raw values
    // the page keeps beside its rounded text; the ETA only as known or not (it is recomputed at every ask, from the clock).
    private const string ReadJob = """
        const e = id => document.getElementById(id), t = id => e(id).textContent;
        const best = e('job-best');
        const trainers = e('job-trainers').title.split('\n').filter(Boolean);
        const rows = [...document.querySelectorAll('#job-metrics tbody tr')].map(tr => 'metric ' + tr.dataset.name + '=' + tr.dataset.value);
        return ['job ' + t('job-id'), 'state ' + t('job-state'), 'epoch ' + t('job-epoch'), 'last completed ' + t('job-last-epoch'),
                'round ' + t('job-round'), 'step ' + t('job-step'), 'loss=' + e('job-loss').dataset.value,
                best.dataset.value === '' ? 'best ' + t('job-best') : 'best=' + best.dataset.value + ' epoch ' + best.dataset.epoch,
                'eta ' + (t('job-eta') === '–' ? '–' : 'known'),
                'trainers ' + t('job-trainers') + ': ' + trainers.join(', '),
                'reason ' + e('training-problem').textContent].concat(rows);
        """;

    private const string ReadServing = """
        return [...document.querySelectorAll('#serving-models tbody tr')].map(tr => tr.dataset.model + ' ok=' + tr.dataset.ok);
        """;

    /// <summary>
    /// <c>ctl train status --json</c>'s answer in <see cref="ReadJob"/>'s lines: what the page must show for it. ctl
    /// writes the coordinator's floats widened to double; <see cref="Normalise"/> brings both sides back to the float.
    /// </summary>
    private static string[] DescribeCtl(JsonElement j)
    {
        static string Raw(JsonElement e) => e.ValueKind == JsonValueKind.Null ? "" : e.GetRawText();
        var job = j.GetProperty("job");
        var lastCompleted = j.GetProperty("lastCompletedEpoch").GetInt32();
        var best = j.GetProperty("bestMetric");
        var trainers = j.GetProperty("trainers").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var lines = new List<string>
        {
            "job " + (job.ValueKind == JsonValueKind.Null ? "no job" : job.GetString()),
            "state " + j.GetProperty("state").GetString(),
            "epoch " + Raw(j.GetProperty("epoch")),
            "last completed " + (lastCompleted >= 0 ? lastCompleted.ToString(CultureInfo.InvariantCulture) : "none yet"),
            "round " + Raw(j.GetProperty("round")),
            "step " + Raw(j.GetProperty("step")),
            "loss=" + Raw(j.GetProperty("loss")),
            best.ValueKind == JsonValueKind.Null ? "best –" : $"best={Raw(best)} epoch {Raw(j.GetProperty("bestEpoch"))}",
            "eta " + (j.GetProperty("etaSeconds").ValueKind == JsonValueKind.Null ? "–" : "known"),
            $"trainers {trainers.Length}: {string.Join(", ", trainers)}",
            "reason " + (j.GetProperty("reason").ValueKind == JsonValueKind.Null ? "" : j.GetProperty("reason").GetString()),
        };
        lines.AddRange(j.GetProperty("metrics").EnumerateObject().Select(m => $"metric {m.Name}={Raw(m.Value)}"));
        return [.. lines];
    }

    private enum JobReading
    {
        /// <summary>The job is training: ctl's answer must equal the page read just before or just after it, unless the job ends meanwhile.</summary>
        Moving,
        /// <summary>Nothing moves the job (ended, or waiting for the test): the page must come to show exactly ctl's answer.</summary>
        Exact,
    }

    /// <summary>
    /// Compares the Training panel with what the real <c>graphactors ctl train status --json</c> prints for this cluster
    /// (a process of its own, reaching the node's CommandHandler through its ClusterClientReceptionist as against any
    /// node): page, ctl, page again, until ctl's answer equals one of the two readings. The page lags the coordinator
    /// by up to a sample and a poll, so a few rounds may be needed. <see cref="JobReading.Moving"/> also stops, without
    /// a match, once ctl reports the job ended: the caller then compares the ended job with <see cref="JobReading.Exact"/>.
    /// Gives up after <paramref name="within"/> (default <see cref="Settle"/>). Returns ctl's lines.
    /// </summary>
    private async Task<string[]> MatchCtl(ChromeDriver browser, StatusCluster cluster, string what, JobReading reading, TimeSpan? within = null)
    {
        var timeout = within ?? Settle;
        var deadline = DateTime.UtcNow + timeout;
        string[] before = [], want = [], after = [];
        var rounds = 0;
        while (DateTime.UtcNow < deadline)
        {
            rounds++;
            before = ReadJobLines(browser);
            var (answer, took) = await CtlStatus(cluster);
            want = Normalise(DescribeCtl(answer));
            after = ReadJobLines(browser);
            if (before.SequenceEqual(want) || after.SequenceEqual(want))
            {
                output.WriteLine($"{what}: page = ctl after {rounds} round(s) (last ctl run {took.TotalSeconds:0.0} s): {string.Join(" | ", want)}");
                return want;
            }
            var state = answer.GetProperty("state").GetString();
            if (reading == JobReading.Moving && state is not (nameof(JobState.Running) or nameof(JobState.Idle)))
            {
                output.WriteLine($"{what}: the job ended ({state}) before page and ctl met, after {rounds} round(s); compared at its end instead");
                return want;
            }
            await Task.Delay(300);
        }
        throw new Xunit.Sdk.XunitException($"the page's {what} never matched `graphactors ctl train status --json` within {timeout} ({rounds} rounds).\n" +
            $"page before: {string.Join(" | ", before)}\nctl:         {string.Join(" | ", want)}\npage after:  {string.Join(" | ", after)}");
    }

    private static string[] ReadJobLines(ChromeDriver browser) => Normalise(browser.Strings(ReadJob));

    /// <summary>Runs <c>graphactors ctl --contact NODE --json train status</c> and returns what it printed; a failure says why.</summary>
    private static async Task<(JsonElement Answer, TimeSpan Took)> CtlStatus(StatusCluster cluster)
    {
        var watch = Stopwatch.StartNew();
        using var ctl = CliProcess.Start(["ctl", "--contact", cluster.Address, "--timeout", "20s", "--json", "train", "status"]);
        var exit = await ctl.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"`graphactors ctl --contact {cluster.Address} --json train status` exited {exit}.\n{ctl.Output}");
        try
        {
            return (JsonDocument.Parse(ctl.Stdout).RootElement.Clone(), watch.Elapsed);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"`graphactors ctl --json train status` printed no JSON object ({e.Message}).\n{ctl.Output}");
        }
    }

    // JSON carries a float in its shortest round-trip form and the page keeps that text; NaN travels as null (shown as "").
    private static string Float(float v) => float.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>
    /// Reads <paramref name="script"/>'s lines from the page and <paramref name="expected"/> from the cluster until they
    /// agree (the page polls every 1.5 s, the cluster settles meanwhile); fails with both when they never do.
    /// </summary>
    private async Task<string[]> Match(ChromeDriver browser, string script, Func<Task<string[]>> expected, string what)
    {
        var deadline = DateTime.UtcNow + Settle;
        string[] shown = [], want = [];
        while (DateTime.UtcNow < deadline)
        {
            shown = Normalise(browser.Strings(script));
            want = await expected();
            if (shown.SequenceEqual(want)) { output.WriteLine($"{what}: {string.Join(" | ", shown)}"); return shown; }
            await Task.Delay(500);
        }
        throw new Xunit.Sdk.XunitException($"the page's {what} never matched the cluster's within {Settle}.\npage:    {string.Join(" | ", shown)}\ncluster: {string.Join(" | ", want)}");
    }

    // A float reaches the page as JSON and is read back as JavaScript's text of it, whose exponent form differs from
    // .NET's for tiny and huge numbers; ctl prints it widened to double (0.61f as 0.6100000143051147). The loss, best
    // and metric values are compared as the coordinator's floats, through a parse.
    private static readonly Regex FloatValue = new(@"^(loss=|best=|metric [^=]*=)([-+0-9.eE]+)(.*)$", RegexOptions.CultureInvariant);

    private static string[] Normalise(string[] lines) => lines.Select(line =>
    {
        var m = FloatValue.Match(line);
        return m.Success ? m.Groups[1].Value + Float(float.Parse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture)) + m.Groups[3].Value : line;
    }).ToArray();

    private static async Task Until(ChromeDriver browser, string condition, string what)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (DateTime.UtcNow < deadline)
        {
            if (browser.Run("return " + condition + ";") is true) return;
            await Task.Delay(200);
        }
        var state = browser.Run("return document.getElementById('conn').textContent;");
        throw new TimeoutException($"the page did not show {what} within {Settle} (its connection line says: {state}).");
    }

    private static Task<HttpResponseMessage> Get(HttpClient http, Uri uri, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    private static async Task<JsonNode> Eventually(HttpClient http, Uri management, Func<JsonNode, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Settle;
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Api(http, management);
            if (done(last)) return last;
            await Task.Delay(300);
        }
        throw new TimeoutException($"/status/api did not show {what} within {Settle}; last answer: {last?.ToJsonString()}");
    }

    /// <summary>
    /// A local cluster in this process: node "main" with roles partition, trainer (the coordinator singleton) and
    /// inference (a token on its management port), optionally a second partition node; a 2-partition store; optionally
    /// a one-epoch checkpoint served as model "sage".
    /// </summary>
    private sealed class StatusCluster : IAsyncDisposable
    {
        private readonly List<ActorSystem> _systems = [];

        public ActorSystem Main => _systems[0];

        /// <summary>The main node's address: the contact point `graphactors ctl` is given, as for any node.</summary>
        public string Address => Akka.Cluster.Cluster.Get(Main).SelfAddress.ToString();
        public InferenceActor.Started Started { get; private set; } = null!;
        public string Store { get; private set; } = "";

        public static async Task<StatusCluster> StartAsync(bool withModel, bool secondNode, bool trainerRole = true)
        {
            var c = new StatusCluster();
            try
            {
                await c.Run(withModel, secondNode, trainerRole);
                return c;
            }
            catch
            {
                await c.DisposeAsync();
                throw;
            }
        }

        private async Task Run(bool withModel, bool secondNode, bool trainerRole)
        {
            Store = TestStore.Build(2);
            var dir = Path.GetDirectoryName(Store)!;
            var models = "[]";
            if (withModel)
            {
                var checkpoint = Path.Combine(dir, "ckpt");
                using (var local = new PartitionedGraphStore(PartitionStore.Open(Store)))
                using (var trainer = await Trainer.CreateAsync(local, new LocalTrainingConfig
                       {
                           ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 8, NumLayers = 2,
                           Fanouts = [4, 4], BatchSize = 64, Epochs = 1, NodeSplit = "random", Prefetch = 1, Seed = 1,
                       }))
                {
                    await trainer.TrainEpochAsync();
                    Checkpoints.Save(trainer, checkpoint, new Dictionary<string, double>());
                }
                models = $"[{{ name = \"sage\", url = {NodeConfig.Quote(checkpoint)} }}]";
            }

            var mainPort = TestNodes.FreePort();
            var roles = trainerRole ? "\"partition\", \"trainer\", \"inference\"" : "\"partition\", \"coordinator\", \"inference\"";
            var main = NodeConfig.WithPersistence(TestNodes.Node(mainPort, [], roles, Store, $$"""
                # Akka.Persistence.Sql and cluster internals send themselves non-serializable messages (as in TrainingCoordinatorSpec).
                akka.actor.serialize-messages = off
                graphactors.persistence.sqlite-path = {{NodeConfig.Quote(Path.Combine(dir, "coordinator.db"))}}
                graphactors.training-coordinator.plan-delay = 300ms
                # The probe trainer (an inbox) answers rounds with the star's messages (ParametersReady).
                graphactors.training-coordinator.averaging = star
                {{(trainerRole ? "" : "graphactors.training-coordinator.role = coordinator")}}
                graphactors.inference {
                  models = {{models}}
                  model-store = {{NodeConfig.Quote(dir)}}
                  inference-port = 0
                  management-port = 0
                  metrics-port = 0
                  management-token = "{{Token}}"
                }
                graphactors.status.sample-interval = 500ms
                """));
            _systems.Add(NodeHost.Start(main, TextWriter.Null));
            if (secondNode)
                // serialize-messages off here too: with it on in one node only, the second region sometimes never
                // registered with the shard coordinator within 90 s on a loaded machine.
                _systems.Add(NodeHost.Start(TestNodes.Node(TestNodes.FreePort(), [mainPort], "\"partition\"", Store,
                    "akka.actor.serialize-messages = off"), TextWriter.Null));
            await Task.WhenAll(_systems.Select(s => TestNodes.AwaitUp(s, _systems.Count, TimeSpan.FromSeconds(60))));
            await TestNodes.AwaitRegions(Main.PartitionRegion(), _systems.Count, TimeSpan.FromSeconds(90));

            var inference = await Main.ActorSelection("/user/" + InferenceExtensions.ActorName).ResolveOne(TimeSpan.FromSeconds(10));
            var answer = await inference.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(120));
            Started = answer as InferenceActor.Started
                      ?? throw new InvalidOperationException($"the inference role did not start: {(answer as InferenceActor.StartFailed)?.Reason ?? answer.ToString()}");
        }

        public const int JobEpochs = 2;

        public Task<IActorRef> Coordinator() =>
            Main.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(TimeSpan.FromSeconds(10));

        /// <summary>Small batches: many steps per epoch; parameters averaged every <paramref name="averagingPeriod"/> steps.</summary>
        public async Task<JobCommandResult> StartJobAsync(string jobId, int averagingPeriod)
        {
            // The job as `graphactors ctl train start` sends it: the whole training block travels to the trainers.
            var file = TrainingHocon.Parse($$"""
                training {
                  model_type = sage
                  hidden_channels = 8
                  num_layers = 2
                  fanouts = [4, 4]
                  batch_size = 8
                  learning_rate = 0.01
                  task = node_classification
                  target = user
                  node_split = store
                  epochs = {{JobEpochs}}
                  eval_every = 1
                  averaging_period = {{averagingPeriod}}
                }
                """, "the status test's job");
            var config = TrainingHocon.ToJob(file, Store, Path.Combine(Path.GetDirectoryName(Store)!, "job-checkpoints"));
            var result = await (await Coordinator()).Ask<JobCommandResult>(new StartJob(jobId, config), TimeSpan.FromSeconds(30));
            Assert.True(result.Accepted, result.Message);
            return result;
        }

        public async Task<JobStatus> JobStatusAsync() =>
            await (await Coordinator()).Ask<JobStatus>(new GetJobStatus(), TimeSpan.FromSeconds(10));

        /// <summary>"partition node Serving" per allocated shard, as the shard coordinator reports it.</summary>
        public async Task<string[]> PlacementAsync()
        {
            var stats = await Main.PartitionRegion().Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
            var self = Akka.Cluster.Cluster.Get(Main).SelfAddress;
            return stats.Regions
                .SelectMany(r => r.Value.Stats.Keys.Select(shard => (Shard: int.Parse(shard, CultureInfo.InvariantCulture), Node: (r.Key.HasLocalScope ? self : r.Key).ToString())))
                .OrderBy(s => s.Shard).Select(s => $"{s.Shard} {s.Node} Serving").ToArray();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var system in Enumerable.Reverse(_systems))
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
                await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }
}
