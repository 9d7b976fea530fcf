using Akka.Actor;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>
/// Runs one invocation (pbm's CommandHandlerActor): <see cref="Execute"/> streams <see cref="CommandResponse"/>s
/// to the connection and ends with a final one, after which the actor stops. A long-running command (watch)
/// returns from <see cref="Execute"/> without a final response and keeps receiving until it is cancelled:
/// the console host then stops it.
/// </summary>
public abstract class CommandHandlerActor : ReceiveActor
{
    /// <summary>How long a command waits for the cluster or a session to answer.</summary>
    protected static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private bool _finished;

    protected CommandHandlerActor(Command command, IActorRef replyTo)
    {
        Command = command;
        ReplyTo = replyTo;
        ReceiveAsync<Start>(async _ =>
        {
            try { await Execute(); }
            catch (AskTimeoutException) { Fail($"'{Command}' timed out after {AskTimeout.TotalSeconds:0} s waiting for the node"); }
            catch (CommandFailedException e) { Fail(e.Message); }
        });
    }

    protected Command Command { get; }

    protected IActorRef ReplyTo { get; }

    protected override void PreStart() => Self.Tell(Start.Instance);

    protected abstract Task Execute();

    /// <summary>A non-final piece of output.</summary>
    protected void Write(CommandResponse response)
    {
        if (!_finished) ReplyTo.Tell(response with { Final = false });
    }

    protected void Write(string text) => Write(CommandResponse.Line(text));

    /// <summary>The final piece; the invocation is over.</summary>
    protected void Done(CommandResponse response)
    {
        if (_finished) return;
        _finished = true;
        ReplyTo.Tell(response with { Final = true });
        Context.Stop(Self);
    }

    protected void Done(string? text = null) => Done(CommandResponse.Done(text));

    protected void Fail(string message) => Done(CommandResponse.Failure(message));

    private sealed record Start
    {
        public static readonly Start Instance = new();
    }
}

/// <summary>Thrown inside a handler to end the invocation with a failure message.</summary>
public sealed class CommandFailedException(string message) : Exception(message);
