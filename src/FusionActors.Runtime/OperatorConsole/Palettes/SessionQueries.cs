using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary>What several palettes ask of sessions, with the refusals turned into operator-readable failures.</summary>
internal static class SessionQueries
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Status of an open session; a session that is not open is a failure of the command.</summary>
    public static Task<SessionStatus> OpenStatus(ConsoleContext context, string sessionId) =>
        OpenStatus(context.Sessions, context.OperatorCredential, sessionId);

    /// <summary>Status of an open session, asked with the operator credential; a session that is not open is a <see cref="CommandFailedException"/>.</summary>
    public static async Task<SessionStatus> OpenStatus(IActorRef sessions, string operatorCredential, string sessionId)
    {
        var status = await sessions.Ask<SessionStatus>(new GetSessionStatus(sessionId, operatorCredential), Timeout);
        if (!status.Open) throw new CommandFailedException($"session '{sessionId}' is not open");
        return status;
    }

    /// <summary>
    /// The open sessions of the cluster (what <c>sessions list</c> shows): the <see cref="Entities"/> of every member,
    /// at most <paramref name="max"/> of them by id (those after <paramref name="after"/>, for a page after the last one
    /// shown), each asked for its status; those not open are left out.
    /// </summary>
    public static async Task<(IReadOnlyList<(string Node, SessionStatus Status)> Open, IReadOnlyList<string> Unanswered, bool Truncated)> OpenSessions(
        ActorSystem system, IActorRef sessions, string operatorCredential, int max = int.MaxValue, string? after = null)
    {
        var (all, unanswered) = await Entities(system, sessions);
        var entities = after is null ? all : all.Where(e => string.CompareOrdinal(e.SessionId, after) > 0).ToArray();
        var asked = entities.Take(max);
        var statuses = await Task.WhenAll(asked.Select(async e =>
            (e.Node, Status: await sessions.Ask<SessionStatus>(new GetSessionStatus(e.SessionId, operatorCredential), Timeout))));
        return (statuses.Where(s => s.Status.Open).ToArray(), unanswered, entities.Count > max);
    }

    public static StreamStatus Stream(SessionStatus status, string streamId) =>
        status.Streams.FirstOrDefault(s => s.StreamId == streamId)
        ?? throw new CommandFailedException(
            $"session '{status.SessionId}' has no stream '{streamId}'; its streams: {string.Join(", ", status.Streams.Select(s => s.StreamId))}");

    /// <summary>Sends a session command and returns the session's acknowledgement text; refusals become failures.</summary>
    public static async Task<string> Send(IActorRef sessions, IWithSessionId command)
    {
        var reply = await sessions.Ask<object>(command, Timeout);
        return reply switch
        {
            Status.Success s => s.Status?.ToString() ?? "ok",
            SessionClosed c => $"session {c.SessionId} closed",
            CommandRejected r => throw new CommandFailedException($"refused: {r.Reason}"),
            FrameRejected f => throw new CommandFailedException($"refused: {f.Detail}"),
            Status.Failure f => throw new CommandFailedException($"failed: {f.Cause.Message}"),
            _ => reply.ToString() ?? "ok",
        };
    }

    public sealed record SessionLocation(string SessionId, string Node);

    /// <summary>
    /// Session entities of every member's session region (GetShardRegionState, cluster-wide), so no registry
    /// has to be kept in step with the sessions. Entities that exist but were never opened are filtered by the caller.
    /// </summary>
    public static async Task<(IReadOnlyList<SessionLocation> Sessions, IReadOnlyList<string> Unanswered)> Entities(ActorSystem system, IActorRef sessions)
    {
        var cluster = Cluster.Get(system);
        var path = sessions.Path.ToStringWithoutAddress();
        var members = cluster.State.Members.Where(m => m.Status == MemberStatus.Up || m.Status == MemberStatus.Leaving).ToList();
        var asks = members.Select(async m =>
        {
            try
            {
                var state = await system.ActorSelection(m.Address + path).Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Timeout);
                return (m.Address.ToString(), state.Shards.SelectMany(s => s.EntityIds).ToArray(), true);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException)
            {
                return (m.Address.ToString(), Array.Empty<string>(), false);
            }
        });
        var answers = await Task.WhenAll(asks);
        var found = answers.SelectMany(a => a.Item2.Select(id => new SessionLocation(id, a.Item1))).OrderBy(s => s.SessionId, StringComparer.Ordinal).ToArray();
        return (found, answers.Where(a => !a.Item3).Select(a => a.Item1).ToArray());
    }

    public static string Seconds(long us) =>
        us == EventTime.MinusInfinity ? "-inf" : us == EventTime.PlusInfinity ? "+inf" : (us / 1e6).ToString("0.000", CultureInfo.InvariantCulture) + " s";

    public static string Number(double d, string format = "0.00") => d.ToString(format, CultureInfo.InvariantCulture);

    public static JsonNode? ToJson(object value) => JsonSerializer.SerializeToNode(value, ConsoleFrame.Json);

    public static ConsoleTable Table(string? title, string[] columns, IEnumerable<string[]> rows) => new(title, columns, rows.ToArray());
}
