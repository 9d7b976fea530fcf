using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Fusion;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The fusion actor counts a window that misses a modality once, however its revisions are numbered.</summary>
public sealed class MissingModalityCountSpec() : TestKit(LocalConfig)
{
    private const long Sec = 1_000_000;

    private static readonly IReadOnlyDictionary<string, StreamSnapshot> Healthy = new Dictionary<string, StreamSnapshot>
    {
        [Audio] = new(StreamState.Active, 1.0),
        [Camera] = new(StreamState.Active, 1.0),
    };

    private static Evidence Audio3(long startUs)
    {
        var logp = Enumerable.Range(0, Labels.Length).Select(k => Math.Log(k == 3 ? 0.7 : 0.3 / (Labels.Length - 1))).ToArray();
        return new Evidence(Audio, "audio", startUs, startUs + 100_000, [], logp, 1.0, 0);
    }

    private static FusionActor.FuseWindow AudioOnly(long startUs, int revision, int revisionBase) =>
        new(new AlignedWindow(startUs, startUs + Sec, revision, new Dictionary<string, IReadOnlyList<Evidence>>
        {
            [Audio] = [Audio3(startUs)],
            [Camera] = [],
        }, startUs + Sec, 0) { RevisionBase = revisionBase }, Healthy);

    [Theory]
    [InlineData(0)]     // a session's first incarnation
    [InlineData(8192)]  // an incarnation resumed after two opens: its revisions start at 2 · 4096
    public void Each_window_missing_a_modality_counts_once_over_its_revisions(int revisionBase)
    {
        var fusion = Sys.ActorOf(FusionActor.Props(Spec("missing-" + revisionBase)));
        for (var w = 0; w < 3; w++)
            for (var r = 0; r < 3; r++)
                fusion.Tell(AudioOnly(w * Sec, revisionBase + r, revisionBase), TestActor);
        fusion.Tell(FusionActor.GetStatus.Instance, TestActor);
        var status = ExpectMsg<FusionStatus>(TimeSpan.FromSeconds(15));
        Assert.Equal((9L, 3L), (status.Results, status.WindowsWithMissingModality));
    }

    [Fact]
    public void A_resumed_aligner_marks_where_its_numbering_of_a_window_starts()
    {
        var aligner = new Aligner(Spec("base"));
        aligner.ResumeRevisions(null, 2);
        aligner.OnEvidence(Audio3(0));
        aligner.SetStreamWatermark(Audio, Sec - 1);
        aligner.SetStreamWatermark(Camera, Sec - 1);
        var first = Assert.Single(aligner.Advance(null).Windows);
        Assert.Equal((2 * Aligner.RevisionsPerGeneration, true), (first.RevisionBase, first.IsFirstEmission));
    }
}
