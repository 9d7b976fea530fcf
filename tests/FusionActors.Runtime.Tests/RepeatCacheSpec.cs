using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Inference.Tests;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Each stream's cache of exact-repeat encoder inputs, on the committed image model: a repeat's evidence is bit for bit
/// what the encoder gives it; a frozen camera hits and fuses exactly as with the cache off, freshness still fading it;
/// an input that differs by one bit never hits; a model switch and an encoder restart clear the cache; the no-op encoder
/// and stateful models are never cached; the bounds hold; the counters cross the wire and the options bind.
/// </summary>
public sealed class RepeatCacheSpec() : TestKit(LocalConfig), IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Session = "repeat-spec";
    private readonly ModelRegistry _models = ModelRegistry.FromDefaultCatalog();
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "fusion-repeat-" + Guid.NewGuid().ToString("N"))).FullName;

    private static StreamSpec CameraSpec(string model = "image-digits") => new()
    {
        StreamId = Camera, Modality = "image", Model = model, FrameLength = 64, MaxFutureSkewUs = 3_600_000_000,
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    private static SessionSpec CameraSession(StreamSpec stream) =>
        new() { SessionId = Session, Labels = Labels, Window = WindowSpec.Tumbling(1_000_000), Streams = [stream] };

    /// <summary>A camera stream actor on <paramref name="resolved"/>, its repeat cache bounded by <paramref name="cache"/>.</summary>
    private (IActorRef Stream, TestProbe Alignment) StartCamera(ResolvedEncoder resolved, RepeatCacheOptions cache, StreamSpec? spec = null)
    {
        spec ??= CameraSpec();
        var node = new NodeEncoding(null, new PendingEncoderInputs(100_000), cache);
        var alignment = CreateTestProbe();
        var props = StreamActor.Props(Session, spec, CameraSession(spec), alignment.Ref, resolved with { Node = node }, FastBackoff, clockOffsetUs: 0);
        return (Sys.ActorOf(props), alignment);
    }

    private ResolvedEncoder ImageDigits() => new RegistryEncoderProvider(_models).Resolve(CameraSpec(), Labels.Length);

    private static Frame CameraFrame(long seq, float[] image) => new(Session, Camera, seq, seq * 100_000L, image);

    /// <summary>The next <paramref name="count"/> pieces of evidence the stream sends its alignment, in order.</summary>
    private static List<Evidence> Evidence(TestProbe alignment, int count)
    {
        var evidence = new List<Evidence>();
        while (evidence.Count < count)
            evidence.AddRange(((AlignmentActor.EvidenceBatch)alignment.FishForMessage(m => m is AlignmentActor.EvidenceBatch { Evidence.Count: > 0 }, Wait)).Evidence);
        return evidence;
    }

    private StreamCounters Counters(IActorRef stream) => stream.Ask<StreamStatus>(StreamActor.GetStatus.Instance, Wait).Result.Counters;

    private static void AssertSameBits(Evidence expected, Evidence actual)
    {
        Assert.Equal((expected.StreamId, expected.Modality, expected.StartUs, expected.EndUs, expected.LastSeq, expected.Revision, expected.ContentEndUs, expected.Model),
            (actual.StreamId, actual.Modality, actual.StartUs, actual.EndUs, actual.LastSeq, actual.Revision, actual.ContentEndUs, actual.Model));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Coverage), BitConverter.DoubleToInt64Bits(actual.Coverage));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Drift), BitConverter.DoubleToInt64Bits(actual.Drift));
        Assert.True(MemoryMarshal.AsBytes(expected.Embedding.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.Embedding.AsSpan())), "embedding bits differ");
        Assert.True(MemoryMarshal.AsBytes(expected.LogProbs.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.LogProbs.AsSpan())), "log-probability bits differ");
    }

    /// <summary>What a fresh encoder actor on <paramref name="resolved"/> makes of <paramref name="inputs"/> (one batch).</summary>
    private IReadOnlyList<Evidence> Encode(ResolvedEncoder resolved, params EncoderInput[] inputs)
    {
        var encoder = Sys.ActorOf(EncoderActor.Props(resolved, "image", Session));
        encoder.Tell(new EncoderActor.Encode(1, inputs), TestActor);
        var encoded = ExpectMsg<EncoderActor.Encoded>(Wait).Evidence;
        Sys.Stop(encoder);
        return encoded;
    }

    private static EncoderInput Input(long k, float[] values, long? contentEndUs = null, double coverage = 1.0, int revision = 0) =>
        new(Camera, k * 100_000L, k * 100_000L + 100_000L, values, coverage, k, k, revision, contentEndUs);

    [Fact]
    public void A_repeat_gets_bit_for_bit_the_evidence_the_encoder_gives_it_and_an_input_one_bit_away_misses()
    {
        var resolved = ImageDigits();
        var cache = new RepeatCache(RepeatCacheOptions.Default);
        Assert.True(cache.Serves(resolved));
        var image = Sample[3].Image;
        var first = Input(0, (float[])image.Clone());
        cache.Add(first, Encode(resolved, first)[0]);

        // The same bits in another array, with its own span, coverage, seq, revision and content time.
        var repeat = Input(7, (float[])image.Clone(), contentEndUs: 100_000, coverage: 0.75, revision: 2);
        var cached = cache.Find(repeat, "image", resolved.Model);
        Assert.NotNull(cached);
        AssertSameBits(Encode(resolved, repeat)[0], cached);
        // An output of one model version is never given to an input that runs on another (around a switch point a stream runs two).
        Assert.Null(cache.Find(repeat, "image", "image-digits@another"));
        Assert.Null(cached.EncodeSpan);

        // One ulp off, and +0 for -0 (equal as floats, not as bits): misses, never the hash alone.
        var ulp = (float[])image.Clone();
        ulp[10] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(ulp[10]) + 1);
        Assert.Null(cache.Find(Input(8, ulp), "image", resolved.Model));
        var zero = Array.IndexOf(image, 0f);
        Assert.True(zero >= 0, "the sample image has a 0 pixel");
        var negative = (float[])image.Clone();
        negative[zero] = -0f;
        Assert.Null(cache.Find(Input(9, negative), "image", resolved.Model));
        Assert.Null(cache.Find(Input(10, Sample[4].Image), "image", resolved.Model));
    }

    [Fact]
    public void The_cache_keeps_at_most_its_entries_and_never_an_input_over_its_byte_bound()
    {
        var resolved = ImageDigits();
        var cache = new RepeatCache(new RepeatCacheOptions { Entries = 2, MaxInputBytes = 64 * sizeof(float) });
        var images = Enumerable.Range(0, 3).Select(i => Sample[i].Image).ToArray();
        Assert.Equal(3, images.Distinct(new BitsComparer()).Count());
        for (var i = 0; i < 3; i++) cache.Add(Input(i, images[i]), Encode(resolved, Input(i, images[i]))[0]);
        Assert.Equal(2, cache.Count);
        Assert.Equal(2 * 64 * sizeof(float), cache.Bytes);
        Assert.Null(cache.Find(Input(5, images[0]), "image", resolved.Model)); // the oldest made room
        Assert.NotNull(cache.Find(Input(5, images[1]), "image", resolved.Model));
        Assert.NotNull(cache.Find(Input(5, images[2]), "image", resolved.Model));

        var small = new RepeatCache(new RepeatCacheOptions { Entries = 4, MaxInputBytes = 64 * sizeof(float) - 1 });
        small.Add(Input(0, images[0]), Encode(resolved, Input(0, images[0]))[0]);
        Assert.Equal((0, 0L), (small.Count, small.Bytes));
        Assert.Null(small.Find(Input(1, images[0]), "image", resolved.Model));

        var off = new RepeatCache(RepeatCacheOptions.Off);
        Assert.False(off.Serves(resolved));
        Assert.Contains(new RepeatCacheOptions { Entries = RepeatCacheOptions.MaxEntries + 1 }.Problems(), p => p.Contains("repeat-cache-entries"));
        Assert.Contains(new RepeatCacheOptions { MaxInputBytes = -1 }.Problems(), p => p.Contains("repeat-cache-max-input-bytes"));
    }

    private sealed class BitsComparer : IEqualityComparer<float[]>
    {
        public bool Equals(float[]? a, float[]? b) => MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan()));
        public int GetHashCode(float[] a) => a.Length;
    }

    [Fact]
    public void A_frozen_camera_hits_after_its_first_frame_and_its_evidence_is_what_the_encoder_gives_with_freshness_from_the_framer()
    {
        var resolved = ImageDigits();
        var (stream, alignment) = StartCamera(resolved, RepeatCacheOptions.Default);
        var image = Sample[2].Image;
        const int n = 12;
        // One frame, its answer, then the frozen repeats: every one after the first is an exact repeat of an encoded input.
        stream.Tell(CameraFrame(0, (float[])image.Clone()), TestActor);
        var evidence = Evidence(alignment, 1);
        for (var k = 1; k < n; k++) stream.Tell(CameraFrame(k, (float[])image.Clone()), TestActor);
        evidence.AddRange(Evidence(alignment, n - 1));

        Assert.Equal(Enumerable.Range(0, n).Select(k => (long)k), evidence.Select(e => e.LastSeq)); // in order
        // The framer still sees the freeze: every repeat's information dates from the first frame's end, not its own.
        Assert.Null(evidence[0].ContentEndUs);
        Assert.All(evidence.Skip(1), e => Assert.Equal((evidence[0].EndUs, true), (e.FreshAsOfUs, e.EndUs > evidence[0].EndUs)));
        // Each compared with the encoder's answer to that input alone, as the stream's first frame was encoded.
        foreach (var e in evidence)
            AssertSameBits(Encode(resolved, new EncoderInput(Camera, e.StartUs, e.EndUs, image, 1.0, e.LastSeq, e.LastSeq, 0, e.ContentEndUs))[0], e);
        AwaitAssert(() =>
        {
            var c = Counters(stream);
            Assert.Equal((n - 1L, 1L, (long)n, 1L), (c.CacheHits, c.CacheMisses, c.InputsEncoded, c.Batches));
        }, Wait);
    }

    [Fact]
    public void A_burst_of_one_frozen_frame_costs_one_model_input_however_the_frames_queue()
    {
        var (stream, alignment) = StartCamera(ImageDigits(), RepeatCacheOptions.Default);
        // A, then B ten times without waiting: whether the Bs queue behind A or not, the batch B starts ends before its
        // first repeat, and the repeats get B's evidence.
        stream.Tell(CameraFrame(0, Sample[0].Image), TestActor);
        for (var k = 1; k <= 10; k++) stream.Tell(CameraFrame(k, (float[])Sample[1].Image.Clone()), TestActor);
        var evidence = Evidence(alignment, 11);
        Assert.Equal(Enumerable.Range(0, 11).Select(k => (long)k), evidence.Select(e => e.LastSeq));
        AwaitAssert(() => Assert.Equal((9L, 2L, 2L), (Counters(stream).CacheHits, Counters(stream).CacheMisses, Counters(stream).Batches)), Wait);
    }

    [Fact]
    public void A_changing_camera_never_hits_and_the_no_op_encoder_is_never_cached()
    {
        var (stream, alignment) = StartCamera(ImageDigits(), new RepeatCacheOptions { Entries = 4 });
        const int n = 10;
        var image = Sample[1].Image;
        for (var k = 0; k < n; k++)
        {
            // Each frame one ulp from the one before: as close as a frame can be without repeating it.
            var frame = (float[])image.Clone();
            frame[k] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(frame[k]) + 1);
            stream.Tell(CameraFrame(k, frame), TestActor);
            Evidence(alignment, 1);
        }
        AwaitAssert(() => Assert.Equal((0L, (long)n, (long)n), (Counters(stream).CacheHits, Counters(stream).CacheMisses, Counters(stream).InputsEncoded)), Wait);

        var noopSpec = CameraSpec("noop");
        var noop = new RegistryEncoderProvider(_models).Resolve(noopSpec, Labels.Length);
        Assert.False(new RepeatCache(RepeatCacheOptions.Default).Serves(noop));
        var (still, stillAlignment) = StartCamera(noop, RepeatCacheOptions.Default, noopSpec);
        for (var k = 0; k < n; k++)
        {
            still.Tell(CameraFrame(k, image), TestActor);
            Evidence(stillAlignment, 1);
        }
        AwaitAssert(() => Assert.Equal((0L, 0L, (long)n), (Counters(still).CacheHits, Counters(still).CacheMisses, Counters(still).InputsEncoded)), Wait);
    }

    [Fact]
    public void An_encoder_restart_clears_the_cache()
    {
        var (stream, alignment) = StartCamera(ImageDigits(), new RepeatCacheOptions { Entries = 2 });
        var a = Sample[0].Image;
        var b = Sample[1].Image;
        stream.Tell(CameraFrame(0, a), TestActor);
        Evidence(alignment, 1);
        stream.Tell(CameraFrame(1, a), TestActor);
        Evidence(alignment, 1);
        AwaitAssert(() => Assert.Equal((1L, 1L), (Counters(stream).CacheHits, Counters(stream).CacheMisses)), Wait);
        // The armed crash takes the next batch (b), the restarted encoder retries b: its cache holds b, not a.
        stream.Tell(new CrashEncoder(Session, Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        stream.Tell(CameraFrame(2, b), TestActor);
        Evidence(alignment, 1);
        AwaitAssert(() => Assert.Equal(1, Counters(stream).EncoderRestarts), Wait);
        stream.Tell(CameraFrame(3, a), TestActor);
        Evidence(alignment, 1);
        stream.Tell(CameraFrame(4, b), TestActor);
        Evidence(alignment, 1);
        AwaitAssert(() =>
        {
            var c = Counters(stream);
            // a missed after the restart (a cache kept through it would have hit), b hit from the retry's entry.
            Assert.Equal((2L, 3L, 1L), (c.CacheHits, c.CacheMisses, c.EncoderFailures));
        }, Wait);
    }

    /// <summary>The committed catalog with image-digits at <paramref name="version"/>: a copy of its file in the temporary directory.</summary>
    private string WriteCatalog(string version)
    {
        var committed = ModelCatalog.FindDefault();
        var root = JsonNode.Parse(File.ReadAllText(committed.Path))!;
        foreach (var m in root["models"]!.AsArray())
        {
            var name = (string)m!["name"]!;
            m["file"] = committed.Get(name).FilePath;
            if (name != "image-digits") continue;
            m["version"] = version;
            var copy = Path.Combine(_dir, $"{name}-{version}.onnx");
            if (!File.Exists(copy)) File.Copy(committed.Get(name).FilePath, copy);
            m["file"] = copy;
        }
        var path = Path.Combine(_dir, "models.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    [Fact]
    public void A_model_switch_clears_the_cache_and_the_new_version_encodes_the_repeat()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("v1")));
        var resolved = new RegistryEncoderProvider(registry).Resolve(CameraSpec(), Labels.Length);
        var (stream, alignment) = StartCamera(resolved, RepeatCacheOptions.Default);
        var image = Sample[5].Image;
        stream.Tell(CameraFrame(0, image), TestActor);
        stream.Tell(CameraFrame(1, image), TestActor);
        var before = Evidence(alignment, 2);
        Assert.All(before, e => Assert.Equal("image-digits@v1", e.Model));
        AwaitAssert(() => Assert.Equal((1L, 1L), (Counters(stream).CacheHits, Counters(stream).CacheMisses)), Wait);

        WriteCatalog("v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "image-digits").Outcome);
        // Frames of the next window, past the switch point (the window of the frames sent before the reload stays on v1).
        stream.Tell(CameraFrame(10, image), TestActor);
        stream.Tell(CameraFrame(11, image), TestActor);
        var after = Evidence(alignment, 2);
        // The first repeat after the switch runs on v2 (a kept v1 output would have named v1), the next hits v2's.
        Assert.All(after, e => Assert.Equal("image-digits@v2", e.Model));
        AwaitAssert(() => Assert.Equal((2L, 2L), (Counters(stream).CacheHits, Counters(stream).CacheMisses)), Wait);
        AssertSameBits(before[1] with { StartUs = after[1].StartUs, EndUs = after[1].EndUs, LastSeq = after[1].LastSeq, Model = "image-digits@v2" }, after[1]);
    }

    [Fact]
    public void Around_a_switch_point_a_repeat_gets_the_output_of_the_version_its_window_runs_on()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("v1")));
        var resolved = new RegistryEncoderProvider(registry).Resolve(CameraSpec(), Labels.Length);
        var (stream, alignment) = StartCamera(resolved, RepeatCacheOptions.Default);
        var image = Sample[5].Image;
        stream.Tell(CameraFrame(0, image), TestActor);
        Assert.Equal("image-digits@v1", Evidence(alignment, 1)[0].Model);

        WriteCatalog("v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "image-digits").Outcome);
        // Window 0 goes on on v1 (its frame 1 is encoded by v1 and kept), window 1 starts on v2: the same image there must
        // not get v1's kept output.
        stream.Tell(CameraFrame(1, image), TestActor);
        Assert.Equal("image-digits@v1", Evidence(alignment, 1)[0].Model);
        stream.Tell(CameraFrame(10, image), TestActor);
        stream.Tell(CameraFrame(11, image), TestActor);
        stream.Tell(CameraFrame(2, image), TestActor); // window 0 again, reordered: runs on v1
        var after = Evidence(alignment, 3);
        Assert.Equal(["image-digits@v2", "image-digits@v2", "image-digits@v1"], after.Select(e => e.Model));
        // Encoded: frames 0 and 1 (v1; the cache was emptied at the reload), 10 (v2), and 2 (v1 again: the cache keeps one
        // entry by default, and v2's output of frame 10 took its place); served from the cache: 11 (v2's output).
        AwaitAssert(() => Assert.Equal((1L, 4L), (Counters(stream).CacheHits, Counters(stream).CacheMisses)), Wait);
    }

    [PretrainedFact]
    public void A_stateful_model_is_never_cached()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(Path.Combine(Path.GetDirectoryName(PretrainedModels.CatalogPath)!, "four-modalities.json")));
        var voice = new StreamSpec
        {
            StreamId = "voice", Modality = "voice", Model = "silero-vad", FrameLength = 320, SampleRateHz = 16_000,
            Framing = Framing.Windowed(36_000, 32_000), MaxFutureSkewUs = 3_600_000_000, IdleTimeout = TimeSpan.FromSeconds(30),
        };
        var resolved = new RegistryEncoderProvider(registry).Resolve(voice, Labels);
        Assert.True(resolved.Stateful);
        Assert.False(new RepeatCache(RepeatCacheOptions.Default).Serves(resolved));
        var (stream, alignment) = StartCamera(resolved, RepeatCacheOptions.Default, voice);
        var silence = new float[320];
        for (var k = 0; k < 40; k++) stream.Tell(new Frame(Session, "voice", k, k * 20_000L, silence), TestActor);
        Evidence(alignment, 10);
        var c = Counters(stream);
        Assert.Equal((0L, 0L), (c.CacheHits, c.CacheMisses));
        Assert.True(c.InputsEncoded >= 10);
    }

    [Fact]
    public void A_frozen_camera_fuses_exactly_as_with_the_cache_off_and_fades_with_freshness()
    {
        var registry = new RegistryEncoderProvider(_models);
        IEncoderProvider Node(RepeatCacheOptions cache) => new NodeEncoderProvider(registry, new NodeEncoding(null, new PendingEncoderInputs(100_000), cache));
        const int windows = 6;
        List<FusedResult> Run(string id, RepeatCacheOptions cache, out StreamCounters camera)
        {
            var session = Sys.ActorOf(SessionProps(id, Node(cache)));
            // One camera input per batch in both runs: the comparison is of the cache, not of batch shapes (the committed
            // models give the same bits in a batch and alone on the build machine, but a runtime's kernels need not).
            var spec = Spec(id, cameraIdle: TimeSpan.FromSeconds(30));
            spec = spec with { Streams = [.. spec.Streams.Select(s => s.StreamId == Camera ? s with { MaxBatch = 1 } : s)] };
            session.Tell(new OpenSession(spec, 0), TestActor);
            ExpectMsg<SessionOpened>(Wait);
            var probe = CreateTestProbe();
            session.Tell(new Subscribe(id, probe.Ref), TestActor);
            ExpectMsg<Subscribed>(Wait);
            // The camera froze on window 0's digit; the audio goes on with each window's own.
            for (var w = 0; w < windows; w++)
            {
                foreach (var f in AudioFrames(id, w, Sample[w], w * 50L)) session.Tell(f, TestActor);
                foreach (var f in CameraFrames(id, w, Sample[0], w * 10L)) session.Tell(f with { Payload = (float[])f.Payload.Clone() }, TestActor);
            }
            session.Tell(new CloseStream(id, Audio), TestActor);
            session.Tell(new CloseStream(id, Camera), TestActor);
            var results = new Dictionary<long, FusedResult>();
            while (results.Count < windows)
            {
                var r = (FusedResult)probe.FishForMessage(m => m is FusedResult, Wait);
                results[r.WindowStartUs] = r; // the latest revision of each window
            }
            StreamCounters? counters = null;
            AwaitAssert(() =>
            {
                session.Tell(new GetSessionStatus(id), TestActor);
                counters = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera).Counters;
                Assert.Equal(10L * windows, counters.InputsEncoded);
            }, Wait);
            camera = counters!;
            return [.. results.Values.OrderBy(r => r.WindowStartUs)];
        }

        var on = Run("repeat-on", RepeatCacheOptions.Default, out var cameraOn);
        var off = Run("repeat-off", RepeatCacheOptions.Off, out var cameraOff);
        Assert.Equal((0L, 0L), (cameraOff.CacheHits, cameraOff.CacheMisses));
        Assert.True(cameraOn.CacheHits > 0, $"hits {cameraOn.CacheHits}");
        Assert.Equal(10L * windows, cameraOn.CacheHits + cameraOn.CacheMisses);
        Assert.True(cameraOn.Batches < cameraOff.Batches, $"batches {cameraOn.Batches} with the cache, {cameraOff.Batches} without");
        for (var w = 0; w < windows; w++)
        {
            var (a, b) = (on[w], off[w]);
            Assert.Equal((a.WindowStartUs, a.Revision, a.Status, a.TopClass, a.Policy), (b.WindowStartUs, b.Revision, b.Status, b.TopClass, b.Policy));
            Assert.Equal(a.Posterior.Select(BitConverter.DoubleToInt64Bits), b.Posterior.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.Confidence), BitConverter.DoubleToInt64Bits(b.Confidence));
            Assert.Equal(a.Weights.OrderBy(kv => kv.Key).Select(kv => (kv.Key, BitConverter.DoubleToInt64Bits(kv.Value))),
                b.Weights.OrderBy(kv => kv.Key).Select(kv => (kv.Key, BitConverter.DoubleToInt64Bits(kv.Value))));
            Assert.Equal(a.FusedEmbedding.Select(BitConverter.SingleToInt32Bits), b.FusedEmbedding.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(a.Missing, b.Missing);
            Assert.Equal(a.Models, b.Models);
        }
        // Freshness still fades the frozen camera: its weight falls window by window as its information ages.
        Assert.True(on[^1].Weights["image"] < on[0].Weights["image"], $"image weight {on[0].Weights["image"]} -> {on[^1].Weights["image"]}");
    }

    private (SerializerWithStringManifest Serializer, string Manifest, byte[] Bytes) ToWire(object message)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        return (serializer, serializer.Manifest(message), serializer.ToBinary(message));
    }

    private static SessionStatus StatusWith(StreamCounters counters) => new("w", true,
        [new StreamStatus("w", Camera, "image", StreamState.Active, 1, 0, 0, 0, counters)], null, null);

    [Fact]
    public void The_cache_counters_survive_the_wire_and_a_negative_count_is_refused_as_malformed()
    {
        var (s, m, b) = ToWire(StatusWith(new StreamCounters { InputsEncoded = 40, CacheHits = 30, CacheMisses = 10 }));
        var back = ((SessionStatus)s.FromBinary(b, m)).Streams[0].Counters;
        Assert.Equal((30L, 10L), (back.CacheHits, back.CacheMisses));
        var json = Encoding.UTF8.GetString(b);
        foreach (var (field, hostile) in new[] { ("\"cacheHits\":30", "\"cacheHits\":-1"), ("\"cacheMisses\":10", "\"cacheMisses\":-10") })
        {
            Assert.Contains(field, json, StringComparison.OrdinalIgnoreCase);
            var bad = Encoding.UTF8.GetBytes(json.Replace(field, hostile, StringComparison.OrdinalIgnoreCase));
            Assert.Contains("malformed", Assert.Throws<SerializationException>(() => s.FromBinary(bad, m)).Message);
        }
    }

    [Fact]
    public void The_cache_bounds_bind_from_fusion_streams_and_refuse_values_out_of_range()
    {
        var defaults = FusionOptions.FromHocon(FusionConfig.DefaultsText);
        Assert.Equal(RepeatCacheOptions.Default, defaults.RepeatCache);
        var set = FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.streams { repeat-cache-entries = 3, repeat-cache-max-input-bytes = 4096 }\n");
        Assert.Equal(new RepeatCacheOptions { Entries = 3, MaxInputBytes = 4096 }, set.RepeatCache);
        Assert.Equal(0, FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.streams.repeat-cache-entries = 0\n").RepeatCache.Entries);
        Assert.Contains("repeat-cache-entries", Assert.Throws<FormatException>(() =>
            FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.streams.repeat-cache-entries = -1\n")).Message);
        Assert.Contains("repeat-cache-max-input-bytes", Assert.Throws<FormatException>(() =>
            FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.streams.repeat-cache-max-input-bytes = 99999999\n")).Message);
    }

    void IDisposable.Dispose()
    {
        _models.Dispose();
        Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
