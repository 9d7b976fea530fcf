using Akka.Actor;
using FusionActors.Core.Alignment;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// The encoder child of a stream actor: started watched (its death is the stream's signal of a failure), on the
/// encoder dispatcher when the node has one (on the default one when the node's batcher runs the model: the child
/// then only moves messages), and named by generation so a restarted encoder never reuses a name. It holds the
/// stream's use of its model's version (<see cref="ModelUse"/>) and moves the stream to the model's new version after a
/// reload (<see cref="Follow"/>), unless the stream is pinned to its version.
/// <para>
/// The move happens at a fusion-window boundary of the session's window grid (docs/models.md, "switch point"): after a
/// reload, inputs that start before the first window starting after the latest input sent on the old version still run
/// on the old version, which the stream holds (<see cref="Held"/>) until no such input can still count
/// (<see cref="LetGoOfOld"/>); inputs at or after the boundary run on the new one.
/// </para>
/// </summary>
internal sealed class EncoderChild
{
    private readonly string _modality;
    private readonly string _session;
    private readonly WindowGrid? _grid; // null for anchor windows: the switch is at the next batch
    private readonly long _holdUs; // how far past the boundary the stream's watermark goes before the old version is let go
    private ModelUse? _use;
    private bool _renewDue; // the resolved encoder was freed before this stream took it: move on at the first batch
    private long _latestSentUs = EventTime.MinusInfinity; // the latest start of an input sent to an encoder
    private (ResolvedEncoder Encoder, ModelUse? Use)? _old; // the version before the switch, for inputs before _boundaryUs
    private long _boundaryUs;
    private ResolvedEncoder? _running; // what the Current child runs

    public EncoderChild(ResolvedEncoder encoder, string modality, string session = "", SessionSpec? spec = null)
    {
        Encoder = encoder;
        _modality = modality;
        _session = session;
        (_grid, _holdUs) = SwitchGrid(spec);
        _use = encoder.Use?.Take();
        _renewDue = encoder.Use is not null && _use is null && encoder.Renew is not null;
    }

    /// <summary>
    /// A stream woken from hibernation: it goes on with the encoder and the use its earlier incarnation handed over
    /// (<see cref="HandOver"/>), so a version it is pinned to, or one a reload retired while it slept, stays open.
    /// </summary>
    public EncoderChild(ResolvedEncoder encoder, ModelUse? handedOver, string modality, string session, SessionSpec? spec = null)
    {
        Encoder = encoder;
        _modality = modality;
        _session = session;
        (_grid, _holdUs) = SwitchGrid(spec);
        _use = handedOver;
    }

    private static (WindowGrid? Grid, long HoldUs) SwitchGrid(SessionSpec? spec) =>
        spec is not null && WindowGrid.Of(spec) is { } grid
            // The last window that starts before the switch point ends length − hop after it; it takes late evidence for
            // the allowed lateness more.
            ? (grid, EventTime.SaturatingAdd(Math.Max(0, grid.LengthUs - grid.HopUs), Math.Max(0, spec.AllowedLatenessUs)))
            : (null, 0);

    /// <summary>The version the stream follows: what inputs at or after the switch point run on, and a restarted child.</summary>
    public ResolvedEncoder Encoder { get; private set; }

    /// <summary>The version before a switch still held for inputs of the windows before <see cref="SplitAtUs"/>; null when none.</summary>
    public ResolvedEncoder? Held => _old?.Encoder;

    /// <summary>While a previous version is held: the switch point, which no batch straddles (<see cref="EncoderQueue.TakeBatch"/>).</summary>
    public long? SplitAtUs => _old is null ? null : _boundaryUs;

    public IActorRef? Current { get; private set; }

    public int Generation { get; private set; }

    /// <summary>A reload may have given the stream's model a new version (one read of the registry's generation).</summary>
    public bool MayBeReplaced => _renewDue || _use?.MayBeReplaced == true;

    /// <summary>Starts a child on the version the stream follows (<see cref="Encoder"/>).</summary>
    public IActorRef Start(IActorContext context) => Start(context, Encoder);

    private IActorRef Start(IActorContext context, ResolvedEncoder encoder)
    {
        var dispatcher = encoder.Node?.Batcher is null && context.System.Dispatchers.HasDispatcher(EncoderActor.DispatcherId)
            ? EncoderActor.DispatcherId : Akka.Dispatch.Dispatchers.DefaultDispatcherId;
        Current = context.Watch(context.ActorOf(EncoderActor.Props(encoder, _modality, _session).WithDispatcher(dispatcher), $"encoder-{++Generation}"));
        _running = encoder;
        return Current;
    }

    /// <summary>
    /// The child that encodes <paramref name="inputs"/> (one batch, all on one side of the switch point): on the held
    /// version when they start before the switch point, else on the version the stream follows. The running child is
    /// replaced when it runs the other one (its recurrent state, if any, starts again).
    /// </summary>
    public IActorRef For(IActorContext context, EncoderInput[] inputs)
    {
        var encoder = _old is { } old && inputs[0].StartUs < _boundaryUs ? old.Encoder : Encoder;
        if (Current is not null && !ReferenceEquals(_running, encoder)) Stop(context);
        var child = Current ?? Start(context, encoder);
        for (var i = 0; i < inputs.Length; i++) _latestSentUs = Math.Max(_latestSentUs, inputs[i].StartUs);
        return child;
    }

    /// <summary>
    /// Gives the held version back once no input before the switch point can still count: the stream's
    /// <paramref name="watermarkUs"/> is past the end of the last window that starts before it plus the allowed
    /// lateness (for tumbling windows: the switch point plus the allowed lateness), and no input before it waits
    /// (<paramref name="waiting"/>, with nothing in flight). True when that freed a retired version.
    /// </summary>
    public bool? LetGoOfOld(IActorContext context, long watermarkUs, IReadOnlyCollection<EncoderInput> waiting, bool force = false)
    {
        if (_old is not { } old) return null;
        if (!force)
        {
            if (watermarkUs < EventTime.SaturatingAdd(_boundaryUs, _holdUs)) return null;
            foreach (var input in waiting)
                if (input.StartUs < _boundaryUs) return null;
        }
        if (ReferenceEquals(_running, old.Encoder)) Stop(context);
        return ReleaseHeld();
    }

    /// <summary>Gives the held version's use back, if any (the stream stops); true when that freed a retired version.</summary>
    public bool ReleaseHeld()
    {
        var old = _old;
        _old = null;
        return old?.Use?.Release() == true;
    }

    /// <summary>
    /// After <see cref="MayBeReplaced"/>, with no batch in flight: when a reload replaced the version the stream runs,
    /// resolves the model's current version and makes it the one the stream follows. The switch point is the start of
    /// the first window of the session's grid that starts after the latest input sent on the old version: the old
    /// version is held for the inputs before it (<see cref="For"/>, <see cref="LetGoOfOld"/>). With nothing sent on the
    /// old version, or no window grid (anchor windows), the switch is at once: the running encoder stops and the old
    /// version's use is given back. A version still held from an earlier switch is given back first (its inputs then run
    /// on the version that replaced it). Null when the version was not replaced; a <see cref="Followed.Problem"/> when
    /// the new version cannot serve the stream (the stream stays on its version, and asks again after the next reload).
    /// </summary>
    public Followed? Follow(IActorContext context)
    {
        if (!_renewDue && !_use!.Replaced()) return null;
        ResolvedEncoder next;
        try { next = Encoder.Renew!(); }
        catch (UnknownModelException e)
        {
            _renewDue = false;
            return new Followed(Encoder, Encoder, e.Message, false, null);
        }
        var previous = Encoder;
        var use = _use;
        _renewDue = false;
        var gaveBack = Held is { } held ? (held, LetGoOfOld(context, EventTime.PlusInfinity, [], force: true) == true) : default((ResolvedEncoder, bool)?);
        Encoder = next;
        _use = next.Use?.Take();
        if (_grid is not { } grid || _latestSentUs == EventTime.MinusInfinity)
        {
            Stop(context);
            return new Followed(previous, next, null, use?.Release() == true, null) { GaveBack = gaveBack };
        }
        _old = (previous, use);
        _boundaryUs = grid.NextStartAfter(_latestSentUs);
        return new Followed(previous, next, null, false, _boundaryUs) { GaveBack = gaveBack };
    }

    /// <summary>
    /// The stream hibernates: its use of its version passes to the session, which keeps it while the stream sleeps (so
    /// the version stays open) and gives it to the woken stream; <see cref="Release"/> then gives nothing back. A held
    /// previous version is not handed over: the caller lets it go first (<see cref="LetGoOfOld"/>).
    /// </summary>
    public ModelUse? HandOver()
    {
        var use = _use;
        _use = null;
        return use;
    }

    /// <summary>Gives the stream's use of the version it follows back (the stream stops; <see cref="ReleaseHeld"/> first); true when that freed a retired version.</summary>
    public bool Release()
    {
        var use = _use;
        _use = null;
        return use?.Release() == true;
    }

    /// <summary>Stops the encoder unwatched, so its death is not taken for a failure; false when none runs.</summary>
    public bool Stop(IActorContext context)
    {
        if (Current is not { } running) return false;
        context.Unwatch(running);
        context.Stop(running);
        Current = null;
        _running = null;
        return true;
    }

    /// <summary>Whether <paramref name="dead"/> is the running encoder (which is then gone), not one stopped or replaced before.</summary>
    public bool Died(IActorRef dead)
    {
        if (!dead.Equals(Current)) return false;
        Current = null;
        _running = null;
        return true;
    }
}

/// <summary>What <see cref="EncoderChild.Follow"/> did: the encoder before and after, why it could not move, whether the old version was freed.</summary>
/// <param name="FromUs">The switch point: inputs that start at or after it run on <see cref="To"/>; null when the switch is at once.</param>
internal sealed record Followed(ResolvedEncoder From, ResolvedEncoder To, string? Problem, bool Freed, long? FromUs)
{
    /// <summary>A version still held from an earlier switch, given back at this one, and whether that freed it.</summary>
    public (ResolvedEncoder Encoder, bool Freed)? GaveBack { get; init; }
}
