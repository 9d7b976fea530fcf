using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Alignment;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders.Batching;

namespace FusionActors.Runtime.Metrics;

/// <summary>
/// ActivitySource "FusionActors": the node's spans, linked into one trace per window (docs/observability.md).
/// <list type="bullet">
/// <item><c>encode</c>: one per batch of a stream's encoder inputs; a child of the client's <c>push</c> span when the
/// frames carried a traceparent, a root otherwise. It travels on each <see cref="Evidence"/> it made (<see cref="Evidence.EncodeSpan"/>).</item>
/// <item><c>encode.batch</c>: one per shared model call of the node's batcher; a root that links the <c>encode</c> span of
/// every request in the call (the sessions it served), and each of those links back to it.</item>
/// <item><c>fuse</c>: one per window decision (each revision); the root of the window's trace, linking the <c>encode</c>
/// span of every evidence of every modality that went into the window.</item>
/// </list>
/// Nothing here runs unless a listener samples the source: every entry point checks
/// <see cref="ActivitySource.HasListeners"/> first, so a node that does not trace allocates nothing per frame or window.
/// </summary>
public static class FusionTracing
{
    public const string SourceName = "FusionActors";

    /// <summary>At most this many links on one span (evidence of a window, requests of a model call).</summary>
    public const int MaxLinks = 64;

    public static readonly ActivitySource Source = new(SourceName, typeof(FusionTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// An encoder batch; the encoder sits at session/stream-N/encoder-N, so the session id is its grandparent's name.
    /// <paramref name="pushTrace"/> is the traceparent of the latest traced frame the stream took before the batch.
    /// </summary>
    /// <param name="session">The session id (when empty: the encoder's grandparent's name, which is the session id of a sharded session).</param>
    public static Activity? StartEncode(IActorRef encoder, IReadOnlyList<EncoderInput> inputs, string modality = "", string? pushTrace = null, string session = "")
    {
        if (!Source.HasListeners() || inputs.Count == 0) return null;
        var parent = default(ActivityContext);
        if (pushTrace is not null) ActivityContext.TryParse(pushTrace, null, isRemote: true, out parent);
        var previous = Activity.Current;
        Activity.Current = null; // a root unless the frames named a parent, whatever ran on this thread before
        var activity = Source.StartActivity("encode", ActivityKind.Internal, parent);
        if (activity is null)
        {
            Activity.Current = previous;
            return null;
        }
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("fusion.session", session.Length > 0 ? session : Uri.UnescapeDataString(encoder.Path.Parent.Parent.Name));
            activity.SetTag("fusion.stream", inputs[0].StreamId);
            if (modality.Length > 0) activity.SetTag("fusion.modality", modality);
            activity.SetTag("fusion.frame.seq.first", inputs[0].FirstSeq);
            activity.SetTag("fusion.frame.seq.last", inputs[^1].LastSeq);
            activity.SetTag("fusion.batch.size", inputs.Count);
        }
        return activity;
    }

    /// <summary>
    /// A shared model call of the batcher, over <paramref name="slices"/>: a root linking each request's <c>encode</c>
    /// span; null when nothing listens or no request was traced. Not made current: the caller stops it.
    /// </summary>
    internal static Activity? StartBatch(string model, List<BatchSlice> slices, int inputs)
    {
        if (!Source.HasListeners()) return null;
        List<ActivityLink>? links = null;
        EncodeRequest? last = null;
        var requests = 0;
        foreach (var s in slices)
        {
            if (ReferenceEquals(s.Request, last)) continue;
            last = s.Request;
            requests++;
            if (s.Request.Span is not { } traced || links is { Count: >= MaxLinks }) continue;
            (links ??= []).Add(new ActivityLink(traced.Context, new ActivityTagsCollection { ["fusion.session"] = s.Request.Session }));
        }
        if (links is null) return null;
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity("encode.batch", ActivityKind.Internal, default(ActivityContext), links: links);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("fusion.encoder", model);
            activity.SetTag("fusion.batch.size", inputs);
            activity.SetTag("fusion.batch.requests", requests);
        }
        return activity;
    }

    /// <summary>Stops an activity that is not the thread's current one, leaving the current one as it was.</summary>
    internal static void StopDetached(Activity? activity)
    {
        if (activity is null) return;
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>The decision of one window: the root of its trace, linking the encode span of each evidence in it.</summary>
    public static Activity? StartFuse(string sessionId, AlignedWindow window)
    {
        if (!Source.HasListeners()) return null;
        List<ActivityLink>? links = null;
        HashSet<ActivitySpanId>? seen = null;
        foreach (var (stream, evidence) in window.Evidence)
            for (var i = 0; i < evidence.Count; i++)
            {
                var e = evidence[i];
                if (e.EncodeSpan is not { } encode || !(seen ??= []).Add(encode.SpanId) || seen.Count > MaxLinks) continue;
                (links ??= []).Add(new ActivityLink(encode.Context, new ActivityTagsCollection { ["fusion.stream"] = stream, ["fusion.modality"] = e.Modality }));
            }
        Activity.Current = null; // the root of the window's trace
        var activity = Source.StartActivity("fuse", ActivityKind.Internal, default(ActivityContext), links: links);
        if (activity is not { IsAllDataRequested: true }) return activity;
        activity.SetTag("fusion.session", sessionId);
        activity.SetTag("fusion.window.start_us", window.StartUs);
        activity.SetTag("fusion.window.end_us", window.EndUs);
        activity.SetTag("fusion.window.revision", window.Revision);
        foreach (var (stream, evidence) in window.Evidence)
            if (evidence.Count > 0) activity.SetTag($"fusion.frame.seq.last.{stream}", evidence.Max(e => e.LastSeq));
        return activity;
    }

    /// <summary>What the window's decision was, on its <c>fuse</c> span.</summary>
    public static void Fused(Activity? activity, FusedResult result)
    {
        if (activity is not { IsAllDataRequested: true }) return;
        activity.SetTag("fusion.status", result.Status.ToString());
        activity.SetTag("fusion.policy", result.Policy);
        if (result.Missing.Count > 0) activity.SetTag("fusion.missing", string.Join(",", result.Missing));
    }
}
