using FusionActors.Core.Streams;

namespace FusionActors.Core.Alignment.Windows;

/// <summary>
/// One kind of event-time window: which windows a piece of evidence belongs to, when the watermark closes them,
/// and how long their evidence must be kept. The <see cref="Aligner"/> owns the buffers and the watermark
/// (<see cref="EvidenceBuffers"/>) and delegates every decision that depends on the window kind to one of these,
/// made by <see cref="WindowAssigners"/> from the session's <see cref="Protocol.Specs.WindowSpec"/>.
/// </summary>
/// <remarks>
/// A closed window stays open to revision while the allowed lateness lasts: it is kept in
/// <see cref="EvidenceBuffers.Retained"/> under its key (its start, or its anchor's time) with its revision.
/// </remarks>
public interface IWindowAssigner
{
    /// <summary>
    /// Evidence of a stream (its <paramref name="buffer"/>): stored when a window to come or a retained one can use
    /// it, with the retained windows it changes revised; otherwise counted late and handed to the side output.
    /// </summary>
    AlignmentOutput OnEvidence(Evidence e, SortedList<long, Evidence> buffer);

    /// <summary>Closes, in order, every window the session watermark <paramref name="watermarkUs"/> has passed; null when none.</summary>
    List<AlignedWindow>? Close(long watermarkUs);

    /// <summary>Event time before which every piece of evidence has been fused in all the windows it belongs to.</summary>
    long CommittedThroughUs { get; }

    /// <summary>Windows an earlier incarnation fused, before <paramref name="atUs"/>, are not closed again.</summary>
    void ResumeAt(long atUs);

    /// <summary>The last event time the retained window <paramref name="key"/> covers: it expires once the watermark is the allowed lateness past it.</summary>
    long LastTimeOf(long key);

    /// <summary>Event time before which no window to come, pending or retained can use evidence (<see cref="FusionActors.Core.Time.EventTime.MinusInfinity"/>: keep all).</summary>
    long KeepFrom(long watermarkUs);

    /// <summary>Empty windows a single watermark step passed over without reporting them.</summary>
    long SkippedCount { get; }

    /// <summary>The event-time step windows close by (hop, or anchor tolerance): paces processing-time watermark ticks.</summary>
    long StepUs { get; }

    /// <summary>The last <see cref="Close"/> stopped at its budget with windows still to emit: the caller closes again.</summary>
    bool MorePending => false;
}
