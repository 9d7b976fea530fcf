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
        var floats = Enumerable.Range(0, 320).Select(i => MathF.Sin(i * 0.1f) / 3).ToArray();
        var bytes = serializer.ToBinary(new Frame("session-1", Audio, 0, 0, floats));
        Assert.InRange(bytes.Length, 320 * 4, 320 * 4 + 64);
        // 16-bit PCM takes 2 bytes a sample, 8-bit pixels 1 byte a pixel.
        var pcm = Sample[0].Pcm.AsSpan(4000, 320).ToArray();
        Assert.InRange(serializer.ToBinary(new Frame("session-1", Audio, 0, 0, pcm)).Length, 320 * 2, 320 * 2 + 64);
        Assert.InRange(serializer.ToBinary(new Frame("session-1", Camera, 0, 0, Sample[0].Image)).Length, 64, 64 + 64);
    }

    public static TheoryData<string, float[]> Payloads() => new()
    {
        { "16-bit PCM", Sample[1].Pcm.AsSpan(3000, 320).ToArray() },
        { "PCM extremes", [-1f, 32767 / 32768f, 1 / 32768f, 0f] },
        { "PCM of an odd length", [.. Sample[2].Pcm.AsSpan(5000, 333), -1f, 32767 / 32768f] }, // vector loop, then the tail
        { "8-bit pixels", Sample[1].Image },
        { "pixel extremes", [0f, 1f, 1 / 255f, 254 / 255f] },
        { "one value off the PCM grid", [.. Sample[1].Pcm.AsSpan(3000, 31), 1 / 65536f, 0.5f] },
        { "negative zero", [0f, -0f, 0.5f, 0.25f, 0.125f, 0f, 0f, 0f, 0f] },
        { "negative zero among pixels", [-0f, 1f] },
        { "just above a pixel", [BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1 / 255f) + 1)] },
        { "1 and above", [1f, 0.5f, 1.5f] },
        { "non-finite", [float.NaN, 0f, float.PositiveInfinity, float.NegativeInfinity, 0f, 0f, 0f, 0f, 0f, 0f] },
        { "subnormal", [float.Epsilon, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f] },
        { "empty", [] },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Every_payload_reads_back_bit_for_bit_whatever_form_it_took_on_the_wire(string what, float[] payload)
    {
        var back = RoundTrip(new FrameBatch("s", [new Frame("s", Audio, 0, 0, payload), new Frame("s", Camera, 1, 0, payload)]));
        foreach (var f in back.Frames)
            Assert.True(payload.Select(BitConverter.SingleToInt32Bits).SequenceEqual(f.Payload.Select(BitConverter.SingleToInt32Bits)), what);
    }

    [Fact]
    public void A_packed_payload_that_lies_about_its_length_or_claims_both_forms_is_refused()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new Frame("s", Audio, 0, 0, new float[4]));
        var pcm = serializer.ToBinary(new Frame("s", Audio, 0, 0, [0.5f, -0.5f, 0.25f, 0f]));
        Assert.Equal(8, pcm[0] & 8); // the PCM form
        var countAt = pcm.Length - 2 * 4 - 4;
        var lying = (byte[])pcm.Clone();
        BitConverter.GetBytes(5).CopyTo(lying, countAt);
        Assert.Contains("payload length", Assert.Throws<SerializationException>(() => serializer.FromBinary(lying, "F")).Message);
        BitConverter.GetBytes(-1).CopyTo(lying, countAt);
        Assert.Contains("payload length", Assert.Throws<SerializationException>(() => serializer.FromBinary(lying, "F")).Message);
        var both = (byte[])pcm.Clone();
        both[0] |= 16;
        Assert.Contains("header", Assert.Throws<SerializationException>(() => serializer.FromBinary(both, "F")).Message);
        var pixels = serializer.ToBinary(new Frame("s", Camera, 0, 0, [0f, 1f]));
        Assert.Equal(16, pixels[0] & 16); // the pixel form
        var tooMany = (byte[])pixels.Clone();
        BitConverter.GetBytes(3).CopyTo(tooMany, pixels.Length - 2 - 4);
        Assert.Contains("payload length", Assert.Throws<SerializationException>(() => serializer.FromBinary(tooMany, "F")).Message);
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

    // Akka.Streams' stream element message is internal to it: made and read by reflection, as the serializer reaches it.
    private static readonly Type SequencedOnNext = Type.GetType("Akka.Streams.Implementation.StreamRef.SequencedOnNext, Akka.Streams", throwOnError: true)!;

    private static object Sequenced(long seqNr, object payload) => Activator.CreateInstance(SequencedOnNext, seqNr, payload)!;

    private static (long SeqNr, object Payload) Unpack(object sequenced) =>
        ((long)SequencedOnNext.GetProperty("SeqNr")!.GetValue(sequenced)!, SequencedOnNext.GetProperty("Payload")!.GetValue(sequenced)!);

    [Fact]
    public void A_frame_stream_element_carrying_a_batch_is_written_once_compactly_and_reads_back_exactly()
    {
        var pcm = Sample[0].Pcm.AsSpan(4000, 320).ToArray();
        var floats = Enumerable.Range(0, 320).Select(i => MathF.Sin(i * 0.1f) / 3).ToArray();
        const string trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Frame[] frames =
        [
            new("s", Audio, 0, 0, pcm),
            new("s", Audio, 1, 20_000, floats),
            new("s", Camera, 7, 5, Sample[0].Image) { TraceParent = trace },
            new("s", Camera, 3, -9_000_000, []), // seqs and times out of order, negative, far apart
            new("other-session", Audio, long.MaxValue, long.MinValue, [1f]),
            new("s", Audio, long.MinValue, long.MaxValue, [float.NaN]),
        ];
        var batch = new FrameBatch("s", frames, "capability");
        var element = Sequenced(77, batch);
        var serializer = Sys.Serialization.FindSerializerFor(element);
        Assert.IsType<FrameSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, element);
        Assert.Equal("S", manifest);
        var bytes = serializer.ToBinary(element);
        var (seqNr, payload) = Unpack(Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest));
        Assert.Equal(77, seqNr);
        var back = Assert.IsType<FrameBatch>(payload);
        Assert.True(back.FromWire);
        Assert.Equal(("s", "capability"), (back.SessionId, back.Credential));
        Assert.Equal(frames.Length, back.Frames.Count);
        for (var i = 0; i < frames.Length; i++)
        {
            var (want, got) = (frames[i], back.Frames[i]);
            Assert.True(got.FromWire);
            Assert.Equal((want.SessionId, want.StreamId, want.Seq, want.EventTimeUs, want.TraceParent), (got.SessionId, got.StreamId, got.Seq, got.EventTimeUs, got.TraceParent));
            Assert.Equal(want.Payload.Select(BitConverter.SingleToInt32Bits), got.Payload.Select(BitConverter.SingleToInt32Bits));
        }

        // A run of 64 audio frames of one stream, 20 ms apart: each its packed payload and 7 bytes at most.
        var run = new FrameBatch("s", Enumerable.Range(0, 64).Select(i => new Frame("s", Audio, 1000 + i, i * 20_000L, pcm)).ToArray());
        Assert.InRange(serializer.ToBinary(Sequenced(1, run)).Length, 64 * 640, 64 * (640 + 7) + 64);
    }

    [Fact]
    public void A_compact_batch_that_lies_is_refused_with_what_is_wrong()
    {
        var element = Sequenced(1, new FrameBatch("s", [new Frame("s", Audio, 0, 0, [0.5f, 0.25f]), new Frame("s", Audio, 1, 20_000, [0.5f, 0.25f])]));
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(element);
        var bytes = serializer.ToBinary(element);
        const int countAt = 8 + 4 + 1 + 4; // seq, session id ("s"), no credential
        const int first = countAt + 4;
        Assert.Equal(8, bytes[first] & 8); // packed as PCM
        Assert.Equal(32, bytes[first + 1 + 4 + Audio.Length + 3 + 2 * 2] & 32); // the second frame takes the first's stream id
        SerializationException Refused(byte[] b) => Assert.Throws<SerializationException>(() => serializer.FromBinary(b, "S"));

        var tooMany = (byte[])bytes.Clone();
        BitConverter.GetBytes(FrameSerializer.MaxFramesPerBatch + 1).CopyTo(tooMany, countAt);
        Assert.Contains("frame count", Refused(tooMany).Message);
        var sameFirst = (byte[])bytes.Clone();
        sameFirst[first] |= 32;
        Assert.Contains("first frame", Refused(sameFirst).Message);
        // A varint that never ends, and one wider than 64 bits.
        var seqAt = first + 1 + 4 + Audio.Length;
        byte[] endless = [.. bytes[..seqAt], .. Enumerable.Repeat((byte)0xFF, 11), .. bytes[seqAt..]];
        Assert.Contains("varint", Refused(endless).Message);
        byte[] wide = [.. bytes[..seqAt], .. Enumerable.Repeat((byte)0xFF, 9), 0x02, .. bytes[(seqAt + 1)..]];
        Assert.Contains("varint", Refused(wide).Message);
        // A payload count beyond the bytes left, and one beyond int.
        var lying = (byte[])bytes.Clone();
        lying[seqAt + 2] = 100;
        Assert.Contains("payload length", Refused(lying).Message);
        byte[] huge = [.. bytes[..(seqAt + 2)], 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, .. bytes[(seqAt + 3)..]];
        Assert.Contains("count", Refused(huge).Message);
        Assert.Contains("trailing", Refused([.. bytes, 0]).Message);
        Assert.Contains("left", Refused(bytes[..^1]).Message);
    }

    [Fact]
    public void A_frame_stream_element_that_is_not_a_batch_keeps_the_stream_ref_format()
    {
        var element = Sequenced(3, new CloseStream("s", Audio));
        var serializer = Sys.Serialization.FindSerializerFor(element);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, element);
        Assert.Equal("SA", manifest);
        var (seqNr, payload) = Unpack(Sys.Serialization.Deserialize(serializer.ToBinary(element), serializer.Identifier, manifest));
        Assert.Equal(3, seqNr);
        Assert.Equal(new CloseStream("s", Audio), payload);
    }

    [Fact]
    public void A_truncated_padded_or_lying_frame_stream_element_is_refused_with_what_is_wrong()
    {
        var element = Sequenced(1, new FrameBatch("s", [new Frame("s", Audio, 0, 0, new float[4])]));
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(element);
        var bytes = serializer.ToBinary(element);
        Assert.Contains("truncated", Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..5], "S")).Message);
        Assert.Contains("left", Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..^3], "S")).Message);
        Assert.Contains("trailing", Assert.Throws<SerializationException>(() => serializer.FromBinary([.. bytes, 0], "S")).Message);
        // A frame count far beyond what the bytes could hold must not size an array.
        var lying = (byte[])bytes.Clone();
        var countAt = 8 + 4 + 1 + 4; // seq, session id ("s"), no credential
        BitConverter.GetBytes(int.MaxValue).CopyTo(lying, countAt);
        Assert.Contains("frame count", Assert.Throws<SerializationException>(() => serializer.FromBinary(lying, "S")).Message);
        var badHeader = (byte[])bytes.Clone();
        badHeader[countAt + 4] = 0x80;
        Assert.Contains("header", Assert.Throws<SerializationException>(() => serializer.FromBinary(badHeader, "S")).Message);
        // A session id longer than any allowed is refused before it is read.
        var longId = (byte[])bytes.Clone();
        BitConverter.GetBytes(1 << 30).CopyTo(longId, 8);
        Assert.Contains("string length", Assert.Throws<SerializationException>(() => serializer.FromBinary(longId, "S")).Message);
    }
}
