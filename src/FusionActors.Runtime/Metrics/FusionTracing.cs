using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Alignment;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Runtime.Metrics;

/// <summary>
/// ActivitySource "FusionActors": an <c>encode</c> activity per encoder batch and a <c>fuse</c> activity per
/// window, tagged with the session id and frame seqs. With no listener StartActivity returns null and
/// nothing else is computed.
/// </summary>
public static class FusionTracing
{
    public const string SourceName = "FusionActors";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>An encoder batch; the encoder sits at session/stream-N/encoder-N, so the session id is its grandparent's name.</summary>
    public static Activity? StartEncode(IActorRef encoder, IReadOnlyList<EncoderInput> inputs)
    {
        var activity = Source.StartActivity("encode");
        if (activity is null || inputs.Count == 0) return activity;
        activity.SetTag("fusion.session", Uri.UnescapeDataString(encoder.Path.Parent.Parent.Name));
        activity.SetTag("fusion.stream", inputs[0].StreamId);
        activity.SetTag("fusion.frame.seq.first", inputs[0].FirstSeq);
        activity.SetTag("fusion.frame.seq.last", inputs[^1].LastSeq);
        activity.SetTag("fusion.batch.size", inputs.Count);
        return activity;
    }

    public static Activity? StartFuse(string sessionId, AlignedWindow window)
    {
        var activity = Source.StartActivity("fuse");
        if (activity is null) return activity;
        activity.SetTag("fusion.session", sessionId);
        activity.SetTag("fusion.window.start_us", window.StartUs);
        activity.SetTag("fusion.window.revision", window.Revision);
        foreach (var (stream, evidence) in window.Evidence)
            if (evidence.Count > 0) activity.SetTag($"fusion.frame.seq.last.{stream}", evidence.Max(e => e.LastSeq));
        return activity;
    }
}
