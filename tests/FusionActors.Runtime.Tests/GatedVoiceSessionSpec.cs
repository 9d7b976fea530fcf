using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Xunit.Abstractions;
using FusionActors.Inference;
using FusionActors.Inference.Tests;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Silero VAD as a gate of the audio stream, through the actors on the real models: two sessions get the very same
/// frames, one with the gate "voice gates audio" and one without. Where the sample's words are spoken the audio keeps
/// its weight; where its audio is replaced by near-silence or low noise the VAD's speech probability drops and the
/// audio's weight against the camera's drops by the gate's factor. The voice stream itself has no weight.
/// </summary>
public sealed class GatedVoiceSessionSpec(ITestOutputHelper output) : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const string Ocr = "ocr";
    private const string Voice = "voice";
    private const double Floor = 0.1;

    /// <summary>What window w's microphone hears: the sample's word, except a near-silent room (3) and low white noise (4).</summary>
    private static float[] Heard(int w)
    {
        if (w is not (3 or 4)) return Sample[w].Pcm;
        var random = new Random(20261201 + w);
        var amplitude = w == 3 ? 0.001 : 0.02;
        // Gaussian noise of that standard deviation (Box-Muller), far inside [-1, 1].
        return Enumerable.Range(0, 16_000).Select(_ =>
            (float)(amplitude * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray();
    }

    private static SessionSpec FourModalities(string id, bool gated) => new()
    {
        SessionId = id,
        Labels = Labels,
        Window = WindowSpec.Tumbling(1_000_000),
        Policy = FusionPolicy.Adaptive,
        Streams =
        [
            new StreamSpec
            {
                StreamId = Audio, Modality = "audio", Model = "audio-digits", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(1_000_000, 1_000_000), MaxFutureSkewUs = 3_600_000_000,
            },
            new StreamSpec { StreamId = Camera, Modality = "image", Model = "image-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000 },
            new StreamSpec { StreamId = Ocr, Modality = "ocr", Model = "paddle-ocr-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000 },
            new StreamSpec
            {
                StreamId = Voice, Modality = "voice", Model = "silero-vad", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(36_000, 32_000), MaxFutureSkewUs = 3_600_000_000,
            },
        ],
        Gates = gated ? [new StreamGate { Gate = Voice, Gated = Audio, Floor = Floor, Pooling = GatePooling.Max }] : [],
    };

    private (IActorRef Session, Akka.TestKit.TestProbe Results) Open(SessionSpec spec, IEncoderProvider provider)
    {
        var session = Sys.ActorOf(SessionProps(spec.SessionId, provider));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(spec.SessionId, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        return (session, results);
    }

    private void Feed(IActorRef session, string id, int windows)
    {
        for (var w = 0; w < windows; w++)
        {
            var item = Sample[w] with { Pcm = Heard(w) };
            foreach (var f in AudioFrames(id, w, item, w * 50L))
            {
                session.Tell(f, TestActor);
                session.Tell(f with { StreamId = Voice }, TestActor);
            }
            foreach (var f in CameraFrames(id, w, item, w * 10L, count: 5))
            {
                session.Tell(f, TestActor);
                session.Tell(f with { StreamId = Ocr }, TestActor);
            }
        }
    }

    private static FusedResult First(Akka.TestKit.TestProbe results, int w) =>
        (FusedResult)results.FishForMessage(m => m is FusedResult x && x.WindowStartUs == w * 1_000_000L && x.Missing.Count == 0, Wait);

    [PretrainedFact]
    public void The_voice_gate_keeps_the_audio_weight_on_speech_and_discounts_it_on_silence_and_noise()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(Path.Combine(Path.GetDirectoryName(PretrainedModels.CatalogPath)!, "four-modalities.json")));
        var provider = new RegistryEncoderProvider(registry);
        var gated = Open(FourModalities("s-gated", gated: true), provider);
        var plain = Open(FourModalities("s-plain", gated: false), provider);
        Feed(gated.Session, "s-gated", 7);
        Feed(plain.Session, "s-plain", 7);
        for (var w = 0; w < 6; w++)
        {
            var g = First(gated.Results, w);
            var p = First(plain.Results, w);
            Assert.Equal(FusedStatus.Fused, g.Status);
            // The gate's factor is how much the audio lost against the camera; the VAD's pooled probability follows from it.
            var factor = g.Weights[Audio] / g.Weights["image"] / (p.Weights[Audio] / p.Weights["image"]);
            var speech = (factor - Floor) / (1 - Floor);
            output.WriteLine($"window {w} ({(w is 3 ? "near-silence" : w is 4 ? "low noise" : "speech")}): gated {Shown(g)}; ungated {Shown(p)}; " +
                             $"audio/camera factor {factor:F3} (speech probability {speech:F3})");
            Assert.Equal(0.0, g.Weights[Voice]);
            Assert.Equal(0.0, p.Weights[Voice]);
            Assert.Equal(1.0, g.Weights.Values.Sum(), 9);
            // The result says the factor it applied to the audio (the same as the ratio of ratios: the windows' other weights agree).
            Assert.Equal(factor, Assert.Single(g.Gates, kv => kv.Key == "audio").Value, 6);
            Assert.Single(g.Gates);
            Assert.Empty(p.Gates);
            if (w is 3 or 4)
            {
                Assert.True(speech < 0.5, $"window {w}: speech probability {speech:F3} of silence or noise");
                Assert.True(factor < 0.55, $"window {w}: the audio kept {factor:F3} of its weight against the camera's");
                Assert.True(g.Weights[Audio] < p.Weights[Audio], $"window {w}: audio weight {g.Weights[Audio]:F3} gated, {p.Weights[Audio]:F3} not");
            }
            else
            {
                // Speech: the audio keeps its weight (the VAD's peak over these spoken digits is 0.95-1.00).
                Assert.InRange(factor, 0.9, 1.02);
                Assert.InRange(g.Weights[Audio], p.Weights[Audio] * 0.9, p.Weights[Audio] * 1.02);
            }
        }
    }

    private static string Shown(FusedResult r) =>
        $"'{r.TopLabel}' {r.Confidence:F2} " + string.Join(" ", r.Weights.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value:F3}"));
}
