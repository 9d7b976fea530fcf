using Akka.Actor;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary><c>metrics</c>: totals of the node's FusionActors instruments since it started.</summary>
public sealed class MetricsPalette(ConsoleContext context) : CommandPaletteHandler
{
    public override CommandPalette Palette { get; } = new("metrics", "node counters (the instruments of Meter FusionActors)",
    [
        new("", "counter sums, histogram count/mean/max and gauge values since the node started", []),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, context));

    private sealed class Handler(Command command, IActorRef replyTo, ConsoleContext context) : CommandHandlerActor(command, replyTo)
    {
        protected override Task Execute()
        {
            var rows = context.Metrics.Snapshot();
            Done(new CommandResponse(rows.Count == 0 ? "nothing recorded yet" : null)
            {
                Table = rows.Count == 0 ? null : Table("metrics since the node started", ["instrument", "tags", "kind", "value (sum, mean or last)", "samples", "max", "unit"],
                    rows.Select(r => new[]
                    {
                        r.Instrument, r.Tags, r.Kind, Number(r.Value, r.Kind == "histogram" || r.Kind == "gauge" ? "0.###" : "0"),
                        r.Kind is "histogram" or "gauge" ? r.Count.ToString() : "", r.Kind == "histogram" ? Number(r.Max, "0.###") : "", r.Unit ?? "",
                    })),
                Data = ToJson(rows),
            });
            return Task.CompletedTask;
        }
    }
}
