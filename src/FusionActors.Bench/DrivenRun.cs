using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Bench;

/// <summary>
/// Opens sessions through the region, subscribes a <see cref="SessionDriver"/> to each, runs them all in
/// parallel until every window is fused, reads every session's status, then closes the sessions.
/// </summary>
public static class DrivenRun
{
    public sealed record Outcome(double Seconds, IReadOnlyList<DriverResult> Drivers, IReadOnlyList<SessionStatus> Statuses, GcStats Gc)
    {
        public long FramesFused => Drivers.Sum(d => d.FramesFused);
        public long Incomplete => Drivers.Sum(d => d.IncompleteWindows);
        public long Rejected => Drivers.Sum(d => d.Rejected);
        public IEnumerable<StreamStatus> Streams => Statuses.SelectMany(s => s.Streams);
        public long InputsEncoded => Streams.Sum(s => s.Counters.InputsEncoded);
        public long Batches => Streams.Sum(s => s.Counters.Batches);
        public long Shed => Streams.Sum(s => s.Counters.InputsShed) + Statuses.Sum(s => s.Alignment?.Shed.Values.Sum() ?? 0);
        public long Late => Statuses.Sum(s => s.Alignment?.LateEvidence ?? 0);
    }

    /// <param name="direct">
    /// Null: through the session region (the server's path). Otherwise creates each session actor itself
    /// (unsharded, same Props and encoders) and sends to it directly: the routing hops are left out.
    /// </param>
    public static async Task<Outcome> RunAsync(FusionNode node, string prefix, int sessions, Func<string, SessionSpec> specOf,
        Func<int, StreamSpec, float[]> payloadOf, int framesPerWindow, int windows, int inFlightWindows, CancellationToken cancel,
        bool batched = false, Func<string, Props>? direct = null, bool viaSessionEndpoint = false)
    {
        var drivers = new List<(string Id, IActorRef Actor, Task<DriverResult> Done, SessionSpec Spec, IActorRef Target)>();
        for (var i = 0; i < sessions; i++)
        {
            var id = $"{prefix}-{i}";
            var spec = specOf(id);
            var region = direct is null ? node.Sessions : node.System.ActorOf(direct(id));
            var opened = await OpenAsync(region, spec, cancel);
            // The session's own frame endpoint (SessionOpened.Frames): frames skip the region and shard hops.
            var frameTarget = viaSessionEndpoint ? opened.Frames ?? throw new InvalidOperationException("no frame endpoint") : region;
            var done = new TaskCompletionSource<DriverResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var payloads = spec.Streams.Select(s => payloadOf(i, s)).ToArray();
            var actor = node.System.ActorOf(SessionDriver.Props(frameTarget, id, spec.Streams.Select(s => s.StreamId).ToArray(), payloads,
                framesPerWindow, windows, inFlightWindows, done, batched));
            await region.Ask<Subscribed>(new Subscribe(id, actor), TimeSpan.FromSeconds(10), cancel);
            drivers.Add((id, actor, done.Task, spec, region));
        }

        AllocationSampler.Instance?.Begin();
        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        foreach (var d in drivers) d.Actor.Tell(SessionDriver.Start.Instance);
        var all = Task.WhenAll(drivers.Select(d => d.Done));
        var timeout = TimeSpan.FromMinutes(3);
        if (await Task.WhenAny(all, Task.Delay(timeout, cancel)) != all)
            throw new TimeoutException($"{prefix}: not every window was fused within {timeout}");
        var results = await all;
        var gcStats = gc.Stop();
        AllocationSampler.Instance?.End(prefix + " (per frame fused)", results.Sum(r => r.FramesFused));
        var ended = results.Max(r => r.LastResultTicks);
        var seconds = Stopwatch.GetElapsedTime(started, ended).TotalSeconds;

        var statuses = new List<SessionStatus>();
        foreach (var d in drivers)
            statuses.Add(await StatusAsync(d.Target, d.Id, cancel));
        foreach (var d in drivers)
        {
            await CloseAsync(d.Target, d.Spec, cancel);
            d.Actor.Tell(PoisonPill.Instance);
        }
        return new Outcome(seconds, results, statuses, gcStats);
    }

    /// <summary>
    /// The session's status; retried, because the session asks its children with a 5 s timeout of its own,
    /// which a heavily loaded shared machine can exceed right after a run.
    /// </summary>
    public static async Task<SessionStatus> StatusAsync(IActorRef target, string sessionId, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await target.Ask<SessionStatus>(new GetSessionStatus(sessionId), TimeSpan.FromSeconds(15), cancel); }
            catch (AskTimeoutException) when (attempt < 3) { await Task.Delay(500, cancel); }
        }
    }

    public static async Task<SessionOpened> OpenAsync(IActorRef region, SessionSpec spec, CancellationToken cancel)
    {
        var opened = await region.Ask<object>(new OpenSession(spec, 0), TimeSpan.FromSeconds(30), cancel);
        return opened as SessionOpened ?? throw new InvalidOperationException($"session {spec.SessionId} did not open: {opened}");
    }

    /// <summary>Finishes the streams (no window is left to close on processing time), then closes the session.</summary>
    public static async Task CloseAsync(IActorRef region, SessionSpec spec, CancellationToken cancel)
    {
        foreach (var s in spec.Streams) region.Tell(new CloseStream(spec.SessionId, s.StreamId), ActorRefs.NoSender);
        await region.Ask<SessionClosed>(new CloseSession(spec.SessionId), TimeSpan.FromSeconds(30), cancel);
    }
}
