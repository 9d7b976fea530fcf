using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>watch SESSION [LIMIT]</c>: fused results, stream state changes and late evidence, live, until cancelled.</summary>
public sealed class WatchPalette(ConsoleContext context) : CommandPaletteHandler
{
    public override CommandPalette Palette { get; } = new("watch", "live fused results of a session (Ctrl+C to stop)",
    [
        new("", "stream fused results, stream state changes and late evidence until cancelled",
        [
            new("session", "session id"),
            new("limit", "stop after this many events; 0 = until cancelled", ArgumentType.Integer, Required: false, Default: "0"),
        ]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler : CommandHandlerActor
    {
        private readonly ConsoleContext _context;
        private readonly long _limit;
        private string? _sessionId;
        private long _events;

        public Handler(Command command, IActorRef replyTo, ConsoleContext context) : base(command, replyTo)
        {
            _context = context;
            _limit = command.Integer("limit");
            Receive<FusedResult>(r => Event(Line(r), new { kind = "result", result = SessionsPalette.Result(r) }));
            Receive<StreamStateChanged>(c => Event($"stream {c.StreamId} {c.From} -> {c.To}: {c.Reason}",
                new { kind = "state", c.StreamId, from = c.From, to = c.To, c.Reason }));
            Receive<LateEvidence>(l => Event($"late evidence of {l.StreamId} at {Seconds(l.StartUs)} (seq {l.LastSeq})",
                new { kind = "late", l.StreamId, l.StartUs, l.LastSeq, l.WindowEndUs, l.SessionWatermarkUs }));
            Receive<Subscribed>(_ => { });
            Receive<FramesCommitted>(_ => { }); // for clients that hold frames until commit, not for a watching operator
        }

        protected override async Task Execute()
        {
            var status = await OpenStatus(_context, Command.Arg("session"));
            _sessionId = status.SessionId;
            await _context.Sessions.Ask<Subscribed>(new Subscribe(status.SessionId, Self, _context.OperatorCredential), SessionQueries.Timeout);
            Write(new CommandResponse($"watching {status.SessionId} (policy {status.Fusion?.Policy}; " +
                                      $"{string.Join(" ", status.Streams.Select(s => $"{s.StreamId}:{s.State}"))})", Final: false)
            {
                Data = ToJson(new { kind = "subscribed", status.SessionId, policy = status.Fusion?.Policy, streams = status.Streams.Select(s => new { s.StreamId, s.State }) }),
            });
        }

        private void Event(string text, object data)
        {
            Write(new CommandResponse(text, Final: false) { Data = ToJson(data) });
            if (_limit > 0 && ++_events >= _limit) Done(new CommandResponse(null) { Data = ToJson(new { kind = "end", events = _events }) });
        }

        protected override void PostStop()
        {
            if (_sessionId is not null) _context.Sessions.Tell(new Unsubscribe(_sessionId, Self, _context.OperatorCredential));
        }

        private static string Line(FusedResult r) =>
            $"[{Seconds(r.WindowStartUs),10}] rev {r.Revision} {r.Status} {r.TopLabel ?? r.TopClass.ToString()} p={Number(r.Confidence)} " +
            $"w: {string.Join(" ", r.Weights.Select(kv => $"{kv.Key}={Number(kv.Value)}"))}  " +
            $"{string.Join(" ", r.States.Select(kv => $"{kv.Key}:{kv.Value}"))}" +
            (r.Missing.Count > 0 ? $" missing:{string.Join(",", r.Missing)}" : "") + $"  lag {Number(r.WatermarkLagUs / 1000.0, "0")} ms";
    }
}
