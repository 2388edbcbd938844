// Keeps a ctl client's abrupt disconnect out of the node's ERROR lines (graphactors.ctl.quiet-client-disconnects).
using Akka.Event;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// Drops exactly one log event: the ERROR Akka.Remote's endpoint writer logs (with a stack trace) when the remote end
/// of an association is a ctl client (ActorSystem <see cref="Names.CtlSystem"/>) and the connection went away
/// (Akka.Remote's internal EndpointDisassociatedException). The reliable-delivery supervisor logs the same disassociation as a
/// WARNING, which stays; every other event, and every association between nodes, is logged as before.
/// </summary>
public sealed class CtlClientLogFilter : LogFilterBase
{
    // The endpoint actors' names hold the remote address URL-encoded: ".../reliableEndpointWriter-akka.tcp%3A%2F%2Fgraphactors-ctl%40127.0.0.1%3A35807-9/endpointWriter".
    private const string ClientInSource = "%3A%2F%2F" + Names.CtlSystem + "%40";

    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null) =>
        IsClientDisconnect(content) ? LogFilterDecision.Drop : LogFilterDecision.Keep;

    public static bool IsClientDisconnect(LogEvent e) =>
        e is Error { Cause: { } cause } && cause.GetType().Name == "EndpointDisassociatedException" && e.LogSource is { } source
        && source.Contains("/reliableEndpointWriter-", StringComparison.Ordinal) && source.Contains(ClientInSource, StringComparison.Ordinal);

    /// <summary>The setup that installs the filter on a node's ActorSystem.</summary>
    public static LogFilterSetup Setup() => new LogFilterBuilder().Add(new CtlClientLogFilter()).Build();
}
