using System.Threading.Channels;
using Akka.Actor;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// Bridges a session's published messages (fused results, state changes, late evidence) into a
/// <see cref="Channel{T}"/>, so non-actor code can <c>await foreach</c> over them.
/// The channel is bounded; when the reader falls behind, the oldest messages are dropped and counted.
/// </summary>
public sealed class ChannelSubscriber : ReceiveActor
{
    private readonly ChannelWriter<object> _writer;

    public ChannelSubscriber(ChannelWriter<object> writer)
    {
        _writer = writer;
        ReceiveAny(m => writer.TryWrite(m));
    }

    // The reader's await foreach ends when the subscriber stops.
    protected override void PostStop() => _writer.TryComplete();

    public static Props Props(ChannelWriter<object> writer) => Akka.Actor.Props.Create(() => new ChannelSubscriber(writer));

    /// <summary>Creates the channel and its subscriber actor.</summary>
    public static (IActorRef Actor, ChannelReader<object> Reader) Create(IActorRefFactory system, int capacity = 10_000, string? name = null)
    {
        var channel = Channel.CreateBounded<object>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        var actor = name is null ? system.ActorOf(Props(channel.Writer)) : system.ActorOf(Props(channel.Writer), name);
        return (actor, channel.Reader);
    }
}
