using System.Runtime.Serialization;
using System.Text;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The W3C traceparent a frame may carry, on the wire as the server's configuration binds it: optional, bounded,
/// checked; an oversized one fails the message, an invalid one is ignored (the frame is taken without it) and counted.
/// </summary>
public sealed class TraceContextWireSpec() : TestKit(LocalConfig)
{
    private const string Valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private SerializerWithStringManifest Serializer => (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new Frame("s", Audio, 0, 0, []));

    /// <summary>A frame outside a batch, written by hand: header 3 (session and trace), then the trace field as given.</summary>
    private static byte[] FrameWithTrace(byte length, byte[] trace)
    {
        var bytes = new List<byte> { 3 };
        void Str(string s)
        {
            bytes.AddRange(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(s)));
            bytes.AddRange(Encoding.UTF8.GetBytes(s));
        }
        Str("s");
        bytes.Add(length);
        bytes.AddRange(trace);
        Str(Audio);
        bytes.AddRange(BitConverter.GetBytes(7L));
        bytes.AddRange(BitConverter.GetBytes(20_000L));
        bytes.AddRange(BitConverter.GetBytes(1));
        bytes.AddRange(BitConverter.GetBytes(0.3f)); // raw float32: no 16-bit PCM or 8-bit pixel value, so not packed
        return [.. bytes];
    }

    [Fact]
    public void A_traceparent_round_trips_on_a_frame_and_in_a_batch_and_a_frame_without_one_stays_as_small_as_before()
    {
        var frame = new Frame("s", Audio, 7, 20_000, [0.3f]) { TraceParent = Valid };
        var back = (Frame)Serializer.FromBinary(Serializer.ToBinary(frame), "F");
        Assert.Equal(Valid, back.TraceParent);
        Assert.Equal((frame.SessionId, frame.StreamId, frame.Seq, frame.EventTimeUs), (back.SessionId, back.StreamId, back.Seq, back.EventTimeUs));

        var batch = new FrameBatch("s", [frame, frame with { Seq = 8, TraceParent = null }]);
        var batchBack = (FrameBatch)Serializer.FromBinary(Serializer.ToBinary(batch), "B");
        Assert.Equal([Valid, null], batchBack.Frames.Select(f => f.TraceParent));

        var plain = Serializer.ToBinary(frame with { TraceParent = null });
        Assert.Equal(plain.Length + 1 + W3CTraceContext.Length, Serializer.ToBinary(frame).Length);
        Assert.Equal(FrameWithTrace(55, Encoding.ASCII.GetBytes(Valid)), Serializer.ToBinary(frame)); // the documented layout
    }

    [Theory]
    [InlineData(56)]
    [InlineData(255)]
    public void An_oversized_traceparent_fails_the_message_with_a_serialization_error(int length)
    {
        var bytes = FrameWithTrace((byte)length, Encoding.ASCII.GetBytes(new string('a', length)));
        var error = Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, "F"));
        Assert.Contains("trace context of", error.Message);
    }

    [Theory]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", TraceParentStatus.BadFormat)] // uppercase
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", TraceParentStatus.ZeroId)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", TraceParentStatus.ZeroId)]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceParentStatus.UnsupportedVersion)]
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceParentStatus.UnsupportedVersion)]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", TraceParentStatus.BadFormat)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g", TraceParentStatus.BadFormat)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", TraceParentStatus.WrongLength)]
    [InlineData("", TraceParentStatus.WrongLength)]
    public void An_invalid_traceparent_is_ignored_the_frame_is_taken_without_it_and_it_is_counted(string trace, TraceParentStatus status)
    {
        Assert.Equal(status, W3CTraceContext.Check(trace));
        var ignoredBefore = W3CTraceContext.Ignored;
        var raw = Encoding.ASCII.GetBytes(trace);
        var frame = (Frame)Serializer.FromBinary(FrameWithTrace((byte)raw.Length, raw), "F");
        Assert.Null(frame.TraceParent);
        Assert.Equal((7L, 20_000L), (frame.Seq, frame.EventTimeUs));
        Assert.Equal([0.3f], frame.Payload);
        Assert.True(frame.FromWire);
        Assert.True(W3CTraceContext.Ignored > ignoredBefore);

        // This process never sends one: a frame made with an invalid traceparent goes without it.
        var sent = (Frame)Serializer.FromBinary(Serializer.ToBinary(new Frame("s", Audio, 1, 0, []) { TraceParent = trace }), "F");
        Assert.Null(sent.TraceParent);
    }

    [Fact]
    public void A_truncated_traceparent_or_an_unknown_header_bit_fails_the_message()
    {
        var bytes = FrameWithTrace(55, Encoding.ASCII.GetBytes(Valid));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes[..20], "F"));
        var unknown = (byte[])bytes.Clone();
        unknown[0] = 3 | 4;
        Assert.Contains("header", Assert.Throws<SerializationException>(() => Serializer.FromBinary(unknown, "F")).Message);
        Assert.Equal(TraceParentStatus.BadFormat, W3CTraceContext.Check("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0\u00e9"));
    }
}
