using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>streams show SESSION|restart SESSION STREAM|disable SESSION STREAM|enable SESSION STREAM</c>.</summary>
public sealed class StreamsPalette(ConsoleContext context) : CommandPaletteHandler
{
    private static readonly CommandArgument Session = new("session", "session id");
    private static readonly CommandArgument Stream = new("stream", "stream id");

    public override CommandPalette Palette { get; } = new("streams", "health, counters and operator control of a session's streams",
    [
        new("show", "state, reliability, watermark and counters of every stream", [Session]),
        new("restart", "revive a Failed stream now (resets its restart budget)", [Session, Stream]),
        new("disable", "take a stream out of the fusion; its frames are refused until enabled", [Session, Stream]),
        new("enable", "put a disabled or Failed stream back; its encoder restarts", [Session, Stream]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override async Task Execute()
        {
            var status = await OpenStatus(context, Command.Arg("session"));
            if (Command.Name == "show")
            {
                Done(new CommandResponse(null) { Table = SessionsPalette.StreamsTable(status), Data = ToJson(SessionsPalette.Describe(status)) });
                return;
            }
            var stream = Stream(status, Command.Arg("stream"));
            switch (Command.Name)
            {
                case "restart":
                    if (stream.State != StreamState.Failed)
                        throw new CommandFailedException($"stream {stream.StreamId} is {stream.State}; restart revives a Failed stream (crashed encoders restart by themselves)");
                    // RestartStream is fire-and-forget in the session protocol: report the state it led to.
                    context.Sessions.Tell(new RestartStream(status.SessionId, stream.StreamId, context.OperatorCredential));
                    var after = Stream(await OpenStatus(context, status.SessionId), stream.StreamId);
                    Done($"stream {stream.StreamId} restart requested; now {after.State}");
                    break;
                case "disable":
                    Done(await Send(context.Sessions, new DisableStream(status.SessionId, stream.StreamId, context.OperatorCredential)));
                    break;
                case "enable":
                    Done(await Send(context.Sessions, new EnableStream(status.SessionId, stream.StreamId, context.OperatorCredential)));
                    break;
            }
        }
    }
}
