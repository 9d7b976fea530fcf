using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Fusion;

/// <summary>What the fusion knows of a stream's health when it decides a window.</summary>
/// <param name="Reliability">The stream's reliability now (0 while Restarting or Failed).</param>
/// <param name="EvidenceReliability">
/// The reliability the stream had when it last delivered evidence. Evidence that was encoded before an
/// encoder crash is still good: it is weighed with this, not with the 0 of the Restarting stream.
/// Null = <see cref="Reliability"/>.
/// </param>
public readonly record struct StreamSnapshot(StreamState State, double Reliability, double? EvidenceReliability = null)
{
    public double ReliabilityOfEvidence => EvidenceReliability ?? Reliability;
}
