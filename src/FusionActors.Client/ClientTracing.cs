using System.Diagnostics;
using FusionActors.Protocol;

namespace FusionActors.Client;

/// <summary>
/// ActivitySource "FusionActors.Client": a <c>push</c> span (kind Producer) per frame pushed, a child of the caller's
/// current activity. Its W3C traceparent travels with the frame (<see cref="Frame.TraceParent"/>), so the node's
/// <c>encode</c> span of that frame's input joins the client's trace. Nothing is made unless a listener samples the source.
/// </summary>
public static class ClientTracing
{
    public const string SourceName = "FusionActors.Client";

    public static readonly ActivitySource Source = new(SourceName, typeof(ClientTracing).Assembly.GetName().Version?.ToString());

    internal static Activity? StartPush(string sessionId, string streamId)
    {
        var activity = Source.StartActivity("push", ActivityKind.Producer);
        if (activity is not { IsAllDataRequested: true }) return activity;
        activity.SetTag("fusion.session", sessionId);
        activity.SetTag("fusion.stream", streamId);
        return activity;
    }

    /// <summary>The traceparent a frame carries for <paramref name="activity"/>: W3C ids only (a hierarchical id has none).</summary>
    internal static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;
}
