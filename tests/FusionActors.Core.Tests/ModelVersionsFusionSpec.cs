using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>Each result names the model versions of its window's evidence, in stream order; a switch shows in the window it splits.</summary>
public class ModelVersionsFusionSpec
{
    private static readonly double[] P = [0.6, 0.3, 0.1];

    private static SessionSpec AudioVideoModels() =>
        Session(Stream("audio") with { Model = "am" }, Stream("video") with { Model = "vm" }) with { Window = WindowSpec.Tumbling(Sec) };

    private static Evidence E(string stream, long startUs, string model) => Ev(stream, startUs, startUs + 100 * Ms, P) with { Model = model };

    [Fact]
    public void Results_must_name_the_versions_of_their_evidence_and_both_in_a_window_a_switch_splits()
    {
        var engine = new FusionEngine(AudioVideoModels()) { ModelVersions = ["am@1", "vm@1"] };
        var healthy = Healthy("audio", "video");
        var steady = engine.Fuse("s1", Window(0, Sec, 0, E("audio", 0, "am@1"), E("video", 0, "vm@1")), healthy);
        // Unchanged versions: the list the session opened with, shared, so naming them allocates nothing.
        Assert.Same(engine.ModelVersions, steady.Models);

        // The audio stream moves to version 2 halfway through window 1.
        var split = engine.Fuse("s1", Window(Sec, 2 * Sec, 0, E("audio", Sec, "am@1"), E("audio", Sec + 500 * Ms, "am@2"), E("video", Sec, "vm@1")), healthy);
        Assert.Equal(["am@1", "am@2", "vm@1"], split.Models);
        var after = engine.Fuse("s1", Window(2 * Sec, 3 * Sec, 0, E("audio", 2 * Sec, "am@2"), E("video", 2 * Sec, "vm@1")), healthy);
        Assert.Equal(["am@2", "vm@1"], after.Models);
        var again = engine.Fuse("s1", Window(3 * Sec, 4 * Sec, 0, E("audio", 3 * Sec, "am@2"), E("video", 3 * Sec, "vm@1")), healthy);
        Assert.Same(after.Models, again.Models);

        // A window without a stream's evidence names the version that stream runs now (its newest evidence's).
        var videoOnly = engine.Fuse("s1", Window(4 * Sec, 5 * Sec, 0, E("video", 4 * Sec, "vm@1")), healthy);
        Assert.Equal(["am@2", "vm@1"], videoOnly.Models);
        // A late revision of an old window names its own evidence and does not take the stream back to version 1.
        var revised = engine.Fuse("s1", Window(0, Sec, 1, E("audio", 0, "am@1"), E("video", 0, "vm@1")), healthy);
        Assert.Equal(["am@1", "vm@1"], revised.Models);
        var next = engine.Fuse("s1", Window(5 * Sec, 6 * Sec, 0, E("video", 5 * Sec, "vm@1")), healthy);
        Assert.Equal(["am@2", "vm@1"], next.Models);
    }

    [Fact]
    public void Evidence_without_a_version_must_leave_the_versions_the_session_opened_with()
    {
        var engine = new FusionEngine(AudioVideoModels()) { ModelVersions = ["am@1", "vm@1"] };
        var r = engine.Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, P), Ev("video", 0, Sec, P)), Healthy("audio", "video"));
        Assert.Same(engine.ModelVersions, r.Models);
        Assert.Empty(new FusionEngine(AudioVideoModels()).Fuse("s1", Window(0, Sec, 0, Ev("audio", 0, Sec, P)), Healthy("audio", "video")).Models);
    }
}
