using System.Runtime.Serialization;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The binary wire format of frames, as the server's configuration binds it.</summary>
public sealed class FrameSerializerSpec() : TestKit(LocalConfig)
{
    private T RoundTrip<T>(T message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message!);
        Assert.IsType<FrameSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message!);
        var bytes = serializer.ToBinary(message!);
        return (T)Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
    }

    [Fact]
    public void Frames_batches_and_heartbeats_are_bound_to_the_binary_serializer_and_round_trip()
    {
        var pcm = Sample[0].Pcm.AsSpan(0, 320).ToArray();
        var frame = RoundTrip(new Frame("s-ü", Audio, 42, -7_000_000, pcm));
        Assert.Equal(("s-ü", Audio, 42L, -7_000_000L), (frame.SessionId, frame.StreamId, frame.Seq, frame.EventTimeUs));
        Assert.Equal(pcm, frame.Payload);

        var batch = RoundTrip(new FrameBatch("s", [new Frame("s", Audio, 0, 0, pcm), new Frame("s", Camera, 1, 5, Sample[0].Image)]));
        Assert.Equal(2, batch.Frames.Count);
        Assert.Equal(Sample[0].Image, batch.Frames[1].Payload);
        Assert.Equal("s", batch.Frames[1].SessionId);

        var hb = RoundTrip(new StreamHeartbeat("s", Camera, 123_456));
        Assert.Equal(new StreamHeartbeat("s", Camera, 123_456), hb);
    }

    [Fact]
    public void A_frame_costs_its_payload_plus_a_small_header_on_the_wire()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new Frame("s", Audio, 0, 0, new float[320]));
        var bytes = serializer.ToBinary(new Frame("session-1", Audio, 0, 0, new float[320]));
        Assert.InRange(bytes.Length, 320 * 4, 320 * 4 + 64);
    }

    [Fact]
    public void Truncated_or_corrupt_bytes_give_a_serialization_error_that_says_what_is_wrong()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new Frame("s", Audio, 0, 0, new float[4]));
        var bytes = serializer.ToBinary(new Frame("s", Audio, 0, 0, new float[4]));
        var truncated = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..^3], "F"));
        Assert.Contains("left", truncated.Message);
        var trailing = Assert.Throws<SerializationException>(() => serializer.FromBinary([.. bytes, 0], "F"));
        Assert.Contains("trailing", trailing.Message);
        var corrupt = (byte[])bytes.Clone();
        corrupt[0] = 7;
        Assert.Throws<SerializationException>(() => serializer.FromBinary(corrupt, "F"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "X"));
    }
}
