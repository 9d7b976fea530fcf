using Akka.Actor;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// The encoder child of a stream actor: started watched (its death is the stream's signal of a failure), on the
/// encoder dispatcher when the node has one (on the default one when the node's batcher runs the model: the child
/// then only moves messages), and named by generation so a restarted encoder never reuses a name. It holds the
/// stream's use of its model's version (<see cref="ModelUse"/>) and moves the stream to the model's new version after a
/// reload (<see cref="Follow"/>), unless the stream is pinned to its version.
/// </summary>
internal sealed class EncoderChild
{
    private readonly string _modality;
    private readonly string _session;
    private ModelUse? _use;
    private bool _renewDue; // the resolved encoder was freed before this stream took it: move on at the first batch

    public EncoderChild(ResolvedEncoder encoder, string modality, string session = "")
    {
        Encoder = encoder;
        _modality = modality;
        _session = session;
        _use = encoder.Use?.Take();
        _renewDue = encoder.Use is not null && _use is null && encoder.Renew is not null;
    }

    /// <summary>
    /// A stream woken from hibernation: it goes on with the encoder and the use its earlier incarnation handed over
    /// (<see cref="HandOver"/>), so a version it is pinned to, or one a reload retired while it slept, stays open.
    /// </summary>
    public EncoderChild(ResolvedEncoder encoder, ModelUse? handedOver, string modality, string session)
    {
        Encoder = encoder;
        _modality = modality;
        _session = session;
        _use = handedOver;
    }

    /// <summary>The encoder the next started child runs.</summary>
    public ResolvedEncoder Encoder { get; private set; }

    public IActorRef? Current { get; private set; }

    public int Generation { get; private set; }

    /// <summary>A reload may have given the stream's model a new version (one read of the registry's generation).</summary>
    public bool MayBeReplaced => _renewDue || _use?.MayBeReplaced == true;

    public IActorRef Start(IActorContext context)
    {
        var dispatcher = Encoder.Node?.Batcher is null && context.System.Dispatchers.HasDispatcher(EncoderActor.DispatcherId)
            ? EncoderActor.DispatcherId : Akka.Dispatch.Dispatchers.DefaultDispatcherId;
        Current = context.Watch(context.ActorOf(EncoderActor.Props(Encoder, _modality, _session).WithDispatcher(dispatcher), $"encoder-{++Generation}"));
        return Current;
    }

    /// <summary>
    /// After <see cref="MayBeReplaced"/>, with no batch in flight: when a reload replaced the version the stream runs,
    /// resolves the model's current version, stops the running encoder (the next batch starts one on the new version)
    /// and gives the old version's use back. Null when the version was not replaced; a <see cref="Followed.Problem"/>
    /// when the new version cannot serve the stream (the stream stays on its version, and asks again after the next reload).
    /// </summary>
    public Followed? Follow(IActorContext context)
    {
        if (!_renewDue && !_use!.Replaced()) return null;
        ResolvedEncoder next;
        try { next = Encoder.Renew!(); }
        catch (UnknownModelException e)
        {
            _renewDue = false;
            return new Followed(Encoder, Encoder, e.Message, false);
        }
        var previous = Encoder;
        var old = _use;
        _renewDue = false;
        Stop(context);
        Encoder = next;
        _use = next.Use?.Take();
        return new Followed(previous, next, null, old?.Release() == true);
    }

    /// <summary>
    /// The stream hibernates: its use of its version passes to the session, which keeps it while the stream sleeps (so
    /// the version stays open) and gives it to the woken stream; <see cref="Release"/> then gives nothing back.
    /// </summary>
    public ModelUse? HandOver()
    {
        var use = _use;
        _use = null;
        return use;
    }

    /// <summary>Gives the stream's use of its version back (the stream stops); true when that freed a retired version.</summary>
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
        return true;
    }

    /// <summary>Whether <paramref name="dead"/> is the running encoder (which is then gone), not one stopped or replaced before.</summary>
    public bool Died(IActorRef dead)
    {
        if (!dead.Equals(Current)) return false;
        Current = null;
        return true;
    }
}

/// <summary>What <see cref="EncoderChild.Follow"/> did: the encoder before and after, why it could not move, whether the old version was freed.</summary>
internal sealed record Followed(ResolvedEncoder From, ResolvedEncoder To, string? Problem, bool Freed);
