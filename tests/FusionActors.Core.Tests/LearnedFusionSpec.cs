using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>Per-pattern calibration of the fused posterior, the learned policy's features and its guard rails.</summary>
public class LearnedFusionSpec
{
    private static FusionCalibration Cal(string policy, params (string Pattern, double T)[] entries) =>
        new(new Dictionary<string, IReadOnlyDictionary<string, double>> { [policy] = entries.ToDictionary(e => e.Pattern, e => e.T) });

    [Theory]
    [InlineData("adaptive", "audio+video", double.NaN)]
    [InlineData("adaptive", "audio+video", double.PositiveInfinity)]
    [InlineData("adaptive", "audio+video", 0.0)]
    [InlineData("adaptive", "audio+video", -1.0)]
    [InlineData("adaptive", "audio+video", 0.01)]
    [InlineData("adaptive", "audio+video", 1e6)]
    [InlineData("adaptive", "video+audio", 1.0)] // not sorted: two spellings of one pattern would be ambiguous
    [InlineData("adaptive", "audio++video", 1.0)]
    [InlineData("adaptive", "", 1.0)]
    [InlineData("adaptive", "au dio", 1.0)]
    [InlineData("mean", "audio", 1.0)]
    [InlineData("", "audio", 1.0)]
    public void A_hostile_calibration_is_refused_naming_what_is_wrong(string policy, string pattern, double t)
    {
        var e = Assert.Throws<ArgumentException>(() => Cal(policy, (pattern, t)));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void A_calibration_is_bounded_in_size()
    {
        var many = Enumerable.Range(0, FusionCalibration.MaxEntries + 1).Select(i => ($"m{i:D4}", 1.0)).ToArray();
        Assert.Throws<ArgumentException>(() => Cal("adaptive", many));
    }

    [Fact]
    public void A_pattern_falls_back_to_the_policys_any_entry_then_to_one()
    {
        var cal = Cal("adaptive", ("audio+video", 2.0), ("*", 1.5));
        Assert.Equal(2.0, cal.TemperatureFor(FusionPolicy.Adaptive, "audio+video"));
        Assert.Equal(1.5, cal.TemperatureFor(FusionPolicy.Adaptive, "audio"));
        Assert.Equal(1.0, cal.TemperatureFor(FusionPolicy.Fixed, "audio+video"));
        Assert.Equal(1.0, cal.TemperatureFor(FusionPolicy.Single("audio"), "audio"));
        Assert.Equal("audio+imu+video", FusionCalibration.PatternOf(["video", "audio", "imu"]));
    }

    [Fact]
    public void The_engine_scales_the_fused_posterior_by_the_temperature_of_the_windows_pattern()
    {
        var spec = AudioVideo();
        var models = new FusionModels(Cal("adaptive", ("audio+video", 2.0), ("audio", 0.5)), null);
        var calibrated = new FusionEngine(spec, models: models);
        var plain = new FusionEngine(spec);
        double[] pa = [0.6, 0.3, 0.1], pv = [0.5, 0.4, 0.1];

        var both = Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, pv));
        var rBoth = calibrated.Fuse("s1", both, Healthy("audio", "video"));
        var uBoth = plain.Fuse("s1", both, Healthy("audio", "video"));
        var expected = Softmax(uBoth.Posterior.Select(p => Math.Log(p) / 2.0).ToArray());
        for (var k = 0; k < 3; k++) Assert.Equal(expected[k], rBoth.Posterior[k], 1e-9);
        Assert.Equal(uBoth.TopClass, rBoth.TopClass);
        Assert.True(rBoth.Confidence < uBoth.Confidence);

        var alone = Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, pa));
        var rAlone = calibrated.Fuse("s1", alone, Healthy("audio", "video"));
        var sharpened = Softmax(pa.Select(p => Math.Log(p) / 0.5).ToArray());
        for (var k = 0; k < 3; k++) Assert.Equal(sharpened[k], rAlone.Posterior[k], 1e-9);
        // The weights are the policy's: calibration changes the posterior only.
        Assert.Equal(uBoth.Weights["audio"], rBoth.Weights["audio"], 1e-12);
    }

    [Fact]
    public void Learned_is_refused_without_a_head_at_open_and_on_a_policy_change()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Learned };
        Assert.False(FusionEngine.CanRun(FusionPolicy.Learned, null));
        Assert.False(FusionEngine.CanRun(FusionPolicy.Learned, FusionModels.None));
        Assert.Contains("learned head", Assert.Throws<ArgumentException>(() => new FusionEngine(spec)).Message);
        var engine = new FusionEngine(AudioVideo());
        Assert.Throws<ArgumentException>(() => engine.Policy = FusionPolicy.Learned);
        Assert.Equal(FusionPolicy.Adaptive, engine.Policy);
        Assert.Equal(FusionPolicy.Learned, WeightingPolicies.Parse(" Learned "));
    }

    /// <summary>A head as a model file could be: whatever it returns.</summary>
    private sealed class ConstantHead(double w) : ILearnedWeighting
    {
        public int FeatureCount => LearnedFeatures.Count;
        public LearnedOutput Evaluate(ReadOnlySpan<float> features) => new(w, w);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-3.0)]
    public void A_head_returning_garbage_gives_weight_zero_and_the_window_no_evidence(double w)
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Learned };
        var engine = new FusionEngine(spec, models: new FusionModels(FusionCalibration.Identity, new ConstantHead(w)));
        var r = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.6, 0.3, 0.1]), Ev("video", 0, Sec, [0.2, 0.7, 0.1])), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
        Assert.All(r.Weights.Values, v => Assert.Equal(0.0, v));
    }

    /// <summary>A head that weighs by one feature, to see the engine feed it the features it computes.</summary>
    private sealed class FeatureHead(int index, double logT = 0) : ILearnedWeighting
    {
        public int FeatureCount => LearnedFeatures.Count;
        public LearnedOutput Evaluate(ReadOnlySpan<float> features) => new(features[index], logT);
    }

    [Fact]
    public void The_learned_policy_weighs_each_modality_by_what_its_head_makes_of_its_features()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Learned };
        var engine = new FusionEngine(spec, models: new FusionModels(FusionCalibration.Identity, new FeatureHead(Array.IndexOf(LearnedFeatures.Names, "top1"))));
        var r = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.6, 0.3, 0.1]), Ev("video", 0, Sec, [0.2, 0.2, 0.6])), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.Fused, r.Status);
        Assert.Equal(0.5, r.Weights["audio"], 1e-6);
        Assert.Equal(0.5, r.Weights["video"], 1e-6);
        Assert.Equal("learned", r.Policy);
    }

    [Fact]
    public void The_window_temperature_is_the_weight_averaged_log_temperature_of_the_heads_modalities()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Learned };
        double[] pa = [0.6, 0.3, 0.1], pv = [0.2, 0.2, 0.6];
        var window = Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, pv));
        var top1 = Array.IndexOf(LearnedFeatures.Names, "top1");
        var flat = new FusionEngine(spec, models: new FusionModels(FusionCalibration.Identity, new FeatureHead(top1))).Fuse("s1", window, Healthy("audio", "video"));
        var hot = new FusionEngine(spec, models: new FusionModels(FusionCalibration.Identity, new FeatureHead(top1, Math.Log(2)))).Fuse("s1", window, Healthy("audio", "video"));
        var expected = Softmax(flat.Posterior.Select(p => Math.Log(p) / 2).ToArray());
        for (var k = 0; k < 3; k++) Assert.Equal(expected[k], hot.Posterior[k], 1e-9);
        // A head asking for an absurd temperature is held to the bounds: T = 20 at most.
        var wild = new FusionEngine(spec, models: new FusionModels(FusionCalibration.Identity, new FeatureHead(top1, 1e9))).Fuse("s1", window, Healthy("audio", "video"));
        var bounded = Softmax(flat.Posterior.Select(p => Math.Log(p) / 20).ToArray());
        for (var k = 0; k < 3; k++) Assert.Equal(bounded[k], wild.Posterior[k], 1e-6);
    }

    private static Evidence RandomEvidence(Random rng, string stream, int classes)
    {
        var logp = Enumerable.Range(0, classes).Select(_ => Math.Log(rng.NextDouble() + 1e-12) * rng.Next(1, 20)).ToArray();
        Probabilities.NormaliseLog(logp);
        var start = rng.NextInt64(0, Sec);
        double[] drifts = [double.NaN, double.PositiveInfinity, -1, 0, 0.3, 1, 2.5, 40, rng.NextDouble() * 10];
        return new Evidence(stream, stream, start, start + rng.NextInt64(1, Sec), [], logp, rng.NextDouble(), 0, Drift: drifts[rng.Next(drifts.Length)]);
    }

    [Fact]
    public void The_drift_features_are_the_modalitys_and_its_peers_mean_drift_squashed_to_the_unit_interval()
    {
        var spec = AudioVideo();
        var streams = spec.Streams.ToArray();
        double[] p = [0.6, 0.3, 0.1];
        var logp = p.Select(x => Math.Log(x)).ToArray();
        var drift = Array.IndexOf(LearnedFeatures.Names, "drift");
        var peerDrift = Array.IndexOf(LearnedFeatures.Names, "peerDrift");
        Assert.True(drift >= 0 && peerDrift >= 0);

        float[] FeaturesOf(double ownDrift, params Evidence[] evidence)
        {
            var window = Window(0, Sec, 0, evidence);
            var audio = streams.First(s => s.StreamId == "audio");
            var e = new ModalityEvidence(FusionPolicy.Learned, "audio", [audio], 1, Sec, logp, Sec, window, Healthy("audio", "video"), spec.FixedWeights)
                { Drift = ownDrift };
            var f = new float[LearnedFeatures.Count];
            LearnedFeatures.Compute(e, f);
            return f;
        }

        var a = Ev("audio", 0, Sec, p) with { Drift = 2.0 };
        // Peers: one unscored (NaN) evidence is left out of the mean, the others pooled: (1 + 3) / 2 = 2.
        var f1 = FeaturesOf(2.0, a, Ev("video", 0, Sec, p) with { Drift = 1.0 }, Ev("video", 0, Sec, p) with { Drift = 3.0 },
            Ev("video", 0, Sec, p) with { Drift = double.NaN });
        Assert.Equal(1 - Math.Exp(-2.0), f1[drift], 1e-6);
        Assert.Equal(1 - Math.Exp(-2.0), f1[peerDrift], 1e-6);
        // Not scored, typical, or without a peer: 0; more drift, a larger feature, never beyond 1.
        Assert.Equal(0f, FeaturesOf(double.NaN, a)[drift]);
        Assert.Equal(0f, FeaturesOf(0, a)[drift]);
        Assert.Equal(0f, FeaturesOf(1, a)[peerDrift]);
        Assert.Equal(0f, FeaturesOf(1, a, Ev("video", 0, Sec, p))[peerDrift]); // the peer's evidence was not scored
        Assert.True(FeaturesOf(0.5, a)[drift] < FeaturesOf(1, a)[drift]);
        Assert.True(FeaturesOf(1, a)[drift] < FeaturesOf(5, a)[drift]);
        Assert.Equal(1f, FeaturesOf(double.PositiveInfinity, a)[drift]);
        Assert.Equal(0f, LearnedFeatures.DriftUnit(-3));
    }

    [Property(MaxTest = 300)]
    public Property Every_feature_is_finite_and_in_the_unit_interval_for_any_number_of_modalities() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var rng = new Random(seed);
            var n = rng.Next(1, 5);
            var names = Enumerable.Range(0, n).Select(i => $"m{i}").ToArray();
            var streams = names.Select(m => Stream(m)).ToArray();
            var spec = Session(streams) with { Labels = ["a", "b", "c", "d"] };
            var evidence = names.Where(_ => rng.Next(3) > 0).SelectMany(m => Enumerable.Range(0, rng.Next(1, 40)).Select(_ => RandomEvidence(rng, m, 4))).ToArray();
            var window = Window(0, Sec, 0, evidence);
            var health = names.ToDictionary(m => m, _ => new StreamSnapshot(StreamState.Active, rng.NextDouble()));
            var features = new float[LearnedFeatures.Count];
            var ok = true;
            foreach (var m in names.Where(m => window.Evidence.ContainsKey(m)))
            {
                var own = window.Evidence[m].Select(e => e.LogProbs).ToArray();
                var pooled = new double[4];
                foreach (var lp in own) for (var k = 0; k < 4; k++) pooled[k] += lp[k] / own.Length;
                Probabilities.NormaliseLog(pooled);
                var e = new ModalityEvidence(FusionPolicy.Learned, m, [streams.First(s => s.StreamId == m)], 1, Sec, pooled,
                    window.Evidence[m].Max(x => x.EndUs), window, health, spec.FixedWeights) { Drift = window.Evidence[m][0].Drift };
                LearnedFeatures.Compute(e, features);
                ok &= features.All(f => float.IsFinite(f) && f is >= 0 and <= 1);
                var peers = names.Count(x => x != m && window.Evidence.ContainsKey(x));
                ok &= Math.Abs(features[Array.IndexOf(LearnedFeatures.Names, "peersPresent")] - (n > 1 ? (float)peers / (n - 1) : 0)) < 1e-6;
                if (peers == 0) ok &= features[Array.IndexOf(LearnedFeatures.Names, "peerAgreement")] == 0;
            }
            return ok;
        });

    private static double[] Softmax(double[] x)
    {
        var max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        var z = e.Sum();
        return e.Select(v => v / z).ToArray();
    }
}
