using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Bench;

/// <summary>
/// The ceiling of (a): the raw Akka.NET message rate for the same hop count. Per session of (a), one chain of
/// 8 plain forwarding <see cref="ReceiveActor"/>s whose last one tells the chain's driver (9 deliveries, as
/// region → shard → session → stream → encoder → stream → alignment → fusion → subscriber), in the node's own
/// actor system on its default dispatcher, with the same frame messages, message count, chain count and
/// number of messages in flight per chain as (a).
/// </summary>
public static class CeilingChain
{
    public sealed record Result(double MessagesPerSec, long Messages, double Seconds, int Chains, int Hops, GcStats Gc, double AllocatedBytesPerMessage, double CpuUsPerMessage);

    /// <summary>Rounds of a fifth of the measurement until two in a row cost the same CPU per message within 10 % (at most 8).</summary>
    public static async Task<IReadOnlyList<double>> WarmUpAsync(ActorSystem system, BenchScale scale, CancellationToken cancel)
    {
        var costs = new List<double>();
        for (var round = 0; round < 8; round++)
        {
            var r = await Run(system, scale.Sessions, scale.PipelineFrames / 5 / scale.Sessions, InFlight(scale), cancel);
            costs.Add(r.CpuUsPerMessage);
            if (costs.Count >= 2 && Math.Abs(costs[^1] - costs[^2]) <= 0.1 * costs[^2]) break;
        }
        return costs;
    }

    public static Task<Result> MeasureAsync(ActorSystem system, BenchScale scale, CancellationToken cancel, int hops = PipelineThroughput.Hops) =>
        Run(system, scale.Sessions, scale.PipelineFrames / scale.Sessions, InFlight(scale), cancel, hops);

    private static int InFlight(BenchScale scale) => scale.InFlightWindows * 2 * scale.FramesPerWindow;

    private static async Task<Result> Run(ActorSystem system, int chains, long perChain, int inFlight, CancellationToken cancel,
        int hops = PipelineThroughput.Hops)
    {
        var forwarders = hops - 1;
        var drivers = new List<(IActorRef Actor, Task<long> Done)>();
        var all = new List<IActorRef>();
        for (var c = 0; c < chains; c++)
        {
            var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var driver = system.ActorOf(Akka.Actor.Props.Create(() => new ChainDriver(perChain, inFlight, done)));
            var next = driver;
            for (var h = 0; h < forwarders; h++)
            {
                var target = next;
                next = system.ActorOf(Akka.Actor.Props.Create(() => new Forwarder(target)));
                all.Add(next);
            }
            driver.Tell(new ChainDriver.Head(next, $"chain-{c}"));
            all.Add(driver);
            drivers.Add((driver, done.Task));
        }
        await Task.Delay(100, cancel);
        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        foreach (var d in drivers) d.Actor.Tell(ChainDriver.Start.Instance);
        var ends = await Task.WhenAll(drivers.Select(d => d.Done)).WaitAsync(TimeSpan.FromMinutes(3), cancel);
        var g = gc.Stop();
        var seconds = Stopwatch.GetElapsedTime(started, ends.Max()).TotalSeconds;
        foreach (var a in all) a.Tell(PoisonPill.Instance);
        var messages = perChain * chains;
        return new Result(messages / seconds, messages, seconds, chains, hops, g, g.AllocatedPer(messages), g.CpuUsPer(messages));
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef next) => Receive<Frame>(f => next.Tell(f));
    }

    /// <summary>Sends frames down its chain, keeping <c>inFlight</c> outstanding; each frame coming back releases one more.</summary>
    private sealed class ChainDriver : ReceiveActor
    {
        private readonly float[] _payload = BenchSessions.Payload(4, 1);
        private IActorRef _head = ActorRefs.Nobody;
        private string _id = "";
        private long _sent, _received;

        public ChainDriver(long total, int inFlight, TaskCompletionSource<long> done)
        {
            Receive<Head>(h => { _head = h.Actor; _id = h.Id; });
            Receive<Start>(_ =>
            {
                while (_sent < Math.Min(inFlight, total)) Send();
            });
            Receive<Frame>(_ =>
            {
                _received++;
                if (_sent < total) Send();
                if (_received == total) done.TrySetResult(Stopwatch.GetTimestamp());
            });
        }

        private void Send()
        {
            var seq = _sent++;
            _head.Tell(new Frame(_id, "a", seq, seq, _payload));
        }

        public sealed record Head(IActorRef Actor, string Id);

        public sealed record Start
        {
            public static readonly Start Instance = new();
        }
    }
}
