using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class FusionEngineSpec
{
    private const double Eps = 1e-9;

    private static FusionEngine Engine(SessionSpec? spec = null) => new(spec ?? AudioVideo());

    private static double H(double[] p) => -p.Where(v => v > 0).Sum(v => v * Math.Log(v));

    private static double C(double[] p) => 1 - H(p) / Math.Log(p.Length);

    private static double[] LogLinear(params (double W, double[] P)[] parts)
    {
        var total = parts.Sum(x => x.W);
        var k = parts[0].P.Length;
        var q = new double[k];
        for (var i = 0; i < k; i++) q[i] = Math.Exp(parts.Sum(x => x.W / total * Math.Log(x.P[i])));
        var z = q.Sum();
        return q.Select(v => v / z).ToArray();
    }

    private static void Close(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-9);
    }

    [Fact]
    public void A_single_modality_gives_its_own_posterior_with_all_the_weight()
    {
        var r = Engine().Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.7, 0.2, 0.1])), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.Fused, r.Status);
        Close([0.7, 0.2, 0.1], r.Posterior);
        Assert.Equal((0, "a", 0.7), (r.TopClass, r.TopLabel, Math.Round(r.Confidence, 12)));
        Assert.Equal(1.0, r.Weights["audio"], Eps);
        Assert.Equal(0.0, r.Weights["video"]);
        Assert.Equal(["video"], r.Missing);
        Assert.Empty(r.Imputed);
        Assert.Equal(H([0.7, 0.2, 0.1]), r.Entropy, Eps);
    }

    [Fact]
    public void Adaptive_weights_are_prior_times_reliability_times_confidence_times_freshness_renormalised()
    {
        var spec = Session(Stream("audio", priorWeight: 1), Stream("video", priorWeight: 2)) with { Window = WindowSpec.Tumbling(Sec) };
        double[] pa = [0.5, 0.25, 0.25], pv = [0.2, 0.6, 0.2];
        // Audio evidence ended 0.5 s before the window end (tau 1 s); video is fresh but half reliable.
        var window = Window(0, Sec, 0, Ev("audio", 0, 500 * Ms, pa), Ev("video", 100, Sec, pv));
        var health = new Dictionary<string, StreamSnapshot>
        {
            ["audio"] = new(StreamState.Active, 1.0),
            ["video"] = new(StreamState.Active, 0.5),
        };
        var r = Engine(spec).Fuse("s1", window, health);

        // By hand: H(pa) = 1.5 ln 2, c_a = 1 - 1.5 ln 2 / ln 3 = 0.0536...
        Assert.Equal(0.053605, C(pa), 6);
        var wa = 1 * 1.0 * C(pa) * Math.Exp(-0.5);
        var wv = 2 * 0.5 * C(pv) * 1.0;
        Assert.Equal(wa / (wa + wv), r.Weights["audio"], Eps);
        Assert.Equal(wv / (wa + wv), r.Weights["video"], Eps);
        Close(LogLinear((wa, pa), (wv, pv)), r.Posterior);
        Assert.Equal(1, r.TopClass);
        Assert.Empty(r.Missing);
        Assert.Equal(1.0, r.Posterior.Sum(), Eps);
    }

    [Fact]
    public void Equal_weights_give_the_normalised_geometric_mean()
    {
        // Both modalities: same confidence (mirror images), reliability 1, fresh.
        double[] pa = [0.6, 0.3, 0.1], pv = [0.3, 0.6, 0.1];
        var r = Engine().Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, pv)), Healthy("audio", "video"));
        Assert.Equal(0.5, r.Weights["audio"], Eps);
        // sqrt(.18), sqrt(.18), sqrt(.01) normalised.
        var g = new[] { Math.Sqrt(0.18), Math.Sqrt(0.18), 0.1 };
        Close(g.Select(v => v / g.Sum()).ToArray(), r.Posterior);
    }

    [Fact]
    public void A_confident_modality_outweighs_a_uniform_one()
    {
        var r = Engine().Fuse("s1",
            Window(0, Sec, 0, Ev("audio", 0, Sec, [1 / 3.0, 1 / 3.0, 1 / 3.0]), Ev("video", 0, Sec, [0.05, 0.05, 0.9])),
            Healthy("audio", "video"));
        Assert.Equal(0.0, r.Weights["audio"], Eps);
        Assert.Equal(1.0, r.Weights["video"], Eps);
        Close([0.05, 0.05, 0.9], r.Posterior);
        Assert.Empty(r.Missing);
    }

    [Fact]
    public void Evidence_of_one_modality_in_a_window_is_pooled_by_averaging_log_probabilities()
    {
        var r = Engine().Fuse("s1",
            Window(0, Sec, 0, Ev("audio", 0, Sec, [0.8, 0.1, 0.1]), Ev("audio", 10, Sec, [0.2, 0.4, 0.4])),
            Healthy("audio", "video"));
        Close([0.5, 0.25, 0.25], r.Posterior);
    }

    [Fact]
    public void Freshness_fades_evidence_that_ended_long_before_the_window_end()
    {
        double[] p = [0.1, 0.8, 0.1];
        // Same evidence, but video ended 2 s before the window end (tau 1 s).
        var r = Engine().Fuse("s1",
            Window(0, 3 * Sec, 0, Ev("audio", 0, 3 * Sec, [0.8, 0.1, 0.1]), Ev("video", 0, Sec, p)),
            Healthy("audio", "video"));
        Assert.Equal(1 / (1 + Math.Exp(-2)), r.Weights["audio"], Eps);
        Assert.Equal(0, r.TopClass);
    }

    [Fact]
    public void Frozen_evidence_fades_from_the_time_its_content_last_changed()
    {
        var frozen = Ev("video", 0, 3 * Sec, [0.1, 0.8, 0.1]) with { ContentEndUs = Sec };
        var r = Engine().Fuse("s1", Window(0, 3 * Sec, 0, Ev("audio", 0, 3 * Sec, [0.8, 0.1, 0.1]), frozen), Healthy("audio", "video"));
        Assert.Equal(1 / (1 + Math.Exp(-2)), r.Weights["audio"], Eps);
    }

    [Fact]
    public void Nothing_present_gives_no_evidence_with_the_uniform_prior()
    {
        var r = Engine().Fuse("s1", Window(0, Sec), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
        Close([1 / 3.0, 1 / 3.0, 1 / 3.0], r.Posterior);
        Assert.Equal((-1, (string?)null, 0.0), (r.TopClass, r.TopLabel, r.Confidence));
        Assert.Equal(["audio", "video"], r.Missing);
        Assert.All(r.Weights.Values, w => Assert.Equal(0.0, w));
        Assert.Equal(Math.Log(3), r.Entropy, Eps);
    }

    [Fact]
    public void Evidence_of_restarting_streams_has_no_weight_and_gives_no_evidence()
    {
        var health = new Dictionary<string, StreamSnapshot>
        {
            ["audio"] = new(StreamState.Restarting, 0.0),
            ["video"] = new(StreamState.Failed, 0.0),
        };
        var r = Engine().Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05]), Ev("video", 0, Sec, [0.9, 0.05, 0.05])), health);
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
        Close([1 / 3.0, 1 / 3.0, 1 / 3.0], r.Posterior);
        Assert.Empty(r.Missing);
        Assert.Equal(StreamState.Restarting, r.States["audio"]);
    }

    [Fact]
    public void A_stream_without_a_health_snapshot_counts_as_unreliable()
    {
        var r = Engine().Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05])), new Dictionary<string, StreamSnapshot>());
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
    }

    [Fact]
    public void Streams_of_one_modality_are_pooled_and_weighed_as_one()
    {
        var spec = Session(Stream("cam0", "video"), Stream("cam1", "video"), Stream("mic", "audio"));
        var health = new Dictionary<string, StreamSnapshot>
        {
            ["cam0"] = new(StreamState.Active, 1.0),
            ["cam1"] = new(StreamState.Restarting, 0.0),
            ["mic"] = new(StreamState.Active, 1.0),
        };
        var r = new FusionEngine(spec).Fuse("s1", Window(0, Sec, 0,
            Ev("cam0", 0, Sec, [0.8, 0.1, 0.1], modality: "video"), Ev("cam1", 0, Sec, [0.2, 0.4, 0.4], modality: "video")), health);
        Assert.Equal(["video", "audio"], r.Weights.Keys);
        Assert.Equal(["audio"], r.Missing);
        Close([0.5, 0.25, 0.25], r.Posterior);
        // Reliability is the mean over the modality's streams: (1 + 0) / 2; alone it still has all the weight.
        Assert.Equal(1.0, r.Weights["video"], Eps);
    }

    [Fact]
    public void A_modality_with_prior_weight_zero_never_counts()
    {
        var spec = Session(Stream("audio", priorWeight: 0), Stream("video"));
        var r = new FusionEngine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05]), Ev("video", 0, Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));
        Assert.Equal(0.0, r.Weights["audio"]);
        Close([0.1, 0.1, 0.8], r.Posterior);
    }

    [Fact]
    public void The_fixed_policy_uses_static_weights_only()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Fixed, FixedWeights = new Dictionary<string, double> { ["audio"] = 3 } };
        double[] pa = [1 / 3.0, 1 / 3.0, 1 / 3.0], pv = [0.1, 0.1, 0.8];
        var health = new Dictionary<string, StreamSnapshot> { ["audio"] = new(StreamState.Active, 0.1), ["video"] = new(StreamState.Active, 1) };
        var r = Engine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, pv)), health);
        // Audio 3 from FixedWeights, video 1 from its prior, whatever the confidence or reliability.
        Assert.Equal(0.75, r.Weights["audio"], Eps);
        Assert.Equal(0.25, r.Weights["video"], Eps);
        Close(LogLinear((3, pa), (1, pv)), r.Posterior);
        Assert.Equal("fixed", r.Policy);
    }

    [Fact]
    public void The_single_policy_counts_only_its_modality()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Single("video") };
        var r = Engine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05]), Ev("video", 0, Sec, [0.2, 0.2, 0.6])), Healthy("audio", "video"));
        Close([0.2, 0.2, 0.6], r.Posterior);
        Assert.Equal((0.0, 1.0), (r.Weights["audio"], r.Weights["video"]));
        Assert.Equal("single:video", r.Policy);

        var missing = Engine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05])), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.NoEvidence, missing.Status);
        Assert.Equal(["video"], missing.Missing);
    }

    [Fact]
    public void The_policy_can_be_switched_at_run_time()
    {
        var engine = Engine();
        engine.Policy = FusionPolicy.Single("audio");
        var r = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, [0.9, 0.05, 0.05]), Ev("video", 0, Sec, [0.05, 0.05, 0.9])), Healthy("audio", "video"));
        Assert.Equal(0, r.TopClass);
    }

    [Fact]
    public void A_missing_modality_is_imputed_from_recent_evidence_with_faded_weight_and_listed()
    {
        var engine = Engine(AudioVideo() with { ImputeHorizonUs = 1500 * Ms });
        double[] pa = [0.6, 0.2, 0.2], pv = [0.1, 0.1, 0.8];
        engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, pv)), Healthy("audio", "video"));

        var r = engine.Fuse("s1", Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, pa)), Healthy("audio", "video"));
        Assert.Equal(["video"], r.Imputed);
        Assert.Empty(r.Missing);
        var wa = C(pa);
        var wv = C(pv) * Math.Exp(-1); // video ended 1 s before this window's end
        Assert.Equal(wv / (wa + wv), r.Weights["video"], Eps);
        Close(LogLinear((wa, pa), (wv, pv)), r.Posterior);
    }

    [Fact]
    public void Evidence_older_than_the_impute_horizon_is_not_imputed()
    {
        var engine = Engine(AudioVideo() with { ImputeHorizonUs = 1500 * Ms });
        engine.Fuse("s1", Window(0, Sec, 0, Ev("video", 0, Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));
        var r = engine.Fuse("s1", Window(2 * Sec, 3 * Sec, 0, Ev("audio", 2 * Sec, 3 * Sec, [0.6, 0.2, 0.2])), Healthy("audio", "video"));
        Assert.Empty(r.Imputed);
        Assert.Equal(["video"], r.Missing);
    }

    [Fact]
    public void Without_an_impute_horizon_nothing_is_imputed()
    {
        var engine = Engine();
        engine.Fuse("s1", Window(0, Sec, 0, Ev("video", 0, Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));
        var r = engine.Fuse("s1", Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, [0.6, 0.2, 0.2])), Healthy("audio", "video"));
        Assert.Empty(r.Imputed);
        Assert.Equal(["video"], r.Missing);
    }

    [Fact]
    public void Imputed_evidence_is_never_reused_for_an_earlier_window()
    {
        var engine = Engine(AudioVideo() with { ImputeHorizonUs = 5 * Sec });
        engine.Fuse("s1", Window(2 * Sec, 3 * Sec, 0, Ev("video", 2 * Sec, 3 * Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));
        var r = engine.Fuse("s1", Window(0, Sec, 1, Ev("audio", 0, Sec, [0.6, 0.2, 0.2])), Healthy("audio", "video"));
        Assert.Empty(r.Imputed);
    }

    [Fact]
    public void A_late_revision_of_an_earlier_window_does_not_make_imputation_use_older_evidence()
    {
        var engine = Engine(AudioVideo() with { ImputeHorizonUs = 1500 * Ms });
        double[] pa = [0.6, 0.2, 0.2];
        engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, pa), Ev("video", 0, Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));
        engine.Fuse("s1", Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, pa), Ev("video", Sec, 2 * Sec, [0.1, 0.8, 0.1])), Healthy("audio", "video"));
        // Window [0, 1 s) is revised by late audio after [1 s, 2 s) was decided.
        engine.Fuse("s1", Window(0, Sec, 1, Ev("audio", 0, Sec, pa), Ev("audio", 10, Sec, pa), Ev("video", 0, Sec, [0.1, 0.1, 0.8])), Healthy("audio", "video"));

        var r = engine.Fuse("s1", Window(2 * Sec, 3 * Sec, 0, Ev("audio", 2 * Sec, 3 * Sec, pa)), Healthy("audio", "video"));
        // Video is imputed from [1 s, 2 s) (age 1 s), as it would be had the revision come in order.
        Assert.Equal(["video"], r.Imputed);
        var wa = C(pa);
        var wv = C([0.1, 0.8, 0.1]) * Math.Exp(-1);
        Close(LogLinear((wa, pa), (wv, [0.1, 0.8, 0.1])), r.Posterior);
    }

    [Fact]
    public void The_fused_embedding_is_the_weight_scaled_concatenation_with_zeros_where_missing()
    {
        var spec = AudioVideo() with { Policy = FusionPolicy.Fixed, FixedWeights = new Dictionary<string, double> { ["audio"] = 3, ["video"] = 1 } };
        var engine = Engine(spec);
        var r = engine.Fuse("s1", Window(0, Sec, 0,
            Ev("audio", 0, Sec, [0.6, 0.2, 0.2], embedding: [1f, 2f]),
            Ev("video", 0, Sec, [0.6, 0.2, 0.2], embedding: [4f, 8f])), Healthy("audio", "video"));
        Assert.Equal(new[] { 0.75f, 1.5f, 1f, 2f }, r.FusedEmbedding);

        var r2 = engine.Fuse("s1", Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, [0.6, 0.2, 0.2], embedding: [1f, 2f])), Healthy("audio", "video"));
        Assert.Equal(new[] { 1f, 2f, 0f, 0f }, r2.FusedEmbedding);
    }

    [Fact]
    public void Declared_embedding_sizes_fix_the_layout_before_a_modality_has_been_seen()
    {
        var spec = AudioVideo() with { Labels = [] };
        var engine = new FusionEngine(spec, new Dictionary<string, int> { ["audio"] = 2, ["video"] = 3 });
        var r = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, embedding: [2f, 2f])), Healthy("audio", "video"));
        Assert.Equal(new[] { 2f, 2f, 0f, 0f, 0f }, r.FusedEmbedding);
        var undeclared = Engine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, embedding: [2f, 2f])), Healthy("audio", "video"));
        Assert.Equal(2, undeclared.FusedEmbedding.Length);
    }

    [Fact]
    public void A_session_without_labels_fuses_embeddings_only()
    {
        var spec = AudioVideo() with { Labels = [] };
        var r = Engine(spec).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, embedding: [2f, 2f])), Healthy("audio", "video"));
        Assert.Equal(FusedStatus.Fused, r.Status);
        Assert.Empty(r.Posterior);
        Assert.Equal(-1, r.TopClass);
        Assert.Equal(new[] { 2f, 2f }, r.FusedEmbedding);
        Assert.Equal(["video"], r.Missing);
    }

    [Fact]
    public void A_modality_with_evidence_in_the_window_is_never_imputed_even_without_logits()
    {
        var spec = AudioVideo() with { Labels = [], ImputeHorizonUs = 5 * Sec };
        var engine = Engine(spec);
        engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, embedding: [1f, 1f])), Healthy("audio", "video"));
        var r = engine.Fuse("s1", Window(Sec, 2 * Sec, 0, Ev("audio", Sec, 2 * Sec, embedding: [5f, 5f])), Healthy("audio", "video"));
        Assert.Empty(r.Imputed);
        Assert.Equal(new[] { 5f, 5f }, r.FusedEmbedding);
    }

    [Fact]
    public void A_result_carries_the_window_revision_and_watermark_lag()
    {
        var w = Window(Sec, 2 * Sec, 3, Ev("audio", Sec, 2 * Sec, [0.6, 0.2, 0.2])) with { WatermarkLagUs = 42 };
        var r = Engine().Fuse("s1", w, Healthy("audio", "video"));
        Assert.Equal(("s1", Sec, 2 * Sec, 3, 42L), (r.SessionId, r.WindowStartUs, r.WindowEndUs, r.Revision, r.WatermarkLagUs));
    }
}
