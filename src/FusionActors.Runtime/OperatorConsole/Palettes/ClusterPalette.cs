using Akka.Actor;
using Akka.Cluster;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>cluster show|leave ADDR|down ADDR</c>, as this node sees the cluster.</summary>
public sealed class ClusterPalette(ConsoleContext context) : CommandPaletteHandler
{
    private static readonly CommandArgument Address = new("address", "member address, e.g. akka.tcp://fusion@10.0.0.5:4053");

    public override CommandPalette Palette { get; } = new("cluster", "members of the cluster as this node sees them",
    [
        new("show", "members, status, roles, leader, unreachable", []),
        new("leave", "ask a member to leave gracefully (its sessions move when it is gone)", [Address]),
        new("down", "mark an unreachable member down (split brain resolver does this after stable-after)", [Address]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override Task Execute()
        {
            var cluster = Cluster.Get(context.System);
            var state = cluster.State;
            if (Command.Name == "show")
            {
                var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
                var rows = state.Members.Select(m => new[]
                {
                    m.Address.ToString(), m.Status.ToString(), string.Join(",", m.Roles),
                    unreachable.Contains(m.Address) ? "unreachable" : "reachable",
                    (m.Address.Equals(state.Leader) ? "leader " : "") + (m.Address.Equals(cluster.SelfAddress) ? "self" : ""),
                });
                Done(new CommandResponse($"{state.Members.Count} member(s), leader {state.Leader?.ToString() ?? "none"}, unreachable {unreachable.Count}")
                {
                    Table = Table("members", ["address", "status", "roles", "reachability", ""], rows),
                    Data = ToJson(new
                    {
                        self = cluster.SelfAddress.ToString(), leader = state.Leader?.ToString(),
                        members = state.Members.Select(m => new { address = m.Address.ToString(), status = m.Status.ToString(), roles = m.Roles, unreachable = unreachable.Contains(m.Address) }),
                    }),
                });
                return Task.CompletedTask;
            }
            Address address;
            try { address = Akka.Actor.Address.Parse(Command.Arg("address")); }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                throw new CommandFailedException($"'{Command.Arg("address")}' is not an address like akka.tcp://fusion@host:port");
            }
            if (state.Members.All(m => !m.Address.Equals(address)))
                throw new CommandFailedException($"{address} is not a member; members: {string.Join(", ", state.Members.Select(m => m.Address))}");
            if (Command.Name == "leave") cluster.Leave(address);
            else cluster.Down(address);
            Done($"{address}: {(Command.Name == "leave" ? "asked to leave" : "marked down")}");
            return Task.CompletedTask;
        }
    }
}
