using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// A gate stream (voice activity) discounts the gated stream's weight by its pooled output in the window, takes no
/// weight itself, and embedding-only modalities report no share of the posterior.
/// </summary>
public class GateFusionSpec
{
    private const double Eps = 1e-9;
    private static readonly double[] Pa = [0.6, 0.3, 0.1];
    private static readonly double[] Pv = [0.2, 0.5, 0.3];

    private static SessionSpec AudioVideoVoice(params StreamGate[] gates) =>
        Session(Stream("audio"), Stream("video"), Stream("voice")) with { Window = WindowSpec.Tumbling(Sec), Gates = gates };

    private static StreamGate VoiceGatesAudio(double floor = StreamGate.DefaultFloor, GatePooling pooling = GatePooling.Max) =>
        new() { Gate = "voice", Gated = "audio", Floor = floor, Pooling = pooling };

    /// <summary>One window: audio and video posteriors, and the voice stream's outputs (one value each, e.g. speech probabilities).</summary>
    private static AlignedWindow W(int revision = 0, params float[] voice) =>
        Window(0, Sec, revision,
            [Ev("audio", 0, Sec, Pa), Ev("video", 0, Sec, Pv), .. voice.Select((p, i) => Ev("voice", i * 32 * Ms, i * 32 * Ms + 36 * Ms, embedding: [p]))]);

    private static FusedResult Fuse(SessionSpec spec, AlignedWindow window) =>
        new FusionEngine(spec).Fuse("s1", window, Healthy("audio", "video", "voice"));

    private static double Ratio(FusedResult r) => r.Weights["audio"] / r.Weights["video"];

    [Fact]
    public void An_embedding_only_modality_reports_no_weight_and_the_others_share_the_posterior_as_before()
    {
        // Without a gate the voice stream is only an embedding: it must take no share of the weights.
        var r = Fuse(AudioVideoVoice(), W(0, 0.9f, 0.2f));
        Assert.Equal(0.0, r.Weights["voice"]);
        Assert.Equal(1.0, r.Weights["audio"] + r.Weights["video"], Eps);
        // The same as a session of audio and video alone.
        var alone = new FusionEngine(AudioVideo()).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, Pa), Ev("video", 0, Sec, Pv)), Healthy("audio", "video"));
        Assert.Equal(alone.Weights["audio"], r.Weights["audio"], Eps);
        Assert.Equal(alone.Posterior, r.Posterior, (a, b) => Math.Abs(a - b) < Eps);
        // It still feeds the fused embedding (its mean output, 0.55, scaled by its share of every present modality).
        Assert.True(r.FusedEmbedding[^1] > 0, $"voice slot {r.FusedEmbedding[^1]}");
    }

    [Fact]
    public void A_lone_embedding_only_modality_gives_no_evidence_and_no_weight()
    {
        var r = Fuse(AudioVideoVoice(), Window(0, Sec, 0, Ev("voice", 0, 36 * Ms, embedding: [0.9f])));
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
        Assert.All(r.Weights.Values, w => Assert.Equal(0.0, w));
    }

    [Theory]
    [InlineData(GatePooling.Max, 0.3)]
    [InlineData(GatePooling.Mean, 0.2)]
    public void The_gated_weight_is_multiplied_by_floor_plus_the_rest_times_the_pooled_gate(GatePooling pooling, double pooled)
    {
        const double floor = 0.25;
        var ungated = Fuse(AudioVideoVoice(), W(0, 0.1f, 0.3f, 0.2f));
        var gated = Fuse(AudioVideoVoice(VoiceGatesAudio(floor, pooling)), W(0, 0.1f, 0.3f, 0.2f));
        Assert.Equal(pooled, FusionEngine.PooledGate(VoiceGatesAudio(floor, pooling), W(0, 0.1f, 0.3f, 0.2f)), 1e-6);
        var factor = floor + (1 - floor) * pooled;
        Assert.Equal(factor * Ratio(ungated), Ratio(gated), 1e-6);
        // The result says which factor it applied, to the gated modality only.
        Assert.Equal(factor, Assert.Single(gated.Gates, g => g.Key == "audio").Value, 1e-6); // the gate's outputs are float32
        Assert.Single(gated.Gates);
        Assert.Empty(ungated.Gates);
        Assert.Equal(0.0, gated.Weights["voice"]);
        Assert.Equal(1.0, gated.Weights.Values.Sum(), Eps);
        // The posterior is the log-linear pool with the discounted audio weight.
        var wa = gated.Weights["audio"];
        var q = Pa.Select((p, k) => Math.Exp(wa * Math.Log(p) + (1 - wa) * Math.Log(Pv[k]))).ToArray();
        var z = q.Sum();
        for (var k = 0; k < 3; k++) Assert.Equal(q[k] / z, gated.Posterior[k], 1e-9);
    }

    [Fact]
    public void Speech_leaves_the_gated_weight_as_it_was_and_silence_leaves_only_the_floor()
    {
        var ungated = Fuse(AudioVideoVoice(), W(0, 0.99f));
        var speech = Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0, 0.02f, 1f, 0.4f));
        Assert.Equal(Ratio(ungated), Ratio(speech), 1e-9);
        var silence = Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0, 0f, 0f));
        Assert.Equal(StreamGate.DefaultFloor * Ratio(ungated), Ratio(silence), 1e-9);
        Assert.True(silence.Weights["audio"] > 0);
        // A floor of 0 lets a closed gate silence the stream: the posterior is the video's.
        var shut = Fuse(AudioVideoVoice(VoiceGatesAudio(floor: 0)), W(0, 0f));
        Assert.Equal(0.0, shut.Weights["audio"]);
        Assert.Equal(1.0, shut.Weights["video"], Eps);
        for (var k = 0; k < 3; k++) Assert.Equal(Pv[k], shut.Posterior[k], 1e-9);
    }

    [Fact]
    public void Without_gate_evidence_in_the_window_nothing_is_gated()
    {
        var ungated = Fuse(AudioVideoVoice(), W(0));
        var gated = Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0));
        Assert.Equal(ungated.Weights, gated.Weights);
        Assert.Equal(ungated.Posterior, gated.Posterior);
        // Outputs that are no number are not gate evidence either; values outside [0, 1] are clamped.
        Assert.Equal(ungated.Weights, Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0, float.NaN)).Weights);
        Assert.Equal(Ratio(ungated), Ratio(Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0, 7f))), 1e-9);
        Assert.Equal(StreamGate.DefaultFloor * Ratio(ungated), Ratio(Fuse(AudioVideoVoice(VoiceGatesAudio()), W(0, -3f))), 1e-9);
    }

    [Fact]
    public void Late_gate_evidence_revises_the_window_and_its_gating()
    {
        var spec = AudioVideoVoice(VoiceGatesAudio()) with { AllowedLatenessUs = 500 * Ms };
        var aligner = new Aligner(spec);
        var engine = new FusionEngine(spec);
        aligner.OnEvidence(Ev("audio", 0, Sec, Pa));
        aligner.OnEvidence(Ev("video", 0, Sec, Pv));
        var first = Assert.Single(aligner.AdvanceAll(Sec - 1).Windows);
        var r0 = engine.Fuse("s1", first, Healthy("audio", "video", "voice"));
        // The voice's output for the window arrives late: the window is revised, now gated.
        var revised = Assert.Single(aligner.OnEvidence(Ev("voice", 100 * Ms, 136 * Ms, embedding: [0.05f])).Windows);
        Assert.Equal(1, revised.Revision);
        var r1 = engine.Fuse("s1", revised, Healthy("audio", "video", "voice"));
        Assert.Equal(1, r1.Revision);
        Assert.Equal((StreamGate.DefaultFloor + 0.9 * 0.05) * Ratio(r0), Ratio(r1), 1e-6);
    }

    [Fact]
    public void Gating_applies_under_the_fixed_policy_and_a_gate_keeps_no_weight_without_labels()
    {
        var fixedSpec = AudioVideoVoice(VoiceGatesAudio()) with
        {
            Policy = FusionPolicy.Fixed,
            FixedWeights = new Dictionary<string, double> { ["audio"] = 2, ["video"] = 1, ["voice"] = 5 },
        };
        var r = Fuse(fixedSpec, W(0, 0.5f));
        Assert.Equal(2 * (0.1 + 0.9 * 0.5), Ratio(r), 1e-9);
        Assert.Equal(0.0, r.Weights["voice"]);

        // Embedding-only session (no labels): the modalities share the weight, the gate takes none.
        var unlabelled = AudioVideoVoice(VoiceGatesAudio()) with { Labels = [] };
        var window = Window(0, Sec, 0, Ev("audio", 0, Sec, embedding: [1f, 2f]), Ev("video", 0, Sec, embedding: [3f]), Ev("voice", 0, 36 * Ms, embedding: [0f]));
        var e = new FusionEngine(unlabelled).Fuse("s1", window, Healthy("audio", "video", "voice"));
        Assert.Equal(FusedStatus.Fused, e.Status);
        Assert.Equal(0.0, e.Weights["voice"]);
        Assert.Equal(1.0, e.Weights["audio"] + e.Weights["video"], Eps);
        Assert.Equal(0.1, e.Weights["audio"] / e.Weights["video"], 1e-9);
    }

    [Fact]
    public void A_gated_modality_of_several_streams_is_discounted_by_the_mean_of_their_factors()
    {
        var spec = Session(Stream("mic1", "audio"), Stream("mic2", "audio"), Stream("video"), Stream("voice")) with
        {
            Gates = [new StreamGate { Gate = "voice", Gated = "mic1" }],
        };
        var window = Window(0, Sec, 0, Ev("mic1", 0, Sec, Pa, modality: "audio"), Ev("mic2", 0, Sec, Pa, modality: "audio"),
            Ev("video", 0, Sec, Pv), Ev("voice", 0, 36 * Ms, embedding: [0f]));
        var health = Healthy("mic1", "mic2", "video", "voice");
        var gated = new FusionEngine(spec).Fuse("s1", window, health);
        var ungated = new FusionEngine(spec with { Gates = [] }).Fuse("s1", window, health);
        Assert.Equal((0.1 + 1) / 2 * Ratio(ungated), Ratio(gated), 1e-9);
    }

    [Fact]
    public void The_validator_refuses_gates_that_cannot_work()
    {
        static string Only(SessionSpec spec) => Assert.Single(SpecValidator.Problems(spec));
        Assert.Empty(SpecValidator.Problems(AudioVideoVoice(VoiceGatesAudio())));
        Assert.Contains("the gate is not a stream", Only(AudioVideoVoice(VoiceGatesAudio() with { Gate = "vad" })));
        Assert.Contains("the gated stream is not a stream", Only(AudioVideoVoice(VoiceGatesAudio() with { Gated = "mic" })));
        Assert.Contains("cannot gate itself", Only(AudioVideoVoice(VoiceGatesAudio() with { Gated = "voice" })));
        Assert.Contains("floor must be", Only(AudioVideoVoice(VoiceGatesAudio(floor: 1.5))));
        Assert.Contains("floor must be", Only(AudioVideoVoice(VoiceGatesAudio(floor: double.NaN))));
        Assert.Contains("floor must be", Only(AudioVideoVoice(VoiceGatesAudio(floor: -0.1))));
        Assert.Contains("pooling 9", Only(AudioVideoVoice(VoiceGatesAudio(pooling: (GatePooling)9))));
        Assert.Contains("gated twice", Only(AudioVideoVoice(VoiceGatesAudio(), new StreamGate { Gate = "video", Gated = "audio" })));
        Assert.Contains("do not chain", Only(AudioVideoVoice(VoiceGatesAudio(), new StreamGate { Gate = "video", Gated = "voice" })));
        Assert.Contains("a gate (or its gate or gated stream) is null", Only(AudioVideoVoice(VoiceGatesAudio() with { Gate = null! })));
        Assert.Contains("a gate (or its gate or gated stream) is null", Only(AudioVideoVoice([null!])));
        var shared = Session(Stream("audio"), Stream("video"), Stream("voice", "audio")) with { Gates = [VoiceGatesAudio()] };
        Assert.Contains("share the modality 'audio'", string.Join("; ", SpecValidator.Problems(shared)));
        var mixed = Session(Stream("audio"), Stream("video", "voice"), Stream("voice")) with { Gates = [VoiceGatesAudio()] };
        Assert.Contains("holds gates only", Only(mixed));
        var many = AudioVideoVoice(Enumerable.Range(0, 65).Select(_ => VoiceGatesAudio()).ToArray());
        Assert.Contains("65 gates, more than 64", Only(many));
    }

    [Fact]
    public void A_window_without_gate_evidence_must_report_no_gate_factor()
    {
        var spec = AudioVideoVoice(VoiceGatesAudio(0.25));
        var engine = new FusionEngine(spec);
        var none = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, Pa), Ev("video", 0, Sec, Pv)), Healthy("audio", "video", "voice"));
        Assert.Empty(none.Gates);
        // Silence (0) discounts to the floor; the factor is in the result as applied.
        var silent = engine.Fuse("s1", W(1, 0f, 0f), Healthy("audio", "video", "voice"));
        Assert.Equal(0.25, silent.Gates["audio"], 1e-9);
        // Audio missing: nothing was gated, whatever the gate said.
        var noAudio = engine.Fuse("s1", Window(0, Sec, 2, Ev("video", 0, Sec, Pv), Ev("voice", 0, 36 * Ms, embedding: [0.9f])), Healthy("audio", "video", "voice"));
        Assert.Empty(noAudio.Gates);
    }
}
