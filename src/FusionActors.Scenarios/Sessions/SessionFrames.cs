using FusionActors.Scenarios.Faults;

namespace FusionActors.Scenarios.Sessions;

/// <summary>
/// The frames of a <see cref="SessionDescription"/>'s streams from the two sensors of a <see cref="SensorScript"/>:
/// every stream fed by the audio gets the microphone's frames cut to its frame length (the pieces of a frame reach
/// the server together, as the frame does), every stream fed by the image gets the camera's frames at its rate; each
/// stream numbers its frames from 0 in the order the sensor sent them. Faults act on the sensors, so every stream
/// fed by a sensor sees the same outage, noise and delays. In arrival order, as the script.
/// </summary>
public static class SessionFrames
{
    public static IReadOnlyList<SensorFrame> Of(SessionDescription session, IReadOnlyList<SensorFrame> script)
    {
        // The sensors' frames in the order sent: per source stream, by seq.
        var seqOf = new Dictionary<(StreamDescription, string, long), long>();
        foreach (var s in session.Streams)
        {
            var sensor = SensorOf(s.Source);
            long next = 0;
            foreach (var f in script.Where(f => f.StreamId == sensor).OrderBy(f => f.Seq))
            {
                if (!Keeps(s, f)) continue;
                seqOf[(s, sensor, f.Seq)] = next;
                next += s.Source == StreamSource.Audio ? f.Payload.Length / s.FrameLength : 1;
            }
        }
        var frames = new List<SensorFrame>(script.Count * session.Streams.Count);
        foreach (var f in script)
            foreach (var s in session.Streams)
            {
                if (!seqOf.TryGetValue((s, f.StreamId, f.Seq), out var seq)) continue;
                if (s.Source == StreamSource.Image || s.FrameLength == f.Payload.Length)
                {
                    frames.Add(f with { StreamId = s.Id, Seq = seq });
                    continue;
                }
                var pieces = f.Payload.Length / s.FrameLength;
                for (var k = 0; k < pieces; k++)
                    frames.Add(new SensorFrame(f.ArrivesAtUs, s.Id, seq + k, f.EventTimeUs + k * s.FrameLength * 1_000_000L / AvDigitsSession.SampleRate,
                        f.Payload.AsSpan(k * s.FrameLength, s.FrameLength).ToArray()));
            }
        return frames;
    }

    private static string SensorOf(StreamSource source) => source == StreamSource.Audio ? AvDigitsSession.AudioStream : AvDigitsSession.CameraStream;

    /// <summary>An image stream below the camera's rate keeps the frames of every k-th 100 ms slot.</summary>
    private static bool Keeps(StreamDescription s, SensorFrame f)
    {
        if (s.Source == StreamSource.Audio || s.Fps == SessionDescription.CameraFps) return true;
        var slot = (long)Math.Floor(f.EventTimeUs / (double)SensorScript.CameraFrameUs);
        return slot % (SessionDescription.CameraFps / s.Fps) == 0;
    }
}
