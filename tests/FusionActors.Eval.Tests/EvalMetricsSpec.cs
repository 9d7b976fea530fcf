using FusionActors.Eval;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Eval.Tests;

public sealed class EvalMetricsSpec
{
    private static FusedResult Result(int top, double confidence, FusedStatus status = FusedStatus.Fused, params string[] missing) =>
        new("s", 0, 1, 0, status, new double[10], top, top.ToString(), confidence, 0,
            new Dictionary<string, double> { ["audio"] = missing.Contains("audio") ? 0 : 0.5, ["image"] = missing.Contains("image") ? 0 : 0.5 },
            missing, [], [], new Dictionary<string, StreamState>(), 0, "adaptive");

    [Fact]
    public void A_window_without_a_fused_result_must_count_as_wrong_and_not_covered()
    {
        var m = EvalMetrics.Score([Result(1, 0.9), null, Result(-1, 0.1, FusedStatus.NoEvidence), Result(2, 0.8)], [1, 1, 2, 3]);
        Assert.Equal(0.25, m.Accuracy);
        Assert.Equal(0.5, m.Coverage);
        // ECE over the two fused windows: bin of 0.9 (correct) |0.9-1| and bin of 0.8 (wrong) |0.8-0|, each half.
        Assert.Equal(0.45, m.Ece!.Value, 4);
    }

    [Fact]
    public void Macro_F1_must_average_over_the_classes_seen()
    {
        // class 0: tp 1 fn 1 -> 2/3; class 1: tp 1 fp 1 -> 2/3
        Assert.Equal(2.0 / 3, EvalMetrics.MacroF1([0, 1, 1], [0, 0, 1], 10), 6);
        Assert.Equal(1.0, EvalMetrics.MacroF1([3, 4], [3, 4], 10));
    }

    [Fact]
    public void The_availability_pattern_must_follow_the_missing_modalities()
    {
        Assert.Equal(EvalMetrics.Both, EvalMetrics.PatternOf(Result(1, 0.9)));
        Assert.Equal(EvalMetrics.AudioOnly, EvalMetrics.PatternOf(Result(1, 0.9, FusedStatus.Fused, "image")));
        Assert.Equal(EvalMetrics.ImageOnly, EvalMetrics.PatternOf(Result(1, 0.9, FusedStatus.Fused, "audio")));
        Assert.Null(EvalMetrics.PatternOf(Result(-1, 0.1, FusedStatus.NoEvidence, "audio", "image")));
    }
}
