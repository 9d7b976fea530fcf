using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Alignment;

/// <summary>
/// The evidence of one closed window, per stream, as the fusion sees it. Revision <see cref="RevisionBase"/> (0 unless
/// the session resumed) is the first emission; late evidence within the allowed lateness re-emits it with revision + 1.
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

    /// <summary>Where this incarnation's numbering of the window starts (<see cref="Aligner.ResumeRevisions"/>); 0 unless it resumed.</summary>
    public int RevisionBase { get; init; }

    /// <summary>The first emission of the window by this incarnation of the session.</summary>
    public bool IsFirstEmission => Revision == RevisionBase;
}
