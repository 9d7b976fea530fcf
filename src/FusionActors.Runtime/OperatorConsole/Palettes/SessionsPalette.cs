using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>sessions list|show ID|kill ID|record ID on|off</c>.</summary>
public sealed class SessionsPalette(ConsoleContext context) : CommandPaletteHandler
{
    private static readonly CommandArgument Id = new("id", "session id");

    /// <summary>Sessions a page of <c>sessions list</c> shows by default, and at most: a node holds 100,000 (each asked for its status).</summary>
    private const int DefaultPage = 200, MaxPage = 5_000;

    public override CommandPalette Palette { get; } = new("sessions", "open sessions of the cluster",
    [
        new("list", "open sessions by id, a page at a time: node, streams and their states, policy, results",
        [
            new("limit", $"sessions on the page, at most {MaxPage}", ArgumentType.Integer, Required: false, Default: DefaultPage.ToString()),
            new("after", "the page after this session id (the last one of the page before)", Required: false),
        ]),
        new("show", "one session: its streams, alignment and fusion", [Id]),
        new("kill", "close a session (its actors stop; subscribers get nothing more)", [Id]),
        new("record", "turn a session's recording on (a new file from now on) or off; the node needs Fusion:Recording:Directory",
            [Id, new("state", "on or off", ArgumentType.Choice, Choices: ["on", "off"])]),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override async Task Execute()
        {
            switch (Command.Name)
            {
                case "list": await List(); break;
                case "show": await Show(Command.Arg("id")); break;
                case "kill": Done(await Send(context.Sessions, new CloseSession((await OpenStatus(context, Command.Arg("id"))).SessionId, context.OperatorCredential))); break;
                case "record":
                    var on = Command.Arg("state") == "on";
                    var id = (await OpenStatus(context, Command.Arg("id"))).SessionId;
                    Done(new CommandResponse(await Send(context.Sessions, new SetRecording(id, on, context.OperatorCredential)))
                    {
                        Data = ToJson(new { sessionId = id, recording = on }),
                    });
                    break;
            }
        }

        private async Task List()
        {
            var limit = (int)Math.Clamp(Command.Integer("limit"), 1, MaxPage);
            var after = Command.Optional("after");
            var (open, unanswered, more) = await OpenSessions(context.System, context.Sessions, context.OperatorCredential, limit, after);
            var rows = open.Select(s => new[]
            {
                s.Status.SessionId, s.Node,
                string.Join(" ", s.Status.Streams.Select(t => $"{t.StreamId}:{t.State}")),
                s.Status.Fusion?.Policy ?? "", (s.Status.Fusion?.Results ?? 0).ToString(), Seconds(s.Status.Alignment?.WatermarkUs ?? 0),
            });
            var data = open.Select(s => new
            {
                sessionId = s.Status.SessionId, node = s.Node,
                streams = s.Status.Streams.Select(t => new { t.StreamId, t.Modality, t.State }),
                policy = s.Status.Fusion?.Policy, results = s.Status.Fusion?.Results ?? 0, watermarkUs = s.Status.Alignment?.WatermarkUs,
            }).ToArray();
            var note = unanswered.Count > 0 ? $"members that did not answer: {string.Join(", ", unanswered)}" : null;
            if (more && open.Count > 0) note = (note is null ? "" : note + "; ") + $"more sessions: sessions list {limit} {open[^1].Status.SessionId}";
            Done(new CommandResponse(open.Count == 0 ? note ?? "no open sessions" : note)
            {
                Table = open.Count == 0 ? null : Table($"{open.Count} open session(s)", ["session", "node", "streams", "policy", "results", "watermark"], rows),
                Data = ToJson(data),
            });
        }

        private async Task Show(string id)
        {
            var s = await OpenStatus(context, id);
            Done(new CommandResponse(Summary(s)) { Table = StreamsTable(s), Data = ToJson(Describe(s)) });
        }
    }

    internal static string Summary(SessionStatus s)
    {
        var a = s.Alignment;
        var f = s.Fusion;
        return $"session {s.SessionId}: policy {f?.Policy}, results {f?.Results} (no evidence {f?.NoEvidence}, missing a modality {f?.WindowsWithMissingModality}), " +
               $"watermark {Seconds(a?.WatermarkUs ?? 0)}, windows closed {a?.WindowsClosed}, revisions {a?.Revisions}, late evidence {a?.LateEvidence}, " +
               $"buffered {a?.BufferedEvidence}" + (a is { Shed.Count: > 0 } ? $", shed {string.Join(" ", a.Shed.Select(kv => $"{kv.Key}={kv.Value}"))}" : "") +
               (a is { CommittedThroughUs: > long.MinValue } ? $", committed through {(a.CommittedThroughUs == long.MaxValue ? "the end" : Seconds(a.CommittedThroughUs))}" : "") +
               (OverBudget(s) is > 0 and var shed ? $", shed over the latency budget {shed}" : "") +
               (s.Client is { } c ? $", client {c}" : "");
    }

    /// <summary>Frames and inputs the session's streams shed for time (latency-constrained delivery).</summary>
    internal static long OverBudget(SessionStatus s)
    {
        long n = 0;
        foreach (var t in s.Streams) n += t.Counters.FramesShedOverBudget + t.Counters.InputsShedOverBudget;
        return n;
    }

    internal static ConsoleTable StreamsTable(SessionStatus s) => Table($"streams of {s.SessionId}",
        ["stream", "modality", "state", "reliability", "watermark", "pending", "in", "accepted", "rejected", "late", "too late", "shed", "over budget", "restarts", "quarantined", "encode ms/batch", "repeat hits", "input drift"],
        s.Streams.Select(t => new[]
        {
            t.StreamId, t.Modality, t.State.ToString(), Number(t.Reliability), Seconds(t.WatermarkUs), t.PendingInputs.ToString(),
            t.Counters.FramesIn.ToString(), t.Counters.FramesAccepted.ToString(),
            t.Counters.RejectedTotal == 0 ? "0" : $"{t.Counters.RejectedTotal} ({string.Join(" ", t.Counters.Rejected.Select(kv => $"{kv.Key}={kv.Value}"))})",
            t.Counters.FramesLate.ToString(), t.Counters.FramesTooLate.ToString(), t.Counters.InputsShed.ToString(),
            OverBudgetCell(t.Counters),
            t.Counters.EncoderRestarts.ToString(), t.Counters.Quarantined.ToString(),
            t.Counters.Batches == 0 ? "-" : Number(t.Counters.EncodeMillisTotal / t.Counters.Batches),
            RepeatCell(t.Counters),
            DriftCell(t.Drift),
        }));

    /// <summary>Inputs served by the stream's repeat cache and the hit rate: "90 (75 %)"; "-" when the cache looked nothing up.</summary>
    internal static string RepeatCell(StreamCounters c) =>
        c.CacheHits + c.CacheMisses == 0 ? "-" : $"{c.CacheHits} ({100.0 * c.CacheHits / (c.CacheHits + c.CacheMisses):0.#} %)";

    /// <summary>Frames and inputs a latency-constrained session shed for time: "12 (frames 10, inputs 2)", "0".</summary>
    internal static string OverBudgetCell(StreamCounters c) =>
        c.FramesShedOverBudget + c.InputsShedOverBudget == 0 ? "0"
            : $"{c.FramesShedOverBudget + c.InputsShedOverBudget} (frames {c.FramesShedOverBudget}, inputs {c.InputsShedOverBudget})";

    /// <summary>"0.42 of 50 (last 0.31)", "1.73 of 50 ALERT > 1 (alerts 2)"; "-" when the stream's inputs are not scored.</summary>
    internal static string DriftCell(StreamDrift? d) => d switch
    {
        null => "-",
        { Window: 0 } => "no input yet",
        _ => $"{Number(d.Mean)} of {d.Window} (last {Number(d.Last)})" + (d.Alerting ? $" ALERT > {Number(d.Threshold)}" : "") +
             (d.Alerts > 0 ? $" (alerts {d.Alerts})" : ""),
    };

    /// <summary>The status for --json, without the recent results' embeddings and posteriors.</summary>
    internal static object Describe(SessionStatus s) => new
    {
        s.SessionId, s.Open, s.Client,
        streams = s.Streams.Select(t => new { t.StreamId, t.Modality, t.State, t.Reliability, t.WatermarkUs, t.CompleteThroughUs, t.PendingInputs, t.Counters, drift = DriftJson(t.Drift) }),
        s.Alignment,
        fusion = s.Fusion is { } f ? new { f.Policy, f.Results, f.NoEvidence, f.WindowsWithMissingModality, latest = f.Recent.Count > 0 ? Result(f.Recent[^1]) : null } : null,
    };

    /// <summary>A stream's drift for --json: JSON has no NaN, so "not yet scored" is null.</summary>
    internal static object? DriftJson(StreamDrift? d) => d is null ? null : new
    {
        last = double.IsNaN(d.Last) ? (double?)null : d.Last,
        mean = double.IsNaN(d.Mean) ? (double?)null : d.Mean,
        d.Window, d.Threshold, d.Alerting, d.Alerts, d.Scored,
    };

    internal static object Result(FusedResult r) => new
    {
        r.WindowStartUs, r.WindowEndUs, r.Revision, r.Status, r.TopClass, r.TopLabel, r.Confidence, r.Entropy, r.Weights, r.Missing, r.Imputed,
        r.States, r.WatermarkLagUs, r.Policy, r.Uncertain,
    };
}
