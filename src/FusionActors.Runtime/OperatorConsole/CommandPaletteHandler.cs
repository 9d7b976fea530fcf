using Akka.Actor;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>
/// A palette registered with the console host (pbm's CommandPaletteHandler): its definition and the props of
/// the <see cref="CommandHandlerActor"/> that runs one invocation and streams responses to <c>replyTo</c>.
/// </summary>
public abstract class CommandPaletteHandler
{
    public abstract CommandPalette Palette { get; }

    public abstract Props HandlerProps(Command command, IActorRef replyTo);
}
