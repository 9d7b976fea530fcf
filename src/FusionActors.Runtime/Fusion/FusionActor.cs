using Akka.Actor;
using Akka.Event;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Fusion;

/// <summary>
/// Decides each aligned window with the session's <see cref="FusionEngine"/> and publishes fused results,
/// stream state changes and late evidence to the session's subscribers. The policy can change at run time.
/// </summary>
public sealed class FusionActor : UntypedActor
{
    // Kept for status queries; a result with its dictionaries is about 1 KB, and idle sessions still decide every window.
    private const int RecentResults = 1;
    private readonly string _sessionId;
    private readonly FusionEngine _engine;
    private readonly HashSet<IActorRef> _subscribers;
    private IActorRef? _client; // the session's own client: its results and commits carry the seal it checks
    private string? _seal;
    private readonly Queue<FusedResult> _recent;
    private ILoggingAdapter? _logger;
    private long _results, _noEvidence, _withMissing;
    private readonly SessionRecording? _recording;
    private readonly bool _imputes;

    /// <param name="modelVersions">The <c>name@version</c> of the session's models, named by every result (<see cref="FusedResult.Models"/>).</param>
    public FusionActor(SessionSpec spec, IReadOnlyDictionary<string, int>? embeddingSizes = null, FusionModels? models = null,
        IReadOnlyList<string>? modelVersions = null, SessionRecording? recording = null, Dormant? restore = null)
    {
        _recording = recording;
        _sessionId = spec.SessionId;
        _imputes = spec.ImputeHorizonUs > 0;
        if (restore is not null)
        {
            // Woken from hibernation: the same engine (its policy, its last evidence), subscribers, client and counts.
            (_subscribers, _recent, _client, _seal) = (restore.Subscribers, restore.Recent, restore.Client, restore.Seal);
            // An engine that keeps no evidence between windows (no imputation) is made again from the spec: only its policy is state.
            _engine = restore.Engine ?? new FusionEngine(spec, embeddingSizes, models) { ModelVersions = modelVersions ?? [], Policy = restore.Policy };
            (_results, _noEvidence, _withMissing) = (restore.Results, restore.NoEvidence, restore.WithMissing);
            return;
        }
        _subscribers = [];
        _recent = new Queue<FusedResult>();
        _engine = new FusionEngine(spec, embeddingSizes, models) { ModelVersions = modelVersions ?? [] };
    }

    // A woken fusion actor watches its subscribers and client again (one gone meanwhile is reported at once).
    protected override void PreStart()
    {
        foreach (var s in _subscribers) Context.Watch(s);
        if (_client is not null) Context.Watch(_client);
    }

    /// <summary>From the session: hand over the fusion's state and stop (fusion holds nothing in flight).</summary>
    public sealed record Hibernate
    {
        public static readonly Hibernate Instance = new();
    }

    /// <summary>The state of a fusion actor that stopped to hibernate.</summary>
    /// <param name="Engine">Kept only when it carries evidence from window to window (imputation); else made again on waking.</param>
    public sealed record Dormant(FusionEngine? Engine, FusionPolicy Policy, HashSet<IActorRef> Subscribers, Queue<FusedResult> Recent, IActorRef? Client, string? Seal,
        long Results, long NoEvidence, long WithMissing);

    /// <summary>The status of a hibernated fusion actor: what it answers once awake.</summary>
    public static FusionStatus StatusOf(Dormant d) => new(d.Policy.ToString(), d.Results, d.NoEvidence, d.WithMissing, d.Recent.ToArray());

    /// <summary>
    /// A restart (a bug in a window's fusion) must not drop the subscribers: the client would keep getting pings
    /// but no results and no commits, and its replay log would fill while nothing told it to reopen. The old
    /// instance hands them to the new one through the mailbox, where they come before anything sent after the failure.
    /// </summary>
    protected override void PreRestart(Exception reason, object message) =>
        Self.Tell(new Restore([.. _subscribers], _client, _seal));

    protected override void OnReceive(object message)
    {
        if (Unadmitted.Drop(message, Context)) return;
        switch (message)
        {
            case FuseWindow w: OnWindow(w); break;
            case StreamStateChanged or LateEvidence or FramesCommitted: Publish(message); break;
            case Subscribe { Subscriber: null }: Sender.Tell(new CommandRejected(_sessionId, nameof(Subscribe), "a subscription names its subscriber")); break;
            case Subscribe s:
                if (_subscribers.Add(s.Subscriber)) Context.Watch(s.Subscriber);
                Sender.Tell(new Subscribed(_sessionId));
                break;
            case Unsubscribe s:
                if (_subscribers.Remove(s.Subscriber)) Context.Unwatch(s.Subscriber);
                break;
            case Restore r:
                foreach (var s in r.Subscribers)
                    if (_subscribers.Add(s)) Context.Watch(s);
                if (r.Client is not null && _client is null)
                {
                    _client = Context.Watch(r.Client);
                    _seal = r.Seal;
                }
                break;
            case Attach a:
                if (_client is not null && !_client.Equals(a.Client)) Context.Unwatch(_client);
                _subscribers.Remove(a.Client);
                _client = Context.Watch(a.Client);
                _seal = a.Seal;
                break;
            case Detach d when d.Client.Equals(_client):
                Context.Unwatch(_client);
                _client = null;
                _seal = null;
                break;
            case Detach: break;
            case Terminated t when t.ActorRef.Equals(_client): _client = null; break;
            case Terminated t: _subscribers.Remove(t.ActorRef); break;
            case SetFusionPolicy p:
                Log.Info("Session {0}: fusion policy {1} -> {2}", _sessionId, _engine.Policy, p.Policy);
                _engine.Policy = p.Policy;
                _recording?.Policy(p.Policy);
                Sender.Tell(new Akka.Actor.Status.Success(p.Policy.ToString()));
                break;
            case GetStatus:
                Sender.Tell(new FusionStatus(_engine.Policy.ToString(), _results, _noEvidence, _withMissing, _recent.ToArray()));
                break;
            case Hibernate:
                Sender.Tell(new Dormant(_imputes ? _engine : null, _engine.Policy, _subscribers, _recent, _client, _seal, _results, _noEvidence, _withMissing));
                Context.Stop(Self);
                break;
            default: Unhandled(message); break;
        }
    }

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    /// <param name="embeddingSizes">Embedding length of each stream's encoder, by stream id (a stable fused-embedding layout).</param>
    /// <param name="models">The node's fusion calibration and learned head.</param>
    public static Props Props(SessionSpec spec, IReadOnlyDictionary<string, int>? embeddingSizes = null, FusionModels? models = null,
        IReadOnlyList<string>? modelVersions = null, SessionRecording? recording = null, Dormant? restore = null) =>
        ActorFactory.Props(ActorFactory.Once(restore, r => new FusionActor(spec, embeddingSizes, models, modelVersions, recording, r)));

    private void OnWindow(FuseWindow msg)
    {
        using var activity = FusionTracing.StartFuse(_sessionId, msg.Window);
        var result = _engine.Fuse(_sessionId, msg.Window, msg.Streams);
        FusionTracing.Fused(activity, result);
        _results++;
        FusionMetrics.Fused(result, msg.Window.IsFirstEmission);
        _recording?.Result(result);
        if (result.Status == FusedStatus.NoEvidence) _noEvidence++;
        // Once per window, at its first emission here (a revision only adds evidence), also in an incarnation that
        // numbers its revisions above an earlier one's.
        if (result.Missing.Count > 0 && msg.Window.IsFirstEmission) _withMissing++;
        _recent.Enqueue(result);
        if (_recent.Count > RecentResults) _recent.Dequeue();
        Publish(result);
    }

    private void Publish(object message)
    {
        foreach (var s in _subscribers) s.Tell(message);
        if (_client is null) return;
        _client.Tell(message switch
        {
            FusedResult r => r with { Seal = _seal },
            FramesCommitted c => c with { Seal = _seal },
            StreamStateChanged c => c with { Seal = _seal },
            LateEvidence l => l with { Seal = _seal },
            _ => message,
        });
    }

    /// <summary>The session's client, whose results and commits are sealed; it replaces the one before (a new writer).</summary>
    public sealed record Attach(IActorRef Client, string Seal);

    private sealed record Restore(IActorRef[] Subscribers, IActorRef? Client, string? Seal);

    /// <summary>A fenced writer's client gets nothing more.</summary>
    public sealed record Detach(IActorRef Client);

    public sealed record FuseWindow(AlignedWindow Window, IReadOnlyDictionary<string, StreamSnapshot> Streams);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }
}
