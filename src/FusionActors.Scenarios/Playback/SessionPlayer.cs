using System.Diagnostics;
using FusionActors.Client;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Scenarios.Playback;

/// <summary>
/// Plays a <see cref="Timeline"/> into a remote session through the client library, as live sensors would:
/// each frame at its moment, <paramref name="rate"/> times real time. Pushes wait when the session holds its
/// maximum of uncommitted frames, so a slow or failing cluster slows the player instead of losing frames.
/// </summary>
public sealed class SessionPlayer(FusionSession session, double rate = 1.0)
{
    public long FramesPushed { get; private set; }

    /// <summary>Frames the client library refused before sending (a stream the session does not have, a frame the node would refuse).</summary>
    public long RefusedByClient { get; private set; }

    public async Task PlayAsync(IReadOnlyList<TimelineEvent> events, CancellationToken cancel, Func<double, Task>? atSecond = null)
    {
        var clock = Stopwatch.StartNew();
        var nextTick = 1.0;
        foreach (var e in events)
        {
            var dueMs = e.SendAtUs / 1000.0 / rate;
            var wait = dueMs - clock.Elapsed.TotalMilliseconds;
            if (wait > 1) await Task.Delay(TimeSpan.FromMilliseconds(wait), cancel);
            while (atSecond is not null && clock.Elapsed.TotalSeconds >= nextTick)
            {
                await atSecond(nextTick);
                nextTick++;
            }
            switch (e)
            {
                case SendFrame f when session.Spec.FindStream(f.Frame.StreamId) is null:
                    // The bad-input drill's frame for a stream that does not exist: the client refuses it, typed, before the wire.
                    try { session.Stream(f.Frame.StreamId); }
                    catch (ArgumentException) { RefusedByClient++; }
                    break;
                case SendFrame f:
                    // The drill's NaN, wrong-sized and far-future frames: the client refuses them, typed, before the wire.
                    try { await session.Stream(f.Frame.StreamId).PushAsync(f.Frame, cancel); }
                    catch (FrameRefusedException)
                    {
                        RefusedByClient++;
                        break;
                    }
                    FramesPushed++;
                    break;
                case CloseStreams:
                    foreach (var s in session.Spec.Streams) await session.Stream(s.StreamId).CompleteAsync(cancel);
                    break;
            }
        }
    }
}
