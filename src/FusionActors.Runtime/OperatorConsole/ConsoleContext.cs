using Akka.Actor;
using FusionActors.Metrics;

namespace FusionActors.OperatorConsole;

/// <summary>What the palettes of a node act on: its actor system, the session region and its metric totals.</summary>
public sealed record ConsoleContext(ActorSystem System, IActorRef Sessions, MetricTotals Metrics);
