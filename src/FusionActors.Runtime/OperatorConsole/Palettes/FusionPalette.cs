using Akka.Actor;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>fusion weights SESSION</c>, <c>fusion policy SESSION POLICY</c> (any of <see cref="WeightingPolicies.All"/>).</summary>
public sealed class FusionPalette(ConsoleContext context) : CommandPaletteHandler
{
    private static readonly CommandArgument Session = new("session", "session id");

    public override CommandPalette Palette { get; } = new("fusion", "weights and policy of a session's fusion",
    [
        new("weights", "weights of the latest fused result per modality, with the stream states", [Session]),
        new("policy", "change the fusion policy of a running session",
            [Session, new("policy", WeightingPolicies.Usage, ArgumentType.Choice, Choices: [.. WeightingPolicies.Completions])]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override async Task Execute()
        {
            var status = await OpenStatus(context, Command.Arg("session"));
            if (Command.Name == "policy")
            {
                var policy = WeightingPolicies.Parse(Command.Arg("policy"));
                await Send(context.Sessions, new SetFusionPolicy(status.SessionId, policy, context.OperatorCredential));
                Done(new CommandResponse($"session {status.SessionId}: policy {status.Fusion?.Policy} -> {policy}")
                {
                    Data = ToJson(new { status.SessionId, from = status.Fusion?.Policy, to = policy.ToString() }),
                });
                return;
            }
            var latest = status.Fusion?.Recent.LastOrDefault(r => r.Revision == 0) ?? status.Fusion?.Recent.LastOrDefault();
            var rows = status.Streams.Select(s => new[]
            {
                s.Modality, s.StreamId, s.State.ToString(), Number(s.Reliability),
                latest is not null && latest.Weights.TryGetValue(s.Modality, out var w) ? Number(w) : "-",
                latest is null ? "-" : latest.Missing.Contains(s.Modality) ? "missing" : latest.Imputed.Contains(s.Modality) ? "imputed" : "present",
            });
            var text = latest is null
                ? $"session {status.SessionId}: policy {status.Fusion?.Policy}, no fused result yet"
                : $"session {status.SessionId}: policy {latest.Policy}, window {Seconds(latest.WindowStartUs)} rev {latest.Revision}: " +
                  $"{latest.TopLabel ?? latest.TopClass.ToString()} p={Number(latest.Confidence)} ({latest.Status})";
            Done(new CommandResponse(text)
            {
                Table = Table("weights", ["modality", "stream", "state", "reliability", "weight", "in window"], rows),
                Data = ToJson(new
                {
                    status.SessionId, policy = status.Fusion?.Policy,
                    streams = status.Streams.Select(s => new { s.StreamId, s.Modality, s.State, s.Reliability }),
                    latest = latest is null ? null : SessionsPalette.Result(latest),
                }),
            });
        }
    }
}
