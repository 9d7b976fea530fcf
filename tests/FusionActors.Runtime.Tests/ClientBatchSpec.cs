using FusionActors.Client;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;

namespace FusionActors.Runtime.Tests;

/// <summary>What the client puts on the wire stays under the transport's frame size, whatever the frames.</summary>
public sealed class ClientBatchSpec
{
    private static Frame Of(int floats, long seq) => new("s", "audio", seq, seq * 1000, new float[floats]);

    [Fact]
    public void Batches_are_cut_by_payload_bytes_as_well_as_by_count_and_closes_keep_their_place()
    {
        // 64 frames of 256 KB would be a 16 MB message: four times what the transport carries.
        var group = Enumerable.Range(0, 64).Select(i => (IWithSessionId)Of(65_536, i)).ToList();
        group.Insert(10, new CloseStream("s", "camera"));
        var batches = SessionLink.Batches("s", group, 1 << 20).ToList();
        var frames = batches.OfType<FrameBatch>().ToList();
        Assert.All(frames, b => Assert.True(b.Frames.Sum(f => f.PayloadBytes) <= 1 << 20));
        Assert.Equal(Enumerable.Range(0, 64).Select(i => (long)i), frames.SelectMany(b => b.Frames).Select(f => f.Seq));
        Assert.IsType<CloseStream>(batches[batches.FindIndex(m => m is FrameBatch b && b.Frames[^1].Seq == 9) + 1]);
        // A frame bigger than the limit still travels alone (the push refuses those before they get here).
        Assert.Single(Assert.IsType<FrameBatch>(Assert.Single(SessionLink.Batches("s", [Of(300_000, 0)], 1 << 20))).Frames);
        // Small frames still share batches up to the count the caller grouped.
        Assert.Single(SessionLink.Batches("s", Enumerable.Range(0, 64).Select(i => (IWithSessionId)Of(320, i)), 1 << 20));
    }

    [Fact]
    public void Batches_count_the_headers_of_their_frames_not_only_the_payloads()
    {
        // 50,000 one-value frames on a stream with a long id: 200 KB of payload, but 6.5 MB on the wire in one batch.
        var stream = new string('s', 100);
        var group = Enumerable.Range(0, 50_000).Select(i => (IWithSessionId)new Frame("s", stream, i, i, [0.5f])).ToList();
        var batches = SessionLink.Batches("s", group, 1 << 20).Cast<FrameBatch>().ToList();
        Assert.True(batches.Count >= 7, $"{batches.Count} batches");
        Assert.All(batches, b => Assert.True(b.Frames.Sum(FrameSerializer.BatchedBytes) <= 1 << 20));
        Assert.Equal(50_000, batches.Sum(b => b.Frames.Count));
    }
}
