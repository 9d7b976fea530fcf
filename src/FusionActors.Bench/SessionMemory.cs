using System.Diagnostics;
using Akka.Actor;
using FusionActors.Scenarios;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Bench;

/// <summary>
/// (d) Memory per open session: N sessions of the demo's spec (audio windowed on audio-digits + camera per-frame on
/// image-digits; the ONNX sessions are shared per node) opened with OpenSession through the region.
/// Managed heap: (GC.GetTotalMemory(true) after opening − before) / N, each after a full blocking GC; and the
/// process working-set delta / N. Stream actors create their encoder actor on the first input, so an open
/// session without frames has 5 actors (session, fusion, alignment, 2 streams) plus its sharding bookkeeping.
/// </summary>
public static class SessionMemory
{
    public sealed record Result(int SessionsOpened, double BytesPerSession, double WorkingSetBytesPerSession, long HeapBefore, long HeapAfter,
        long WorkingSetBefore, long WorkingSetAfter, double OpenSeconds, int SampledOpen, int Sampled, double BytesPerBareActor, double BytesPerBareUntypedActor, int ActorsPerSession, IReadOnlyDictionary<string, double> RuleState,
        double? IdleSteadyBytesPerSession);

    /// <summary>Actors of an open session before its first frame: session, fusion, alignment and two streams.</summary>
    public const int ActorsPerIdleSession = 5;

    public static async Task<Result> RunAsync(FusionNode node, int sessions, TimeSpan idleSteadyAfter, CancellationToken cancel)
    {
        var region = node.Sessions;
        // Sessions closed by earlier measurements stop asynchronously: wait until the heap is steady before any delta.
        await Heap.QuietAsync(cancel);
        // Baselines first, while no idle session is ticking and allocating in the background.
        var bare = await BareActorBytesAsync(node.System, sessions, () => new Bare(), cancel);
        var bareUntyped = await BareActorBytesAsync(node.System, sessions, () => new BareUntyped(), cancel);
        await Heap.QuietAsync(cancel); // the baseline actors above stop asynchronously
        var ruleState = StateFootprint.Measure(Math.Min(sessions, 2_000));
        await Heap.QuietAsync(cancel);

        var heapBefore = Heap.Settle();
        var wsBefore = WorkingSet();
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        var opened = 0;
        async Task Opener()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < sessions)
            {
                await DrivenRun.OpenAsync(region, AvDigitsSession.Spec($"mem-{i}"), cancel);
                Interlocked.Increment(ref opened);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(Opener, cancel)));
        var openSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var heapAfter = Heap.Settle();
        var wsAfter = WorkingSet();

        // Check that they really are open (a sample is enough: each open was already acknowledged).
        var open = 0;
        for (var i = 0; i < sessions; i += Math.Max(1, sessions / 50))
        {
            var s = await region.Ask<SessionStatus>(new GetSessionStatus($"mem-{i}"), TimeSpan.FromSeconds(10), cancel);
            if (s.Open && s.Streams.Count == 2) open++;
        }
        // Idle sessions close a 1 s window per second on processing time, and each fusion actor keeps its last 16
        // results: the steady state of an idle session is reached ~18 s after it opened (2 s idle timeout + 16 windows).
        double? steady = null;
        if (idleSteadyAfter > TimeSpan.Zero)
        {
            await Task.Delay(idleSteadyAfter, cancel); // after the last open
            steady = (Heap.Settle() - heapBefore) / (double)opened;
        }
        var sampled = 0;
        for (var i = 0; i < sessions; i += Math.Max(1, sessions / 50)) sampled++;
        // Closed again: awake idle sessions tick and grow, which would weigh on every measurement after this one.
        next = -1;
        async Task Closer()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < sessions) await DrivenRun.CloseAsync(region, AvDigitsSession.Spec($"mem-{i}"), cancel);
        }
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(Closer, cancel)));
        await Heap.QuietAsync(cancel);
        return new Result(opened, (heapAfter - heapBefore) / (double)opened, (wsAfter - wsBefore) / (double)opened,
            heapBefore, heapAfter, wsBefore, wsAfter, openSeconds, open, sampled, bare, bareUntyped, ActorsPerIdleSession, ruleState, steady);
    }

    /// <summary>For scale: managed bytes of one empty actor (no state, no timers) in the same system.</summary>
    private static async Task<double> BareActorBytesAsync<T>(ActorSystem system, int count, System.Linq.Expressions.Expression<Func<T>> make, CancellationToken cancel)
        where T : ActorBase
    {
        await Heap.QuietAsync(cancel);
        var before = Heap.Settle();
        var actors = new IActorRef[count];
        var props = Akka.Actor.Props.Create(make);
        for (var i = 0; i < count; i++) actors[i] = system.ActorOf(props);
        foreach (var a in actors) await a.Ask<ActorIdentity>(new Identify(0), TimeSpan.FromSeconds(10), cancel);
        var after = Heap.Settle();
        GC.KeepAlive(actors);
        foreach (var a in actors) a.Tell(PoisonPill.Instance);
        return (after - before) / (double)count;
    }

    private sealed class BareUntyped : UntypedActor
    {
        protected override void OnReceive(object message) { }
    }

    private sealed class Bare : ReceiveActor
    {
        public Bare() => ReceiveAny(_ => { });
    }

    private static long WorkingSet()
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64;
    }
}
