using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>Drift in the fusion: the adaptive policy's discount of atypical evidence, and selective prediction.</summary>
public class DriftFusionSpec
{
    private static readonly SessionSpec Spec = Session(Stream("audio"), Stream("video")) with { Window = WindowSpec.Tumbling(Sec) };

    private static Evidence Drifted(string stream, double[] p, double drift) => Ev(stream, 0, Sec, p) with { Drift = drift };

    private static double C(double[] p) => 1 - -p.Sum(v => v * Math.Log(v)) / Math.Log(p.Length);

    [Theory]
    [InlineData(double.NaN, 1.0)]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 1.0)]
    [InlineData(4.5, 0.6065306597)] // exp(-(4.5 - 0.5) / 8)
    [InlineData(double.PositiveInfinity, 0.0)]
    public void The_adaptive_discount_is_one_up_to_its_onset_then_falls_exponentially(double drift, double factor) =>
        Assert.Equal(factor, DriftDiscount.Adaptive.Factor(drift), 9);

    [Fact]
    public void A_discount_never_raises_a_weight_and_falls_monotonically_with_drift()
    {
        var rng = new Random(1);
        for (var i = 0; i < 10_000; i++)
        {
            var d = new DriftDiscount(rng.NextDouble() * 3, 0.1 + rng.NextDouble() * 10);
            double a = rng.NextDouble() * 20, b = rng.NextDouble() * 20;
            var (lo, hi) = a < b ? (a, b) : (b, a);
            Assert.InRange(d.Factor(lo), 0, 1);
            Assert.True(d.Factor(hi) <= d.Factor(lo));
        }
        Assert.Equal(1, DriftDiscount.None.Factor(1e9));
    }

    [Fact]
    public void Adaptive_weighs_the_modality_whose_inputs_are_unlike_training_less_by_the_discount_of_its_mean_drift()
    {
        double[] pa = [0.7, 0.2, 0.1], pv = [0.1, 0.8, 0.1];
        // Two video inputs: their mean drift (2 and 8: 5) is the modality's; the audio's NaN is "not scored".
        var window = Window(0, Sec, 0, Drifted("audio", pa, double.NaN), Drifted("video", pv, 2), Ev("video", 0, Sec, pv) with { Drift = 8 });
        var r = new FusionEngine(Spec).Fuse("s", window, Healthy("audio", "video"));
        var wa = C(pa);
        var wv = C(pv) * DriftDiscount.Adaptive.Factor(5);
        Assert.Equal(wa / (wa + wv), r.Weights["audio"], 9);
        Assert.Equal(wv / (wa + wv), r.Weights["video"], 9);

        // The same evidence typical of training: the weights are the drift-free ones.
        var typical = Window(0, Sec, 0, Drifted("audio", pa, 0.2), Drifted("video", pv, 0.1), Drifted("video", pv, 0.3));
        var t = new FusionEngine(Spec).Fuse("s", typical, Healthy("audio", "video"));
        Assert.Equal(C(pa) / (C(pa) + C(pv)), t.Weights["audio"], 9);
        Assert.True(r.Weights["video"] < t.Weights["video"]);
    }

    [Fact]
    public void Fixed_and_single_policies_ignore_drift()
    {
        double[] pa = [0.7, 0.2, 0.1], pv = [0.1, 0.8, 0.1];
        foreach (var policy in new[] { FusionPolicy.Fixed, FusionPolicy.Single("video") })
        {
            var spec = Spec with { Policy = policy };
            var drifted = new FusionEngine(spec).Fuse("s", Window(0, Sec, 0, Drifted("audio", pa, 50), Drifted("video", pv, 50)), Healthy("audio", "video"));
            var typical = new FusionEngine(spec).Fuse("s", Window(0, Sec, 0, Drifted("audio", pa, 0), Drifted("video", pv, 0)), Healthy("audio", "video"));
            Assert.Equal(typical.Weights["audio"], drifted.Weights["audio"], 12);
            Assert.Equal(typical.Posterior, drifted.Posterior);
        }
    }

    [Fact]
    public void A_result_is_uncertain_exactly_when_its_confidence_is_below_the_spec_threshold()
    {
        double[] p = [0.55, 0.35, 0.1];
        var window = Window(0, Sec, 0, Ev("audio", 0, Sec, p));
        Assert.False(new FusionEngine(Spec).Fuse("s", window, Healthy("audio", "video")).Uncertain); // default 0: off
        var below = new FusionEngine(Spec with { UncertainBelow = 0.6 }).Fuse("s", window, Healthy("audio", "video"));
        Assert.Equal((FusedStatus.Fused, 0, true), (below.Status, below.TopClass, below.Uncertain)); // still decided
        Assert.False(new FusionEngine(Spec with { UncertainBelow = 0.5 }).Fuse("s", window, Healthy("audio", "video")).Uncertain);
        // No evidence: no decision, so nothing to be unsure of.
        var none = new FusionEngine(Spec with { UncertainBelow = 1 }).Fuse("s", Window(0, Sec, 0), Healthy("audio", "video"));
        Assert.Equal((FusedStatus.NoEvidence, false), (none.Status, none.Uncertain));
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void A_spec_with_an_uncertainty_threshold_outside_0_to_1_is_refused(double threshold) =>
        Assert.Contains(SpecValidator.Problems(Spec with { UncertainBelow = threshold }), p => p.Contains("uncertainBelow"));
}
