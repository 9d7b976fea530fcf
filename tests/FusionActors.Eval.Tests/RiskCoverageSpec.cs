using FusionActors.Eval;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Eval.Tests;

/// <summary>The risk–coverage curve of selective prediction, and the repository-relative paths of the reports.</summary>
public sealed class RiskCoverageSpec
{
    private static FusedResult Result(int top, double confidence, FusedStatus status = FusedStatus.Fused) =>
        new("s", 0, 1, 0, status, new double[10], top, top.ToString(), confidence, 0, new Dictionary<string, double>(),
            [], [], [], new Dictionary<string, StreamState>(), 0, "adaptive");

    [Fact]
    public void The_curve_keeps_the_most_confident_windows_first_and_counts_undecided_windows_as_last_errors()
    {
        // 10 windows: confidences 1.0 … 0.1 by index; the wrong ones are the 3rd most confident and the 9th; the last has no decision.
        var windows = new FusedResult?[10];
        var labels = new int[10];
        for (var i = 0; i < 9; i++) windows[i] = Result(i == 2 || i == 8 ? 5 : 1, 1.0 - i * 0.1);
        windows[9] = Result(-1, 0, FusedStatus.NoEvidence);
        Array.Fill(labels, 1);
        var curve = EvalMetrics.RiskCoverage(windows, labels, out var aurc);
        Assert.Equal(10, curve.Count);
        Assert.Equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], curve.Select(p => p.Coverage));
        Assert.Equal(0.0, curve[1].Risk);                 // the two most confident are right
        Assert.Equal(Math.Round(1 / 3.0, 4), curve[2].Risk);
        Assert.Equal(Math.Round(2 / 9.0, 4), curve[8].Risk);
        Assert.Equal(0.3, curve[9].Risk);                 // 2 wrong + 1 undecided of 10
        Assert.Equal(0.8, curve[2].Threshold, 9);         // keeping 30 % means deciding above confidence 0.8
        var expected = Enumerable.Range(1, 10).Select(k => (k >= 3 ? 1 : 0) + (k >= 9 ? 1 : 0) + (k >= 10 ? 1 : 0)).Select((e, i) => e / (double)(i + 1)).Average();
        Assert.Equal(expected, aurc, 12);
        // At full coverage the risk is the condition's error rate.
        Assert.Equal(1 - EvalMetrics.Score(windows, labels).Accuracy, curve[^1].Risk, 4);
    }

    [Fact]
    public void A_perfectly_ranked_policy_has_a_lower_area_than_one_that_is_confidently_wrong()
    {
        var labels = Enumerable.Repeat(0, 20).ToArray();
        var ranked = Enumerable.Range(0, 20).Select(i => (FusedResult?)Result(i < 15 ? 0 : 1, 1 - i * 0.01)).ToArray();
        var inverted = Enumerable.Range(0, 20).Select(i => (FusedResult?)Result(i < 15 ? 0 : 1, 0.5 + i * 0.01)).ToArray();
        Assert.True(EvalMetrics.Score(ranked, labels).Aurc < EvalMetrics.Score(inverted, labels).Aurc);
        Assert.Equal(EvalMetrics.Score(ranked, labels).Accuracy, EvalMetrics.Score(inverted, labels).Accuracy);
    }

    [Fact]
    public void Report_paths_inside_the_repository_are_relative_and_others_are_kept()
    {
        var root = Path.Combine(Path.GetTempPath(), "repo-" + Guid.NewGuid().ToString("N"));
        Assert.Equal("data/avdigits-ood/accent-strokes", EvalHarness.RepositoryRelative(Path.Combine(root, "data", "avdigits-ood", "accent-strokes"), root));
        Assert.Equal("samples/avdigits", EvalHarness.RepositoryRelative(Path.Combine(root, "samples", "avdigits") + Path.DirectorySeparatorChar, root));
        var outside = Path.Combine(Path.GetTempPath(), "elsewhere", "set");
        Assert.Equal(outside, EvalHarness.RepositoryRelative(outside, root));
        // From the test's own checkout: the committed sample is reported as samples/avdigits, never as /work/... .
        Assert.Equal("samples/avdigits", EvalHarness.RepositoryRelative(FusionActors.Inference.Data.AvDigitsDataset.FindSample()));
    }
}
