using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;

namespace FusionActors.Bench;

/// <summary>
/// The reference of bench-remote: the sustained rate of plain <c>Tell</c>s of <see cref="Frame"/>s (bound to the
/// binary FrameSerializer, as on the SinkRef path) from this process's actor system to receivers in another
/// process, over loopback remoting. Flow control instead of mailbox buffering: each receiver acks every
/// <c>ackEvery</c> frames with its running count, and each sender keeps at most <c>window</c> frames unacked.
/// A run ends when every sender has been acked its last frame (the receiver has it), as a SinkRef run ends
/// when the server has committed every frame.
/// </summary>
public static class RemoteRaw
{
    public const string PeerSystemName = "fusion-bench-raw";
    public const string PeerUpLine = "raw peer up at ";

    public sealed record Result(double FramesPerSec, long Frames, double Seconds, int Pairs, int Window, int AckEvery, int PayloadBytes,
        double CpuUsPerFrame, double AllocatedBytesPerFrame, double ReceiverCpuUsPerFrame);

    /// <summary>Remoting as the client library and the nodes run it (TCP on loopback, 4 MiB frames, the wire bindings).</summary>
    public static Config SystemConfig(int port) =>
        ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote.dot-netty.tcp {
                hostname = "127.0.0.1"
                port = {{port}}
                maximum-frame-size = 4 MiB
              }
            }
            """).WithFallback(ConfigurationFactory.ParseString(WireConfig.Hocon));

    /// <summary>The receiving side, run in a process of its own: receivers <c>sink-0</c> .. <c>sink-{pairs-1}</c> until stdin closes.</summary>
    public static async Task<int> RunPeerAsync(int port, int pairs, int ackEvery, CancellationToken cancel)
    {
        using var system = ActorSystem.Create(PeerSystemName, SystemConfig(port));
        for (var i = 0; i < pairs; i++) system.ActorOf(RawReceiver.Props(ackEvery), $"sink-{i}");
        System.Console.WriteLine($"{PeerUpLine}{((ExtendedActorSystem)system).Provider.DefaultAddress}");
        // The parent holds our stdin: when it exits (or dies), the read ends and so does this process.
        try { await Task.Run(() => System.Console.In.ReadToEnd(), cancel); }
        catch (OperationCanceledException) { }
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        return 0;
    }

    /// <summary>Sends <paramref name="frames"/> frames of <paramref name="payload"/>, split over the peer's receivers.</summary>
    /// <param name="receiverCpu">CPU time of the receivers' process so far.</param>
    public static async Task<Result> MeasureAsync(IReadOnlyList<IActorRef> senders, Func<TimeSpan> receiverCpu, long frames, float[] payload, int window, int ackEvery,
        CancellationToken cancel)
    {
        // Whole ack periods per sender, so the last frame of a run is acked.
        var perSender = Math.Max(1, (frames / senders.Count + ackEvery - 1) / ackEvery) * ackEvery;
        var done = senders.Select(_ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var gc = GcStats.Start();
        var receiverCpuBefore = receiverCpu();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < senders.Count; i++) senders[i].Tell(new RawSender.Run(perSender, payload, done[i]));
        var ends = await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(TimeSpan.FromMinutes(5), cancel);
        var g = gc.Stop();
        var receiverCpuSeconds = (receiverCpu() - receiverCpuBefore).TotalSeconds;
        var seconds = Stopwatch.GetElapsedTime(started, ends.Max()).TotalSeconds;
        var total = perSender * senders.Count;
        return new Result(total / seconds, total, seconds, senders.Count, window, ackEvery, payload.Length * sizeof(float), g.CpuUsPer(total), g.AllocatedPer(total),
            receiverCpuSeconds * 1e6 / total);
    }

    /// <summary>One sender per receiver of the peer at <paramref name="peer"/> (host:port), each resolved before the first run.</summary>
    public static async Task<IReadOnlyList<IActorRef>> ConnectAsync(ActorSystem system, string peer, int pairs, int window, CancellationToken cancel)
    {
        var senders = new List<IActorRef>();
        for (var i = 0; i < pairs; i++)
        {
            var path = $"akka.tcp://{PeerSystemName}@{peer}/user/sink-{i}";
            var target = await system.ActorSelection(path).ResolveOne(TimeSpan.FromSeconds(20), cancel);
            senders.Add(system.ActorOf(RawSender.Props(target, $"raw-{i}", window)));
        }
        return senders;
    }

    /// <summary>Counts frames; every <c>ackEvery</c> it tells the sender how many it has had so far (a long, the primitive serializer).</summary>
    private sealed class RawReceiver : ReceiveActor
    {
        private readonly Dictionary<IActorRef, long> _counts = new();

        public RawReceiver(int ackEvery)
        {
            Receive<Frame>(_ =>
            {
                var n = _counts.GetValueOrDefault(Sender) + 1;
                _counts[Sender] = n;
                if (n % ackEvery == 0) Sender.Tell(n);
            });
        }

        public static Props Props(int ackEvery) => Akka.Actor.Props.Create(() => new RawReceiver(ackEvery));
    }

    /// <summary>Keeps at most <c>window</c> frames unacked; a run is done when the receiver's count reaches the run's last frame.</summary>
    private sealed class RawSender : ReceiveActor
    {
        private readonly IActorRef _target;
        private readonly string _id;
        private readonly int _window;
        private long _sent, _acked, _end;
        private float[] _payload = [];
        private TaskCompletionSource<long>? _done;

        public RawSender(IActorRef target, string id, int window)
        {
            _target = target;
            _id = id;
            _window = window;
            Receive<Run>(r =>
            {
                _end = _sent + r.Frames;
                _payload = r.Payload;
                _done = r.Done;
                Fill();
            });
            Receive<long>(count =>
            {
                _acked = count;
                if (_acked >= _end && _done is { } d)
                {
                    _done = null;
                    d.TrySetResult(Stopwatch.GetTimestamp());
                }
                else Fill();
            });
        }

        public static Props Props(IActorRef target, string id, int window) => Akka.Actor.Props.Create(() => new RawSender(target, id, window));

        private void Fill()
        {
            while (_sent < _end && _sent - _acked < _window)
            {
                var seq = _sent++;
                _target.Tell(new Frame(_id, "s", seq, seq * 20_000, _payload));
            }
        }

        public sealed record Run(long Frames, float[] Payload, TaskCompletionSource<long> Done);
    }
}
