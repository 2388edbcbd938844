// One `checkpoints list` or `model export` on this node: asks the coordinator for the job, then reads (or copies) its checkpoints.
using Akka.Actor;
using Akka.Event;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// A child of the CommandHandler that lives for one request. Behaviours: <c>AwaitingJob</c> (a <see cref="GetJobConfig"/>
/// to the coordinator proxy, unless the request names a directory) → <c>Working</c> (the file work on the thread pool,
/// piped back) → stopped after its one answer. One timer bounds the whole request: what has not finished by then is
/// answered as such, never waited for.
/// </summary>
public sealed class CheckpointsQueryActor : ReceiveActor, IWithTimers
{
    private sealed record TimedOut : INoSerializationVerificationNeeded;

    private readonly object _request;
    private readonly IActorRef _replyTo;
    private readonly ICanTell _coordinator;
    private readonly string _node;
    private readonly TimeSpan _timeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public CheckpointsQueryActor(object request, IActorRef replyTo, ICanTell coordinator, string node, TimeSpan timeout)
    {
        _request = request;
        _replyTo = replyTo;
        _coordinator = coordinator;
        _node = node;
        _timeout = timeout;
        var (job, directory) = request switch
        {
            ListCheckpoints l => (l.JobId, l.Directory),
            ExportModel x => (x.JobId, x.Directory),
            _ => throw new ArgumentException($"{nameof(CheckpointsQueryActor)} does not handle {request.GetType().Name}"),
        };
        if (directory.Length > 0)
        {
            // A directory named by the caller: no coordinator needed; the job is the directory's name unless given.
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
            StartWork(job.Length > 0 ? job : name, directory, "");
        }
        else
        {
            Become(() => AwaitingJob(job));
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(object request, IActorRef replyTo, ICanTell coordinator, string node, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new CheckpointsQueryActor(request, replyTo, coordinator, node, timeout));

    protected override void PreStart()
    {
        Timers.StartSingleTimer("timeout", new TimedOut(), _timeout);
        if (_request is ListCheckpoints { Directory.Length: 0 } or ExportModel { Directory.Length: 0 })
            _coordinator.Tell(GetJobConfig.Instance, Self);
    }

    private void AwaitingJob(string askedJob)
    {
        Receive<JobConfigResult>(r =>
        {
            if (r.Config is null)
                Finish($"the training coordinator has no job yet; start one with `ctl train start`, or name a checkpoint directory with --dir");
            else if (askedJob.Length > 0 && askedJob != r.JobId)
                Finish($"the training coordinator holds job '{r.JobId}', not '{askedJob}': it knows the checkpoint directory of its own job only " +
                       $"(--dir names another job's directory, <checkpoint_dir>/{askedJob})");
            else
                StartWork(r.JobId, Path.Combine(r.Config.CheckpointDir, r.JobId), r.Config.EvalMetric);
        });
        Receive<TimedOut>(_ => Finish($"the training coordinator did not answer within {Seconds(_timeout)} (is a node with its role up?)"));
    }

    private void StartWork(string job, string directory, string evalMetric)
    {
        var request = _request;
        var node = _node;
        Task.Run(() =>
        {
            var listing = CheckpointCatalog.List(directory, job, evalMetric, node);
            return request is ExportModel x ? (object)CheckpointCatalog.Export(listing, x.Choice, x.Epoch, x.OutDir) : listing;
        }).PipeTo(Self, failure: e => new Akka.Actor.Status.Failure(e));
        Become(Working);
    }

    private void Working()
    {
        Receive<CheckpointsResult>(Reply);
        Receive<ModelExported>(Reply);
        Receive<Akka.Actor.Status.Failure>(f =>
        {
            _log.Error(f.Cause, "ctl: {0} failed on {1}", _request.GetType().Name, _node);
            Finish($"{Describe()} failed on {_node}: {f.Cause.Message}");
        });
        Receive<TimedOut>(_ => Finish(_request is ExportModel x
            ? $"the export did not finish within {Seconds(_timeout)} on {_node}; it goes on there and {x.OutDir} appears when it is done (a longer --timeout waits for it)"
            : $"reading the checkpoints took longer than {Seconds(_timeout)} on {_node} (a longer --timeout waits for it)"));
    }

    private void Reply(object answer)
    {
        _replyTo.Tell(answer);
        Context.Stop(Self);
    }

    private void Finish(string problem)
    {
        Reply(_request switch
        {
            ExportModel x => new ModelExported(false, problem, x.JobId, -1, "", x.OutDir, "", 0, _node),
            ListCheckpoints l => new CheckpointsResult(l.JobId, l.Directory, _node, "", -1, -1, [], problem),
            _ => new CommandResult(false, problem),
        });
    }

    private string Describe() => _request is ExportModel ? "exporting the model" : "listing the checkpoints";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
