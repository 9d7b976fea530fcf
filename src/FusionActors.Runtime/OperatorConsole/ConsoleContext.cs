using Akka.Actor;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>What the palettes of a node act on: its actor system, the session region and its metric totals.</summary>
/// <param name="OperatorCredential">
/// What the palettes' session commands carry, so that a session on another node takes them (see <see cref="Actors.OperatorCredential"/>).
/// </param>
public sealed record ConsoleContext(ActorSystem System, IActorRef Sessions, MetricTotals Metrics, string OperatorCredential);
