using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>chaos crash-encoder SESSION STREAM</c>, <c>chaos drop SESSION STREAM SECONDS</c>: real faults for drills.</summary>
public sealed class ChaosPalette(ConsoleContext context) : CommandPaletteHandler
{
    private static readonly CommandArgument Session = new("session", "session id");
    private static readonly CommandArgument Stream = new("stream", "stream id");

    public override CommandPalette Palette { get; } = new("chaos", "fault injection for drills (real failures in a running session)",
    [
        new("crash-encoder", "the stream's encoder throws on its next batch; watch it restart with backoff", [Session, Stream]),
        new("drop", "the stream drops every frame for SECONDS (counted as ChaosDropped)",
            [Session, Stream, new("seconds", "how long, in seconds", ArgumentType.Number)]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override async Task Execute()
        {
            var status = await OpenStatus(context, Command.Arg("session"));
            var stream = Stream(status, Command.Arg("stream"));
            if (Command.Name == "crash-encoder")
            {
                Done(await Send(context.Sessions, new CrashEncoder(status.SessionId, stream.StreamId, context.OperatorCredential)));
                return;
            }
            var seconds = Command.Number("seconds");
            if (seconds is <= 0 or > 3600) throw new CommandFailedException($"SECONDS must be in (0, 3600], not {seconds}");
            Done(await Send(context.Sessions, new DropFrames(status.SessionId, stream.StreamId, TimeSpan.FromSeconds(seconds), context.OperatorCredential)));
        }
    }
}
