using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Xunit.Abstractions;
using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Inference.Tests;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A session of four modalities through the actors, configured only by a models file and the session spec: the
/// committed audio and camera digit models, PaddleOCR reading the camera image (a vocabulary mapped onto the labels by
/// name) and Silero VAD on the audio (stateful, embedding-only). The session's labels are in reverse order: every
/// model's classes reach it by name.
/// </summary>
public sealed class PretrainedSessionSpec(ITestOutputHelper output) : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Ocr = "ocr";
    private const string Voice = "voice";

    private static string CatalogPath => Path.Combine(Path.GetDirectoryName(PretrainedModels.CatalogPath)!, "four-modalities.json");

    private static SessionSpec FourModalities(string id) => new()
    {
        SessionId = id,
        Labels = Labels.Reverse().ToArray(),
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
            // Silero v5 takes 64 samples of context and 512 new ones: 36 ms windows every 32 ms.
            new StreamSpec
            {
                StreamId = Voice, Modality = "voice", Model = "silero-vad", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(36_000, 32_000), MaxFutureSkewUs = 3_600_000_000,
            },
        ],
    };

    private void Feed(IActorRef session, string id, int windows)
    {
        for (var w = 0; w < windows; w++)
        {
            var item = Sample[w];
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

    [PretrainedFact]
    public void Four_modalities_fuse_by_label_name_with_weights_for_the_pretrained_ones()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(CatalogPath));
        FuseFourModalities("s-four", new RegistryEncoderProvider(registry));
    }

    [PretrainedFact]
    public void With_the_node_batcher_stateless_models_share_calls_and_the_stateful_one_keeps_its_stream_order()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(CatalogPath));
        using var node = new NodeEncoding(new Encoders.Batching.EncoderBatcher(
            new Encoders.Batching.BatchingOptions { MaxBatch = 8, Threads = 1 }, TimeSpan.FromSeconds(30)), new PendingEncoderInputs(4096));
        var provider = new NodeEncoderProvider(new RegistryEncoderProvider(registry), node);
        var spec = FourModalities("s-four-batched");
        var vad = provider.Resolve(spec.Streams.Single(s => s.StreamId == Voice), spec.Labels);
        var ocr = provider.Resolve(spec.Streams.Single(s => s.StreamId == Ocr), spec.Labels);
        Assert.True(vad.Stateful);
        Assert.Null(vad.Node!.Batcher);
        Assert.False(ocr.Stateful);
        Assert.Same(node.Batcher, ocr.Node!.Batcher);
        FuseFourModalities(spec.SessionId, provider);
    }

    private void FuseFourModalities(string id, IEncoderProvider provider)
    {
        var spec = FourModalities(id);
        var session = Sys.ActorOf(SessionProps(spec.SessionId, provider));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(spec.SessionId, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        Feed(session, spec.SessionId, 6);
        var correct = 0;
        for (var w = 0; w < 4; w++)
        {
            var r = (FusedResult)results.FishForMessage(m => m is FusedResult x && x.WindowStartUs == w * 1_000_000L && x.Missing.Count == 0, Wait);
            output.WriteLine($"window {w}: label {Sample[w].Label}, top '{r.TopLabel}' {r.Confidence:F3}, weights {string.Join(", ", r.Weights.Select(kv => $"{kv.Key}={kv.Value:F3}"))}");
            Assert.Equal(FusedStatus.Fused, r.Status);
            Assert.Equal(1.0, r.Weights.Values.Sum(), 9);
            Assert.True(r.Weights[Ocr] > 0.01, $"ocr weight {r.Weights[Ocr]}");
            // Silero VAD has no posterior to give: it feeds the fused embedding and reports no weight.
            Assert.Equal(0.0, r.Weights[Voice]);
            // Fused embedding: audio 64 + camera 32 + voice 1 (the OCR model has none).
            Assert.Equal(64 + 32 + 1, r.FusedEmbedding.Length);
            Assert.Equal(spec.Labels[r.TopClass], r.TopLabel);
            if (r.TopLabel == Sample[w].Label.ToString()) correct++;
        }
        Assert.True(correct >= 3, $"{correct}/4 windows named their digit");
    }

    [PretrainedFact]
    public void A_model_that_does_not_match_its_declaration_refuses_the_session_naming_it_and_the_node_carries_on()
    {
        var dir = Path.GetDirectoryName(CatalogPath)!;
        var broken = Path.Combine(dir, $"broken-{Guid.NewGuid():N}.json");
        File.WriteAllText(broken, File.ReadAllText(CatalogPath).Replace("\"name\": \"x\"", "\"name\": \"pixels\""));
        try
        {
            using var registry = new ModelRegistry(ModelCatalog.Load(broken));
            var provider = new RegistryEncoderProvider(registry);
            var spec = FourModalities("s-broken");
            var session = Sys.ActorOf(SessionProps(spec.SessionId, provider));
            session.Tell(new OpenSession(spec, 0), TestActor);
            var rejected = ExpectMsg<CommandRejected>(Wait);
            output.WriteLine(rejected.Reason);
            Assert.Contains("model 'paddle-ocr-digits'", rejected.Reason);
            Assert.Contains("'pixels' is not an input", rejected.Reason);
            // The same node opens a session whose models are fine.
            var fine = FourModalities("s-fine") with { Streams = FourModalities("s-fine").Streams.Where(s => s.StreamId != Ocr).ToArray() };
            var other = Sys.ActorOf(SessionProps(fine.SessionId, provider));
            other.Tell(new OpenSession(fine, 0), TestActor);
            ExpectMsg<SessionOpened>(Wait);
        }
        finally { File.Delete(broken); }
    }

    [PretrainedFact]
    public void A_stateful_encoder_actor_keeps_its_state_between_batches_and_a_restarted_one_starts_fresh()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(CatalogPath));
        var spec = FourModalities("s-state");
        var resolved = new RegistryEncoderProvider(registry).Resolve(spec.Streams.Single(s => s.StreamId == Voice), spec.Labels);
        var pcm = Sample[0].Pcm;
        var inputs = Enumerable.Range(0, 20).Select(k =>
        {
            var values = new float[576];
            Array.Copy(pcm, 4000 + k * 512, values, 0, 576);
            return new FusionActors.Core.Streams.EncoderInput(Voice, k * 32_000L, k * 32_000L + 36_000, values, 1.0, k, k);
        }).ToArray();
        double[] Speech(IActorRef encoder, long batch)
        {
            encoder.Tell(new FusionActors.Runtime.Streams.EncoderActor.Encode(batch, inputs), TestActor);
            return ExpectMsg<FusionActors.Runtime.Streams.EncoderActor.Encoded>(Wait).Evidence.Select(e => (double)e.Embedding[0]).ToArray();
        }

        var first = Sys.ActorOf(FusionActors.Runtime.Streams.EncoderActor.Props(resolved, "voice", spec.SessionId));
        var a = Speech(first, 1);
        var b = Speech(first, 2); // the same windows again, after the state the first batch left
        Assert.NotEqual(a, b);
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first, Wait);
        // A restarted encoder (a new actor, as the stream starts it after a crash) starts from the initial state.
        var restarted = Sys.ActorOf(FusionActors.Runtime.Streams.EncoderActor.Props(resolved, "voice", spec.SessionId));
        Assert.Equal(a, Speech(restarted, 3));
    }
}
