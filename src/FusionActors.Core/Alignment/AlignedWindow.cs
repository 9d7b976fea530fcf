using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Alignment;

/// <summary>
/// The evidence of one closed window, per stream, as the fusion sees it. Revision 0 is the first
/// emission; late evidence within the allowed lateness re-emits it with revision + 1.
/// </summary>
public sealed record AlignedWindow(
    long StartUs,
    long EndUs,
    int Revision,
    IReadOnlyDictionary<string, IReadOnlyList<Evidence>> Evidence,
    long WatermarkUs,
    long WatermarkLagUs)
{
    public bool IsEmpty => Evidence.Values.All(e => e.Count == 0);
}
