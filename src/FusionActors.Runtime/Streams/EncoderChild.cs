using Akka.Actor;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// The encoder child of a stream actor: started watched (its death is the stream's signal of a failure), on the
/// encoder dispatcher when the node has one (on the default one when the node's batcher runs the model: the child
/// then only moves messages), and named by generation so a restarted encoder never reuses a name.
/// </summary>
internal sealed class EncoderChild(ResolvedEncoder encoder, string modality, string session = "")
{
    public IActorRef? Current { get; private set; }

    public int Generation { get; private set; }

    public IActorRef Start(IActorContext context)
    {
        var dispatcher = encoder.Node?.Batcher is null && context.System.Dispatchers.HasDispatcher(EncoderActor.DispatcherId)
            ? EncoderActor.DispatcherId : Akka.Dispatch.Dispatchers.DefaultDispatcherId;
        Current = context.Watch(context.ActorOf(EncoderActor.Props(encoder, modality, session).WithDispatcher(dispatcher), $"encoder-{++Generation}"));
        return Current;
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
