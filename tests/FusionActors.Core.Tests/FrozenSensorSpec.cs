using Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Tests;

/// <summary>A frozen camera repeats its last frame: new event times, no new information.</summary>
public sealed class FrozenSensorSpec
{
    private static Frame Camera(long seq, long t, float[] payload) => new("s", "camera", seq, t, payload);

    [Fact]
    public void Exact_repeats_of_a_frame_keep_the_information_time_of_the_first_one()
    {
        var framer = new PerFrameFramer("camera", 0);
        var image = new float[] { 0.1f, 0.2f, 0.3f };
        framer.Add(Camera(0, 100_000, image), long.MinValue);
        framer.Add(Camera(1, 200_000, (float[])image.Clone()), long.MinValue);
        framer.Add(Camera(2, 300_000, (float[])image.Clone()), long.MinValue);
        framer.Add(Camera(3, 400_000, [0.1f, 0.2f, 0.31f]), long.MinValue);
        var inputs = framer.Drain(long.MaxValue);
        Assert.Equal([null, 100_000L, 100_000L, null], inputs.Select(i => i.ContentEndUs));
    }

    [Fact]
    public void A_reordered_repeat_is_compared_with_the_frame_before_it_in_event_time_not_the_last_to_arrive()
    {
        var framer = new PerFrameFramer("camera", 0);
        var a = new float[] { 0.1f, 0.2f };
        var b = new float[] { 0.7f, 0.8f };
        framer.Add(Camera(0, 100_000, a), long.MinValue);
        framer.Add(Camera(2, 300_000, b), long.MinValue); // overtook frame 1 on the network
        framer.Add(Camera(1, 200_000, (float[])a.Clone()), long.MinValue); // repeats frame 0, not frame 2
        framer.Add(Camera(3, 400_000, (float[])b.Clone()), long.MinValue); // repeats frame 2
        var inputs = framer.Drain(long.MaxValue);
        Assert.Equal([null, null, 100_000L, 300_000L], inputs.Select(i => i.ContentEndUs));
    }

    [Fact]
    public void Evidence_of_a_frozen_sensor_fades_with_the_age_of_its_content()
    {
        var spec = new SessionSpec
        {
            SessionId = "s",
            Labels = ["a", "b"],
            Streams = [new StreamSpec { StreamId = "camera", Modality = "image", Model = "m", FrameLength = 3, FreshnessTauUs = 1_000_000 }],
        };
        var engine = new FusionEngine(spec);
        var logp = new[] { Math.Log(0.9), Math.Log(0.1) };
        AlignedWindow Window(Evidence e) => new(1_000_000, 2_000_000, 0,
            new Dictionary<string, IReadOnlyList<Evidence>> { ["camera"] = [e] }, 2_000_000, 0);
        var streams = new Dictionary<string, StreamSnapshot> { ["camera"] = new(StreamState.Active, 1.0) };

        var fresh = new Evidence("camera", "image", 1_900_000, 2_000_000, [], logp, 1, 1);
        var frozen = fresh with { ContentEndUs = 500_000 };
        var wFresh = engine.Fuse("s", Window(fresh), streams);
        var wFrozen = engine.Fuse("s", Window(frozen), streams);
        // Alone, the modality still decides (weights are renormalised), but its raw weight carries the age.
        Assert.Equal(wFresh.TopClass, wFrozen.TopClass);

        var two = spec with
        {
            Streams = [spec.Streams[0], new StreamSpec { StreamId = "audio", Modality = "audio", Model = "m", FrameLength = 3 }],
        };
        var both = new FusionEngine(two);
        var audio = new Evidence("audio", "audio", 1_000_000, 2_000_000, [], [Math.Log(0.2), Math.Log(0.8)], 1, 1);
        AlignedWindow Pair(Evidence cam) => new(1_000_000, 2_000_000, 0,
            new Dictionary<string, IReadOnlyList<Evidence>> { ["camera"] = [cam], ["audio"] = [audio] }, 2_000_000, 0);
        var snap = new Dictionary<string, StreamSnapshot> { ["camera"] = new(StreamState.Active, 1.0), ["audio"] = new(StreamState.Active, 1.0) };
        var withFresh = both.Fuse("s", Pair(fresh), snap);
        var withFrozen = both.Fuse("s", Pair(frozen), snap);
        Assert.True(withFrozen.Weights["image"] < withFresh.Weights["image"] * 0.5,
            $"frozen image weight {withFrozen.Weights["image"]} should fade well below fresh {withFresh.Weights["image"]}");
        Assert.Equal(1, withFrozen.TopClass);
    }
}
