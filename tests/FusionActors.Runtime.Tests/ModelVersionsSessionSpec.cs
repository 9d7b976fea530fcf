using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>Results name the model versions of their evidence; a reload changes them for new sessions and unpinned running ones.</summary>
public sealed class ModelVersionsSessionSpec() : TestKit(LocalConfig), IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "fusion-versions-" + Guid.NewGuid().ToString("N"))).FullName;

    // The committed catalog with its files made absolute and audio-digits at another version.
    private string WriteCatalog(string audioVersion)
    {
        var committed = ModelCatalog.FindDefault();
        var root = JsonNode.Parse(File.ReadAllText(committed.Path))!;
        foreach (var m in root["models"]!.AsArray())
        {
            var name = (string)m!["name"]!;
            m["file"] = committed.Get(name).FilePath;
            if (name == "audio-digits") m["version"] = audioVersion;
        }
        var path = Path.Combine(_dir, "models.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        return (T)Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
    }

    private FusedResult[] Results(Akka.Actor.IActorRef session, string id, int fromWindow, int windows, Akka.TestKit.TestProbe probe)
    {
        for (var w = fromWindow; w < fromWindow + windows + 1; w++)
        {
            foreach (var f in AudioFrames(id, w, Sample[w % Sample.Count], w * 50)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, Sample[w % Sample.Count], w * 10)) session.Tell(f, TestActor);
        }
        return Enumerable.Range(0, windows).Select(_ => (FusedResult)probe.FishForMessage(m => m is FusedResult, TimeSpan.FromSeconds(30))).ToArray();
    }

    private (Akka.Actor.IActorRef Session, Akka.TestKit.TestProbe Probe) Open(string id, IEncoderProvider encoders)
    {
        var session = Sys.ActorOf(SessionProps(id, encoders));
        session.Tell(new OpenSession(Spec(id), 0), TestActor);
        ExpectMsg<SessionOpened>(TimeSpan.FromSeconds(30));
        var probe = CreateTestProbe();
        session.Tell(new Subscribe(id, probe.Ref), TestActor);
        ExpectMsg<Subscribed>(TimeSpan.FromSeconds(15));
        return (session, probe);
    }

    [Fact]
    public void Results_must_name_the_versions_of_their_evidence_and_a_reload_must_change_them_for_new_and_running_sessions()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("v1")));
        var encoders = new RegistryEncoderProvider(registry);
        var (a, probeA) = Open("ver-a", encoders);
        var before = Results(a, "ver-a", 0, 2, probeA);
        var image = registry.Catalog.Get("image-digits").Version;
        Assert.Equal(["audio-digits@v1", $"image-digits@{image}"], before[0].Models);
        // One list for the session: naming the versions allocates nothing per result.
        Assert.Same(before[0].Models, before[1].Models);
        Assert.Equal(before[0].Models, RoundTrip(before[0]).Models);

        WriteCatalog("v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "audio-digits").Outcome);

        var (b, probeB) = Open("ver-b", encoders);
        Assert.Equal(["audio-digits@v2", $"image-digits@{image}"], Results(b, "ver-b", 0, 1, probeB)[0].Models);
        // The running session follows the new version from its next batch on (ModelHotSwapSpec has the boundary).
        Assert.All(Results(a, "ver-a", 3, 1, probeA), r => Assert.Equal("audio-digits@v2", r.Models[0]));
    }

    private static SessionSpec PinnedSpec(string id, string? audioVersion) => Spec(id) with
    {
        Streams = [.. Spec(id).Streams.Select(s => s.StreamId == Audio ? s with { ModelVersion = audioVersion } : s)],
    };

    [Fact]
    public void A_stream_pinned_to_a_version_must_get_it_while_the_node_holds_it_and_be_refused_naming_it_otherwise()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("v1")));
        var encoders = new RegistryEncoderProvider(registry);
        var (a, probeA) = Open("pin-a", encoders);
        Assert.Equal("audio-digits@v1", Results(a, "pin-a", 0, 1, probeA)[0].Models[0]);
        WriteCatalog("v2");
        registry.Reload();

        // v1 is still open (pin-a runs on it): a stream pinned to it gets it; the wire carries the pin.
        var open = RoundTrip(new OpenSession(PinnedSpec("pin-b", "v1"), 0));
        Assert.Equal("v1", open.Spec.Streams.Single(s => s.StreamId == Audio).ModelVersion);
        var b = Sys.ActorOf(SessionProps("pin-b", encoders));
        b.Tell(open, TestActor);
        ExpectMsg<SessionOpened>(TimeSpan.FromSeconds(30));
        var probeB = CreateTestProbe();
        b.Tell(new Subscribe("pin-b", probeB.Ref), TestActor);
        ExpectMsg<Subscribed>(TimeSpan.FromSeconds(15));
        Assert.Equal("audio-digits@v1", Results(b, "pin-b", 0, 1, probeB)[0].Models[0]);

        foreach (var (version, expected) in new[] { ("v9", "version 'v9' is not on this node (it serves 'v2')"), ("a/b", "modelVersion must be") })
        {
            var c = Sys.ActorOf(SessionProps($"pin-{expected.Length}", encoders));
            c.Tell(new OpenSession(PinnedSpec($"pin-{expected.Length}", version), 0), TestActor);
            Assert.Contains(expected, ExpectMsg<CommandRejected>(TimeSpan.FromSeconds(30)).Reason);
        }
    }

    [Theory]
    [InlineData("too-many")]
    [InlineData("too-long")]
    [InlineData("empty")]
    [InlineData("null-entry")]
    [InlineData("not-a-list")]
    public void A_result_whose_models_are_out_of_bounds_must_not_deserialize(string attack)
    {
        var valid = new FusedResult("s", 0, 1, 0, FusedStatus.Fused, [1.0], 0, "0", 1, 0, new Dictionary<string, double>(), [], [], [],
            new Dictionary<string, StreamState>(), 0, "adaptive") { Models = ["audio-digits@1"] };
        var serializer = Sys.Serialization.FindSerializerFor(valid);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, valid);
        var json = JsonNode.Parse(serializer.ToBinary(valid))!;
        Assert.NotNull(json["Models"]);
        json["Models"] = attack switch
        {
            "too-many" => new JsonArray(Enumerable.Range(0, FusedResult.MaxModels + 1).Select(i => (JsonNode)$"m{i}@1").ToArray()),
            "too-long" => new JsonArray(new string('x', FusedResult.MaxModelTagLength + 1)),
            "empty" => new JsonArray(""),
            "null-entry" => new JsonArray((JsonNode?)null),
            _ => JsonValue.Create("audio-digits@1"),
        };
        var bytes = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest));
        // Building one in code is refused the same way.
        Assert.Throws<ArgumentException>(() => valid with { Models = Enumerable.Repeat("m@1", FusedResult.MaxModels + 1).ToArray() });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
