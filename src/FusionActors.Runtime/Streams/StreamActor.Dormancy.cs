using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// Hibernation of an idle session (docs/design.md, session lifecycle): a quiet stream hands its rule objects to its
/// session and stops; the session starts a stream actor on the same objects when the next frame or command comes,
/// so the woken stream takes up its seqs, watermark, health, counters and framer exactly where it left them.
/// </summary>
public sealed partial class StreamActor
{
    private bool _crashArmed; // an operator armed the encoder to crash on its next batch: that lives in the encoder actor

    /// <summary>From the session: hand over the stream's state and stop, unless something is in flight or uncommitted.</summary>
    /// <param name="CommittedUs">The session's commit point: a frame at or after it is not committed yet.</param>
    public sealed record Hibernate(long CommittedUs);

    /// <summary>
    /// The rule objects of a stream that stopped to hibernate; nothing else holds them meanwhile. With them the encoder
    /// the stream ran (the model's version it had followed to, or was pinned to) and its counted use of that version,
    /// which the session holds while the stream sleeps: a version a reload retired is not freed under a sleeping stream.
    /// </summary>
    public sealed record Dormant(StreamIntake Intake, StreamInputs Inputs, EncoderSupervision Supervision, StreamMeter Meter, DriftMonitor? Drift,
        ResolvedEncoder Encoder, ModelUse? Use)
    {
        /// <summary>The session stops while the stream sleeps: gives its use back; true when that freed a retired version.</summary>
        public bool Release() => Use?.Release() == true;
    }

    /// <summary>The stream cannot hibernate now, and why (the session stays awake and tries again later).</summary>
    public sealed record HibernateRefused(string StreamId, string Reason);

    private void OnHibernate(Hibernate h)
    {
        var busy = HibernateProblem(h.CommittedUs);
        if (busy is not null)
        {
            Sender.Tell(new HibernateRefused(_spec.StreamId, busy));
            return;
        }
        Timers.CancelAll();
        // Its windows are committed, so its next input is past any switch point: a version held for one goes back now.
        LetGoOfOldVersion(force: true);
        Sender.Tell(new Dormant(_intake, _inputs, _supervision, _meter, _drift, _encoder, _encoderChild.HandOver()));
        Context.Stop(Self); // the encoder child (stateless, or never started) stops with it
    }

    private string? HibernateProblem(long committedUs)
    {
        if (!_queue.IsEmpty) return "inputs wait for or are in its encoder";
        if (_inputs.MaxEventTimeUs >= committedUs && _inputs.MaxEventTimeUs != Core.Time.EventTime.MinusInfinity)
            return $"frames through {_inputs.MaxEventTimeUs} us are not committed (commit point {committedUs} us)";
        if (_supervision.State == StreamState.Restarting) return "its encoder restarts";
        if (_roomWaiters.Count > 0) return "a client batch waits for room";
        if (_crashArmed) return "an operator armed its encoder to crash";
        if (_encoder.Stateful && _encoderChild.Current is not null) return "its model keeps a recurrent state in the running encoder";
        return null;
    }

    /// <summary>The status of a hibernated stream, from its rule objects: what the stream answers once awake.</summary>
    public static StreamStatus StatusOf(string sessionId, StreamSpec spec, Dormant d) =>
        StatusOf(sessionId, spec, d.Encoder, d.Intake, d.Inputs, d.Supervision, d.Meter, d.Drift);
}
