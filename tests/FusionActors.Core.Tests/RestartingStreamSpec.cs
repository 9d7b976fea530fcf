using Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Tests;

/// <summary>An encoder that crashes after it delivered evidence for a window must not void that evidence.</summary>
public sealed class RestartingStreamSpec
{
    private static readonly SessionSpec Spec = new()
    {
        SessionId = "s",
        Labels = ["a", "b"],
        Streams =
        [
            new StreamSpec { StreamId = "audio", Modality = "audio", Model = "m", FrameLength = 1 },
            new StreamSpec { StreamId = "camera", Modality = "image", Model = "m", FrameLength = 1 },
        ],
    };

    private static AlignedWindow Window() => new(0, 1_000_000, 0, new Dictionary<string, IReadOnlyList<Evidence>>
    {
        ["audio"] = [],
        ["camera"] = [new Evidence("camera", "image", 900_000, 1_000_000, [], [Math.Log(0.1), Math.Log(0.9)], 1, 9)],
    }, 1_000_000, 0);

    [Fact]
    public void Evidence_encoded_before_a_crash_is_weighed_with_the_reliability_it_was_produced_at()
    {
        var engine = new FusionEngine(Spec);
        var streams = new Dictionary<string, StreamSnapshot>
        {
            ["audio"] = new(StreamState.Active, 1.0),
            ["camera"] = new(StreamState.Restarting, 0.0, EvidenceReliability: 0.95),
        };
        var r = engine.Fuse("s", Window(), streams);
        Assert.Equal(FusedStatus.Fused, r.Status);
        Assert.Equal(1, r.TopClass);
        Assert.Equal(1.0, r.Weights["image"], 9);
        Assert.Equal(StreamState.Restarting, r.States["camera"]);
    }

    [Fact]
    public void A_restarting_stream_that_never_delivered_evidence_has_no_weight()
    {
        var engine = new FusionEngine(Spec);
        var streams = new Dictionary<string, StreamSnapshot>
        {
            ["audio"] = new(StreamState.Active, 1.0),
            ["camera"] = new(StreamState.Restarting, 0.0),
        };
        var r = engine.Fuse("s", Window(), streams);
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
    }
}
