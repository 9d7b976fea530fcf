using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using FusionActors.Scenarios;
using FusionActors.Inference.Data;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Eval;

/// <summary>The policies compared in every condition, each a session fed the very same frames.</summary>
public static class EvalPolicies
{
    public const string Adaptive = "adaptive";
    public const string Fixed = "fixed";
    public const string AudioOnly = "audio-only";
    public const string ImageOnly = "image-only";
    public const string Learned = "learned";

    /// <summary>Each compared policy's name in the report, and the session policy it runs (as an operator writes it).</summary>
    private static readonly (string Name, string Policy)[] Compared =
    [
        (Adaptive, "adaptive"),
        (Fixed, "fixed"),
        (AudioOnly, "single:audio"),
        (ImageOnly, "single:image"),
        (Learned, "learned"),
    ];

    public static readonly string[] All = [.. Compared.Select(c => c.Name)];

    public static FusionPolicy Of(string name)
    {
        foreach (var (n, policy) in Compared)
            if (n == name) return WeightingPolicies.Parse(policy);
        // A session file's further modalities: M-only plays single:M.
        if (name.EndsWith("-only", StringComparison.Ordinal) && name.Length > "-only".Length)
            return WeightingPolicies.Parse($"single:{name[..^"-only".Length]}");
        throw new ArgumentOutOfRangeException(nameof(name), name, "unknown policy");
    }
}

/// <summary>What one policy's session produced in one condition: the final revision of each window, and its counters.</summary>
public sealed record PolicyRun(string Policy, FusedResult?[] Windows, SessionStatus? Status, long LateEvidence);

/// <param name="Script">What the client sent; null for a replayed recording (<see cref="ReplayRunner"/>).</param>
public sealed record ConditionRun(EvalCondition Condition, EvalScript? Script, int[] Labels, IReadOnlyDictionary<string, PolicyRun> Policies, TimeSpan Elapsed)
{
    /// <summary>Each window's fault phase (a replayed demo's scheduled faults), for the per-phase breakdown; null when not known.</summary>
    public IReadOnlyList<string>? Phases { get; init; }

    /// <summary>What a replay condition read from its recording; null for the scripted conditions.</summary>
    public ReplayCounters? Replay { get; init; }

    /// <summary>CPU time of this process (every thread: client, actors, encoders) while the condition played; null when not measured.</summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>A replayed recording, not a scripted condition: it takes no part in the targets nor in the pooled per-pattern scores.</summary>
    public bool IsReplay => Script is null;
}

/// <summary>
/// The encoder wrapper of the evaluation node: crashes on inputs whose content hash is in the current
/// condition's poison set (empty outside encoder-crashes). Conditions run one after the other.
/// </summary>
public sealed class PoisonSwitch
{
    private volatile Poison _poison = new(new HashSet<ulong>(), null);

    private sealed record Poison(IReadOnlySet<ulong> Hashes, string? Modality);

    /// <param name="modality">Crash only the encoders of this modality's streams; null = every stream's.</param>
    public void Set(IReadOnlySet<ulong> hashes, string? modality = null) => _poison = new(hashes, modality);

    public IEncoderProvider Wrap(IEncoderProvider inner) => new StatelessPoison(inner, this);

    private bool Crashes(StreamSpec stream, ReadOnlyMemory<float> input)
    {
        var p = _poison;
        return p.Hashes.Count > 0 && (p.Modality is null || p.Modality == stream.Modality) && p.Hashes.Contains(EvalScript.Hash(input.Span));
    }

    /// <summary>
    /// A <see cref="PoisonInputEncoder"/> around the stateless encoders only (as <see cref="PoisonEncoderProvider"/> wraps every one): a stateful one (Silero VAD) keeps its
    /// unwrapped encoder, since its encoder actor runs it through its own stream, which a wrapper would hide. Its inputs
    /// are short windows, never a poisoned sensor frame or item, so it would never crash anyway.
    /// </summary>
    private sealed class StatelessPoison(IEncoderProvider inner, PoisonSwitch poison) : IEncoderProvider
    {
        public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => Poison(stream, inner.Resolve(stream, classCount));

        public ResolvedEncoder Resolve(StreamSpec stream, IReadOnlyList<string> labels) => Poison(stream, inner.Resolve(stream, labels));

        private ResolvedEncoder Poison(StreamSpec stream, ResolvedEncoder resolved) => resolved.Stateful
            ? resolved
            : resolved with { Encoder = new PoisonInputEncoder(resolved.Encoder, input => poison.Crashes(stream, input)) };

        public FusionActors.Core.Fusion.FusionModels Fusion => inner.Fusion;
    }
}

/// <summary>
/// Plays conditions through a running <see cref="FusionNode"/>: four sessions (one per policy) open on the
/// node's session region, subscribe, and get each chunk of the script; the client sends chunk c only when
/// every session has the result of window c - <see cref="InFlight"/>, so it plays as fast as the pipeline
/// allows. While it waits it keeps every stream alive with a heartbeat that promises nothing new.
/// </summary>
public sealed class EvalRunner(FusionNode node, PoisonSwitch poison, IReadOnlyDictionary<string, double> fixedWeights)
{
    /// <summary>The policies played, one session each (names of <see cref="EvalPolicies.All"/>).</summary>
    public IReadOnlyList<string> Policies { get; init; } = EvalPolicies.All;

    /// <summary>The session played: the built-in audio + image one, or a session file's.</summary>
    public EvalSession Session { get; init; } = EvalSession.BuiltIn;

    /// <summary>Items (windows) in flight per session.</summary>
    public int InFlight { get; init; } = 3;

    /// <summary>How long to wait for a window before moving on (it then counts as no result).</summary>
    public TimeSpan WindowTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The heartbeat that keeps a waiting stream from going Idle (idle timeout 2 s).</summary>
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromMilliseconds(400);

    /// <summary>The client plays faster than real time, so its event times run ahead of the server's clock.</summary>
    private const long FutureSkewUs = 100L * 24 * 3600 * 1_000_000;

    private static int _runs;

    public SessionSpec SpecFor(string sessionId, string policy)
    {
        var spec = Session.Description is { } d ? d.Spec(sessionId, EvalPolicies.Of(policy)) : AvDigitsSession.Spec(sessionId, EvalPolicies.Of(policy));
        return spec with
        {
            Streams = spec.Streams.Select(s => s with { MaxFutureSkewUs = FutureSkewUs }).ToArray(),
            // The fixed weights are audio's and image's: a session of other modalities does not play fixed (EvalSession.PoliciesFor).
            FixedWeights = Session.IsAudioImage ? fixedWeights : spec.FixedWeights,
        };
    }

    public async Task<ConditionRun> RunAsync(EvalCondition condition, IReadOnlyList<AvDigitsItem> items, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var script = EvalScript.Build(condition, items, Session);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        poison.Set(script.PoisonHashes, condition.Target);
        var run = Interlocked.Increment(ref _runs);
        var sessions = new List<(string Policy, string Id, Collector Collector)>();
        try
        {
            foreach (var policy in Policies)
            {
                var id = $"eval-{run}-{condition.Name}-{policy}";
                var (actor, reader) = ChannelSubscriber.Create(node.System, capacity: 100_000);
                var collector = new Collector(actor, reader, items.Count);
                var opened = await node.Sessions.Ask<object>(new OpenSession(SpecFor(id, policy), 0), TimeSpan.FromSeconds(10), cancel);
                if (opened is not SessionOpened) throw new InvalidOperationException($"session {id} did not open: {opened}");
                await node.Sessions.Ask<Subscribed>(new Subscribe(id, actor), TimeSpan.FromSeconds(10), cancel);
                collector.Start(cancel);
                sessions.Add((policy, id, collector));
            }

            var promised = script.Streams.ToDictionary(id => id, _ => long.MinValue);
            for (var c = 0; c < script.Chunks.Count; c++)
            {
                var waitFor = c - InFlight;
                if (waitFor >= 0 && waitFor < items.Count)
                    await WaitForWindowAsync(sessions.Select(s => (s.Id, s.Collector)).ToList(), waitFor, promised, cancel);
                foreach (var action in script.Chunks[c])
                {
                    foreach (var (_, id, collector) in sessions) Send(id, action, collector.Actor);
                    promised[action.StreamId] = Math.Max(promised[action.StreamId], action switch
                    {
                        FrameAction f => f.EventTimeUs - 50_000,
                        HeartbeatAction h => h.WatermarkUs,
                        _ => long.MinValue,
                    });
                }
            }
            foreach (var (_, id, collector) in sessions)
            {
                foreach (var stream in script.Streams) node.Sessions.Tell(new CloseStream(id, stream), collector.Actor);
            }
            await WaitForWindowAsync(sessions.Select(s => (s.Id, s.Collector)).ToList(), items.Count - 1, null, cancel);
            // Revisions of the last windows may still be on their way: let them land.
            await Task.Delay(100, cancel);

            var policies = new Dictionary<string, PolicyRun>();
            foreach (var (policy, id, collector) in sessions)
            {
                SessionStatus? status = null;
                try { status = await node.Sessions.Ask<SessionStatus>(new GetSessionStatus(id), TimeSpan.FromSeconds(10), cancel); }
                catch (Exception e) when (e is TimeoutException or AskTimeoutException) { }
                policies[policy] = new PolicyRun(policy, collector.Snapshot(), status, collector.LateEvidence);
            }
            return new ConditionRun(condition, script, items.Select(i => i.Label).ToArray(), policies, clock.Elapsed)
            {
                CpuTime = Process.GetCurrentProcess().TotalProcessorTime - cpu,
            };
        }
        finally
        {
            poison.Set(new HashSet<ulong>());
            foreach (var (_, id, collector) in sessions)
            {
                node.Sessions.Tell(new CloseSession(id), ActorRefs.NoSender);
                collector.Stop();
            }
        }
    }

    private void Send(string sessionId, ClientAction action, IActorRef replyTo)
    {
        object message = action switch
        {
            FrameAction f => new Frame(sessionId, f.StreamId, f.Seq, f.EventTimeUs, f.Payload),
            HeartbeatAction h => new StreamHeartbeat(sessionId, h.StreamId, h.WatermarkUs),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        node.Sessions.Tell(message, replyTo);
    }

    private async Task WaitForWindowAsync(List<(string Id, Collector Collector)> sessions, int window, Dictionary<string, long>? promised, CancellationToken cancel)
    {
        var started = Stopwatch.StartNew();
        var lastKeepAlive = TimeSpan.Zero;
        while (!sessions.All(s => s.Collector.Has(window)))
        {
            if (started.Elapsed > WindowTimeout) return; // counted as no result
            if (promised is not null && started.Elapsed - lastKeepAlive > KeepAliveEvery)
            {
                lastKeepAlive = started.Elapsed;
                foreach (var (stream, w) in promised)
                    if (w > long.MinValue)
                        foreach (var (id, collector) in sessions) node.Sessions.Tell(new StreamHeartbeat(id, stream, w), collector.Actor);
            }
            await Task.Delay(1, cancel);
        }
    }

    /// <summary>Keeps the latest revision of every window a session publishes.</summary>
    private sealed class Collector(IActorRef actor, System.Threading.Channels.ChannelReader<object> reader, int windows)
    {
        private readonly FusedResult?[] _windows = new FusedResult?[windows];
        private readonly object _gate = new();
        private Task? _task;
        private long _late;

        public IActorRef Actor => actor;
        public long LateEvidence => Interlocked.Read(ref _late);

        public void Start(CancellationToken cancel) => _task = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in reader.ReadAllAsync(cancel))
                {
                    if (m is FusedResult r)
                    {
                        var k = (int)(r.WindowStartUs / EvalScript.SecondUs);
                        if (k < 0 || k >= windows) continue;
                        lock (_gate)
                            if (_windows[k] is not { } prev || prev.Revision < r.Revision) _windows[k] = r;
                    }
                    else if (m is LateEvidence) Interlocked.Increment(ref _late);
                }
            }
            catch (OperationCanceledException) { }
        }, cancel);

        public bool Has(int window)
        {
            lock (_gate) return _windows[window] is not null;
        }

        public FusedResult?[] Snapshot()
        {
            lock (_gate) return (FusedResult?[])_windows.Clone();
        }

        public void Stop() => actor.Tell(PoisonPill.Instance);
    }
}
