using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Scenarios.Playback;

/// <summary>
/// Sends a timeline to a session as live sensors would: each event at its moment in real time, the
/// session clock starting at 0 when the player starts. Replies (rejections) go to <c>replyTo</c>.
/// </summary>
public sealed class LivePlayer(IActorRef sessions, IActorRef replyTo)
{
    public async Task PlayAsync(string sessionId, IReadOnlyList<TimelineEvent> events, Stopwatch clock, CancellationToken cancel)
    {
        foreach (var e in events)
        {
            var wait = e.SendAtUs / 1000.0 - clock.Elapsed.TotalMilliseconds;
            if (wait > 1) await Task.Delay(TimeSpan.FromMilliseconds(wait), cancel);
            switch (e)
            {
                case SendFrame f:
                    sessions.Tell(f.Frame, replyTo);
                    break;
                case CrashEncoderAt c:
                    sessions.Tell(new CrashEncoder(sessionId, c.StreamId), replyTo);
                    break;
                case CloseStreams c:
                    foreach (var id in c.StreamIds ?? [AvDigitsSession.AudioStream, AvDigitsSession.CameraStream])
                        sessions.Tell(new CloseStream(sessionId, id), replyTo);
                    break;
            }
        }
    }
}
