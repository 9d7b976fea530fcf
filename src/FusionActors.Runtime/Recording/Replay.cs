using System.Collections.Concurrent;
using Akka.Actor;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Recording;

/// <summary>One fused result of a replay (or of the recording), as a report holds it.</summary>
public sealed record ReplayedResult(long WindowStartUs, long WindowEndUs, int Revision, FusedStatus Status, int TopClass, string? TopLabel,
    double Confidence, double[] Posterior, SortedDictionary<string, double> Weights, IReadOnlyList<string> Missing, string Policy)
{
    public static ReplayedResult Of(FusedResult r) => new(r.WindowStartUs, r.WindowEndUs, r.Revision, r.Status, r.TopClass, r.TopLabel, r.Confidence,
        r.Posterior, new SortedDictionary<string, double>(r.Weights.ToDictionary(), StringComparer.Ordinal), r.Missing, r.Policy);

    public static ReplayedResult Of(RecordedResult r) => new(r.WindowStartUs, r.WindowEndUs, r.Revision, r.Status, r.TopClass, r.TopLabel, r.Confidence,
        r.Posterior, new SortedDictionary<string, double>(r.Weights.ToDictionary(), StringComparer.Ordinal), r.Missing, r.Policy);

    /// <summary>Same decision, bit for bit: posterior, weights, top class and status.</summary>
    public bool SameAs(ReplayedResult o) => (WindowStartUs, WindowEndUs, Revision, Status, TopClass, TopLabel, Policy) ==
        (o.WindowStartUs, o.WindowEndUs, o.Revision, o.Status, o.TopClass, o.TopLabel, o.Policy) &&
        Posterior.SequenceEqual(o.Posterior) && Weights.SequenceEqual(o.Weights) && Confidence.Equals(o.Confidence) && Missing.SequenceEqual(o.Missing);
}

/// <summary>What a replay did: every result it fused, in order, and the records it went through.</summary>
public sealed record ReplayResult(string SessionId, string Policy, IReadOnlyList<ReplayedResult> Results, int FramesReplayed, int ClockSteps, int Records,
    string? ReadStoppedBecause);

/// <summary>
/// Runs a recording through a session's real actors (the same <see cref="SessionActor"/>, streams, encoders, alignment
/// and fusion) in event time, as fast as the machine allows. The session reads a <see cref="DrivenClock"/> set to each
/// record's recorded readings, its time-driven checks come as <see cref="ClockAdvanced"/> where the recording has them,
/// and each record is taken in full (its inputs encoded, its windows fused) before the next: so the same recording,
/// models and policy give the same results, bit for bit, on every run (docs/recording.md, "Replay").
/// </summary>
public static class Replay
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    /// <param name="policy">Fuse with this policy instead of the recorded one (and ignore recorded policy changes); null = as recorded.</param>
    public static async Task<ReplayResult> RunAsync(ActorSystem system, RecordingContents recording, IEncoderProvider encoders, FusionPolicy? policy = null,
        BackoffPolicy? backoff = null, CancellationToken cancel = default)
    {
        if (recording.Records.Count == 0 || recording.Records[0] is not RecordedSpec first)
            throw new InvalidDataException("the recording does not begin with the session's spec: nothing to replay");
        var spec = first.Spec with { Record = false, Policy = policy ?? first.Spec.Policy };
        var id = spec.SessionId;
        var clock = new DrivenClock(first.WallUs, first.MonoMs);
        var time = new TimeSources(clock, clock, new FixedRandom());
        var session = system.ActorOf(SessionActor.Props(id, encoders, backoff ?? new BackoffPolicy(), sharded: false, time: time),
            "replay-" + Guid.NewGuid().ToString("N"));
        var results = new ConcurrentQueue<FusedResult>();
        var collector = system.ActorOf(Props.Create(() => new Collector(results)));
        try
        {
            // A recording begun mid-session starts at later seqs: the session resumes there.
            var firstSeqs = new Dictionary<string, long>();
            long firstEventUs = long.MaxValue;
            foreach (var f in recording.Records.OfType<RecordedFrame>())
            {
                firstSeqs.TryAdd(f.StreamId, f.Seq);
                firstEventUs = Math.Min(firstEventUs, f.EventTimeUs);
            }
            var resume = firstSeqs.Values.Any(s => s > 0) ? new SessionResume(firstEventUs, firstSeqs) : null;
            var opened = await session.Ask<object>(new OpenSession(spec, first.WallUs - first.ClockOffsetUs, Resume: resume), AskTimeout, cancel);
            if (opened is not SessionOpened) throw new InvalidOperationException($"the recorded spec does not open here: {Describe(opened)}");
            if (await session.Ask<object>(new Subscribe(id, collector), AskTimeout, cancel) is not Subscribed)
                throw new InvalidOperationException("could not subscribe to the replayed session");

            int frames = 0, steps = 0, records = 1;
            foreach (var record in recording.Records.Skip(1))
            {
                cancel.ThrowIfCancellationRequested();
                records++;
                switch (record)
                {
                    case RecordedFrame f:
                        clock.Set(f.WallUs, f.MonoMs);
                        session.Tell(new Frame(id, f.StreamId, f.Seq, f.EventTimeUs, f.Payload));
                        frames++;
                        break;
                    case RecordedHeartbeat h:
                        clock.Set(h.WallUs, h.MonoMs);
                        session.Tell(new StreamHeartbeat(id, h.StreamId, h.WatermarkUs));
                        break;
                    case RecordedStreamClosed c:
                        clock.Set(c.WallUs, c.MonoMs);
                        session.Tell(new CloseStream(id, c.StreamId));
                        break;
                    case RecordedClock c:
                        clock.Set(c.WallUs, c.MonoMs);
                        session.Tell(new ClockAdvanced(c.Source, c.StreamId));
                        steps++;
                        break;
                    case RecordedOffset o:
                        session.Tell(new ReplayedOffset(o.OffsetUs));
                        break;
                    case RecordedOperator o:
                        clock.Set(o.WallUs, o.MonoMs);
                        session.Tell(o.ToMessage(id)); // the session forwards it to the stream before the status asks of Settle
                        break;
                    case RecordedPolicy p when policy is null:
                        await session.Ask<object>(new SetFusionPolicy(id, p.Policy), AskTimeout, cancel);
                        break;
                    case RecordedEnd:
                        break;
                    default: continue; // what the session made (states, results): the replay makes its own
                }
                await Settle(session, id, cancel);
            }
            await Settle(session, id, cancel);
            await collector.Ask<ActorIdentity>(new Identify(null), AskTimeout, cancel); // after the results the fusion sent it
            return new ReplayResult(id, spec.Policy.ToString(), results.Select(ReplayedResult.Of).ToList(), frames, steps, records, recording.StoppedBecause);
        }
        finally
        {
            system.Stop(session);
            system.Stop(collector);
        }
    }

    /// <summary>
    /// Waits until the session has taken everything sent so far: every stream's inputs encoded and their evidence, windows
    /// and results passed on (the status is collected stream by stream, then from the alignment, then from the fusion,
    /// each after what the one before sent it).
    /// </summary>
    private static async Task Settle(IActorRef session, string id, CancellationToken cancel)
    {
        for (var spins = 0; ; spins++)
        {
            var status = await session.Ask<SessionStatus>(new GetSessionStatus(id), AskTimeout, cancel);
            if (status.Streams.All(s => s.PendingInputs == 0)) return;
            if (spins > 8) await Task.Delay(1, cancel); // a model call in flight: give it the thread
        }
    }

    private static string Describe(object reply) => reply switch
    {
        CommandRejected r => r.Reason,
        _ => reply.GetType().Name,
    };

    /// <summary>Jitter of encoder restarts fixed, so a replay that restarts one waits as long every time.</summary>
    private sealed class FixedRandom : IRandomSource
    {
        public double NextDouble() => 0.5;
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<FusedResult> results)
        {
            Receive<FusedResult>(results.Enqueue);
            ReceiveAny(_ => { });
        }
    }
}
