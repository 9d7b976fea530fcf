using System.Buffers;
using System.Buffers.Binary;
using System.Linq.Expressions;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams.Serialization;
using FusionActors.Protocol;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Binary wire format of the hot messages (frames, frame batches, heartbeats): no JSON on the hot path.
/// Little-endian; strings are UTF-8 with a length prefix; payloads are raw float32. A malformed buffer
/// gives a <see cref="SerializationException"/> that says what was wrong, never a half-built message.
/// What it builds is marked <see cref="ProtocolMessage.FromWire"/>.
/// <para>
/// A frame starts with a header byte: bit 0 says its session id follows, bit 1 that a W3C traceparent follows
/// (<see cref="Frame.TraceParent"/>: one length byte, then at most <see cref="W3CTraceContext.Length"/> ASCII bytes).
/// A longer traceparent fails the message; one of a valid length that is not a valid traceparent is ignored (the
/// frame is taken without it, <see cref="W3CTraceContext.Ignored"/> counts it). Bits 3 and 4 say how the payload is
/// written, losslessly: neither, raw float32 (4 bytes a value); bit 3, every value is k/32768 for a 16-bit k (16-bit PCM
/// audio), written as k (2 bytes); bit 4, every value is k/255 for an 8-bit k (8-bit pixels), written as k (1 byte). The
/// writer picks a packed form only when every value of the frame reads back bit for bit (so never for -0, NaN or
/// infinities); the reader rebuilds exactly those floats. Any other header bit, or both, fails the message.
/// </para>
/// <para>
/// It also carries the elements of a session's frame stream (the SinkRef's <c>SequencedOnNext</c>, bound here by
/// <see cref="WireConfig"/>): one carrying a <see cref="FrameBatch"/> is its stream seq (8 bytes) and the batch in a
/// compact form of the format above (<see cref="CompactBatch"/>), written once into one buffer, where Akka's stream-ref
/// serializer would copy the batch three more times; any other element is written by Akka's stream-ref serializer, unchanged.
/// </para>
/// </summary>
public sealed class FrameSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 161;
    private const string FrameManifest = "F";
    private const string BatchManifest = "B";
    private const string HeartbeatManifest = "H";
    private const string SequencedBatchManifest = "S";
    private const string SequencedOtherManifest = "SA";
    private const int MaxStringBytes = 1024;
    private const int MinBatchedFrameBytes = 1 + 4 + 8 + 8 + 4; // header, stream id length, seq, event time, payload length

    private StreamRefSerializer? _streamRefs;

    public override int Identifier => Id;

    /// <summary>Akka's serializer of stream-ref messages: what writes and reads every stream element that is not a batch.</summary>
    private StreamRefSerializer StreamRefs => _streamRefs ??= new StreamRefSerializer(base.system);

    public override string Manifest(object o) => o switch
    {
        Frame => FrameManifest,
        FrameBatch => BatchManifest,
        StreamHeartbeat => HeartbeatManifest,
        _ when Sequenced.Is(o) => Sequenced.PayloadOf(o) is FrameBatch ? SequencedBatchManifest : SequencedOtherManifest,
        _ => throw new ArgumentException($"{nameof(FrameSerializer)} cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        if (Sequenced.Is(obj))
        {
            if (Sequenced.PayloadOf(obj) is not FrameBatch batch) return StreamRefs.ToBinary(obj);
            return CompactBatch(Sequenced.SeqNrOf(obj), batch);
        }
        // Sized exactly up front: a batch of audio frames is ~80 KB, and growing a buffer by doubling would
        // copy it several times and end on the large-object heap at 128 KB. Each payload's form is found once.
        if (obj is Frame single)
        {
            var packing = PayloadPacking.Of(single.Payload);
            var one = new Writer(FrameSize(single, withSession: true, packing));
            WriteFrame(ref one, single, withSession: true, packing);
            return one.ToArray();
        }
        if (obj is FrameBatch batchOf)
        {
            var packings = ArrayPool<byte>.Shared.Rent(batchOf.Frames.Count);
            try
            {
                var size = Str(batchOf.SessionId) + Str(batchOf.Credential) + 4;
                for (var i = 0; i < batchOf.Frames.Count; i++)
                {
                    var f = batchOf.Frames[i];
                    packings[i] = (byte)PayloadPacking.Of(f.Payload);
                    size += FrameSize(f, f.SessionId != batchOf.SessionId, packings[i]);
                }
                var all = new Writer(size);
                all.String(batchOf.SessionId);
                all.OptionalString(batchOf.Credential);
                all.Int(batchOf.Frames.Count);
                for (var i = 0; i < batchOf.Frames.Count; i++)
                    WriteFrame(ref all, batchOf.Frames[i], withSession: batchOf.Frames[i].SessionId != batchOf.SessionId, packings[i]);
                return all.ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(packings);
            }
        }
        var writer = new Writer(SizeOf(obj));
        switch (obj)
        {
            case StreamHeartbeat h:
                writer.String(h.SessionId);
                writer.String(h.StreamId);
                writer.Long(h.WatermarkUs);
                writer.OptionalString(h.Credential);
                break;
            default:
                throw new ArgumentException($"{nameof(FrameSerializer)} cannot serialize {obj.GetType()}", nameof(obj));
        }
        return writer.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == SequencedOtherManifest) return StreamRefs.FromBinary(bytes, StreamRefSequencedManifest);
        var reader = new Reader(bytes);
        if (manifest == SequencedBatchManifest)
        {
            var seqNr = reader.Long();
            var batch = ReadCompactBatch(ref reader);
            if (!reader.AtEnd) throw new SerializationException($"{bytes.Length - reader.Position} trailing bytes after a '{manifest}' message");
            batch.FromWire = true;
            return Sequenced.Make(seqNr, batch);
        }
        ProtocolMessage result = manifest switch
        {
            FrameManifest => ReadFrame(ref reader, null),
            BatchManifest => ReadBatch(ref reader),
            HeartbeatManifest => new StreamHeartbeat(reader.String(), reader.String(), reader.Long(), reader.OptionalString()),
            _ => throw new SerializationException($"unknown manifest '{manifest}' for {nameof(FrameSerializer)}"),
        };
        if (!reader.AtEnd) throw new SerializationException($"{bytes.Length - reader.Position} trailing bytes after a '{manifest}' message");
        result.FromWire = true;
        return result;
    }

    private static int Str(string? s) => 4 + (s is null ? 0 : Encoding.UTF8.GetByteCount(s));

    private static int FrameSize(Frame f, bool withSession, int packing) => 1 + (withSession ? Str(f.SessionId) : 0) + (Traced(f) ? 1 + W3CTraceContext.Length : 0)
        + Str(f.StreamId) + 8 + 8 + 4 + PayloadPacking.BytesPerValue(packing) * f.Payload.Length;

    private static int SizeOf(object obj)
    {
        switch (obj)
        {
            case StreamHeartbeat h: return Str(h.SessionId) + Str(h.StreamId) + 8 + Str(h.Credential);
            default: return 256;
        }
    }

    private const byte HasSession = 1, HasTrace = 2, PackedQ15 = 8, PackedU8 = 16;

    /// <summary>
    /// The most bytes <paramref name="frame"/> takes inside a batch of its session (its payload as raw float32: a packed
    /// form only takes less). A batch is the sum of its frames plus <see cref="BatchHeaderBytes"/>.
    /// </summary>
    public static int BatchedBytes(Frame frame) => 1 + (Traced(frame) ? 1 + W3CTraceContext.Length : 0) + 4 + Encoding.UTF8.GetByteCount(frame.StreamId)
        + 8 + 8 + 4 + 4 * frame.Payload.Length;

    /// <summary>The most bytes a batch takes besides its frames: the session id and credential (each at most 1024 bytes), the count.</summary>
    public const int BatchHeaderBytes = 4 + MaxStringBytes + 4 + MaxStringBytes + 4;

    /// <summary>The most frames in a batch of a session's frame stream (<see cref="SequencedBatchManifest"/>).</summary>
    public const int MaxFramesPerBatch = 16_384;

    private const byte SameStream = 32;
    private const int MinCompactFrameBytes = 4; // header, seq delta, event time delta, payload count

    private static int VarSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }
        return n;
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    /// <summary>
    /// A batch as an element of a session's frame stream: the stream seq, the session id, the credential, the frame count,
    /// then each frame with its header byte (<see cref="SameStream"/>: the stream id of the frame before), its seq as a
    /// zigzag varint of its distance from the seq after the frame before's (-1 before the first), its event time as a
    /// zigzag varint from the frame before's (0 before the first), and its payload count as a varint before the values.
    /// A frame of a run takes its payload and 4 to 7 bytes.
    /// </summary>
    private static byte[] CompactBatch(long seqNr, FrameBatch b)
    {
        var frames = b.Frames;
        if (frames.Count > MaxFramesPerBatch)
            throw new ArgumentException($"a batch of {frames.Count} frames: a session's frame stream takes at most {MaxFramesPerBatch}", nameof(b));
        var packings = ArrayPool<byte>.Shared.Rent(frames.Count);
        try
        {
            var size = 8 + Str(b.SessionId) + Str(b.Credential) + 4;
            string? stream = null;
            long seq = -1, time = 0;
            for (var i = 0; i < frames.Count; i++)
            {
                var f = frames[i];
                var packing = PayloadPacking.Of(f.Payload);
                packings[i] = (byte)packing;
                size += 1 + (f.SessionId != b.SessionId ? Str(f.SessionId) : 0) + (Traced(f) ? 1 + W3CTraceContext.Length : 0)
                    + (f.StreamId == stream ? 0 : Str(f.StreamId)) + VarSize(ZigZag(unchecked(f.Seq - (seq + 1)))) + VarSize(ZigZag(unchecked(f.EventTimeUs - time)))
                    + VarSize((ulong)f.Payload.Length) + PayloadPacking.BytesPerValue(packing) * f.Payload.Length;
                (stream, seq, time) = (f.StreamId, f.Seq, f.EventTimeUs);
            }
            var w = new Writer(size);
            w.Long(seqNr);
            w.String(b.SessionId);
            w.OptionalString(b.Credential);
            w.Int(frames.Count);
            (stream, seq, time) = (null, -1, 0);
            for (var i = 0; i < frames.Count; i++)
            {
                var f = frames[i];
                var packing = packings[i];
                var withSession = f.SessionId != b.SessionId;
                var traced = Traced(f);
                var same = f.StreamId == stream;
                w.Byte((byte)((withSession ? HasSession : 0) | (traced ? HasTrace : 0) | (same ? SameStream : 0)
                    | (packing == PayloadPacking.Q15 ? PackedQ15 : packing == PayloadPacking.U8 ? PackedU8 : 0)));
                if (withSession) w.String(f.SessionId);
                if (traced) w.Ascii(f.TraceParent!);
                if (!same) w.String(f.StreamId);
                w.VarULong(ZigZag(unchecked(f.Seq - (seq + 1))));
                w.VarULong(ZigZag(unchecked(f.EventTimeUs - time)));
                w.VarULong((ulong)f.Payload.Length);
                switch (packing)
                {
                    case PayloadPacking.Q15: w.Q15Values(f.Payload); break;
                    case PayloadPacking.U8: w.U8Values(f.Payload); break;
                    default: w.FloatValues(f.Payload); break;
                }
                (stream, seq, time) = (f.StreamId, f.Seq, f.EventTimeUs);
            }
            return w.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(packings);
        }
    }

    private static FrameBatch ReadCompactBatch(ref Reader r)
    {
        var session = r.String();
        var credential = r.OptionalString();
        var count = r.Int();
        if (count < 0 || count > MaxFramesPerBatch || count > r.Remaining / MinCompactFrameBytes)
            throw new SerializationException($"bad frame count {count} with {r.Remaining} bytes left (at most {MaxFramesPerBatch})");
        var frames = new Frame[count];
        string? stream = null;
        long seq = -1, time = 0;
        for (var i = 0; i < count; i++)
        {
            var header = r.Byte();
            if ((header & ~(HasSession | HasTrace | PackedQ15 | PackedU8 | SameStream)) != 0 || (header & (PackedQ15 | PackedU8)) == (PackedQ15 | PackedU8))
                throw new SerializationException($"bad frame header byte {header}");
            var frameSession = (header & HasSession) != 0 ? r.String() : session;
            var trace = (header & HasTrace) != 0 ? r.TraceParent() : null;
            if ((header & SameStream) != 0 && stream is null) throw new SerializationException("the first frame of a batch cannot take the stream id of the frame before");
            stream = (header & SameStream) != 0 ? stream! : r.String();
            seq = unchecked(seq + 1 + UnZigZag(r.VarULong()));
            time = unchecked(time + UnZigZag(r.VarULong()));
            var n = r.VarCount();
            var payload = (header & PackedQ15) != 0 ? r.Q15(n) : (header & PackedU8) != 0 ? r.U8(n) : r.Floats(n);
            frames[i] = new Frame(frameSession, stream, seq, time, payload) { TraceParent = trace, FromWire = true };
        }
        return new FrameBatch(session, frames, credential);
    }

    /// <summary>The manifest Akka's stream-ref serializer gives a <c>SequencedOnNext</c>.</summary>
    private const string StreamRefSequencedManifest = "A";

    /// <summary>
    /// Akka.Streams' stream element message (<c>SequencedOnNext</c>: a stream seq and the element) is internal to it:
    /// it is reached by name, once, through compiled accessors (FrameSerializerSpec checks them). Were the type gone from
    /// a later Akka.Streams, the binding in <see cref="WireConfig"/> would resolve nothing (Akka logs a warning) and the
    /// elements would keep Akka's own format; were its members changed, the first element would fail to serialize.
    /// </summary>
    private static class Sequenced
    {
        public const string TypeName = "Akka.Streams.Implementation.StreamRef.SequencedOnNext, Akka.Streams";

        private static readonly Type? Found = System.Type.GetType(TypeName, throwOnError: false);

        private static Type Type => Found ?? throw new TypeLoadException($"{TypeName} is not in this Akka.Streams");

        private static readonly Lazy<(Func<object, long> SeqNr, Func<object, object> Payload, Func<long, object, object> Make)> Access =
            new(() => (Getter<long>("SeqNr"), Getter<object>("Payload"), Constructor()));

        public static bool Is(object o) => Found is not null && o.GetType() == Found;

        public static long SeqNrOf(object o) => Access.Value.SeqNr(o);

        public static object PayloadOf(object o) => Access.Value.Payload(o);

        public static object Make(long seqNr, object payload) => Access.Value.Make(seqNr, payload);

        private static Func<object, T> Getter<T>(string property)
        {
            var o = Expression.Parameter(typeof(object));
            var p = Type.GetProperty(property) ?? throw new MissingMemberException(TypeName, property);
            return Expression.Lambda<Func<object, T>>(Expression.Convert(Expression.Property(Expression.Convert(o, Type), p), typeof(T)), o).Compile();
        }

        private static Func<long, object, object> Constructor()
        {
            var seq = Expression.Parameter(typeof(long));
            var payload = Expression.Parameter(typeof(object));
            var ctor = Type.GetConstructor([typeof(long), typeof(object)]) ?? throw new MissingMemberException(TypeName, ".ctor(long, object)");
            return Expression.Lambda<Func<long, object, object>>(Expression.New(ctor, seq, payload), seq, payload).Compile();
        }
    }

    /// <summary>The name Akka's configuration knows the stream element message by (<see cref="WireConfig"/> binds it to this serializer).</summary>
    public static string StreamElementTypeName => Sequenced.TypeName;

    // A traceparent set in this process that is not valid is not sent: the node would ignore it anyway.
    private static bool Traced(Frame f) => f.TraceParent is { } t && W3CTraceContext.Check(t) == TraceParentStatus.Valid;

    private static void WriteFrame(ref Writer w, Frame f, bool withSession, int packing)
    {
        var traced = Traced(f);
        var packed = packing switch { PayloadPacking.Q15 => PackedQ15, PayloadPacking.U8 => PackedU8, _ => 0 };
        w.Byte((byte)((withSession ? HasSession : 0) | (traced ? HasTrace : 0) | packed));
        if (withSession) w.String(f.SessionId);
        if (traced) w.Ascii(f.TraceParent!);
        w.String(f.StreamId);
        w.Long(f.Seq);
        w.Long(f.EventTimeUs);
        switch (packing)
        {
            case PayloadPacking.Q15: w.Q15(f.Payload); break;
            case PayloadPacking.U8: w.U8(f.Payload); break;
            default: w.Floats(f.Payload); break;
        }
    }

    private static Frame ReadFrame(ref Reader r, string? batchSession)
    {
        var header = r.Byte();
        if ((header & ~(HasSession | HasTrace | PackedQ15 | PackedU8)) != 0 || (header & (PackedQ15 | PackedU8)) == (PackedQ15 | PackedU8))
            throw new SerializationException($"bad frame header byte {header}");
        var hasSession = (header & HasSession) != 0;
        if (!hasSession && batchSession is null) throw new SerializationException("a frame outside a batch must carry its session id");
        var session = hasSession ? r.String() : batchSession!;
        var trace = (header & HasTrace) != 0 ? r.TraceParent() : null;
        var stream = r.String();
        var seq = r.Long();
        var eventTime = r.Long();
        var payload = (header & PackedQ15) != 0 ? r.Q15() : (header & PackedU8) != 0 ? r.U8() : r.Floats();
        return new Frame(session, stream, seq, eventTime, payload) { TraceParent = trace };
    }

    private static FrameBatch ReadBatch(ref Reader r)
    {
        var session = r.String();
        var credential = r.OptionalString();
        var count = r.Int();
        // The smallest frame in a batch takes 25 bytes: a count beyond what is left cannot be true, and must not size an array.
        if (count < 0 || count > r.Remaining / MinBatchedFrameBytes) throw new SerializationException($"bad frame count {count} with {r.Remaining} bytes left");
        var frames = new Frame[count];
        for (var i = 0; i < count; i++)
        {
            frames[i] = ReadFrame(ref r, session);
            frames[i].FromWire = true;
        }
        return new FrameBatch(session, frames, credential);
    }

    private struct Writer(int capacity)
    {
        private byte[] _buffer = new byte[capacity];
        private int _length;

        public void Byte(byte b)
        {
            Ensure(1);
            _buffer[_length++] = b;
        }

        public void Int(int v)
        {
            Ensure(4);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), v);
            _length += 4;
        }

        public void Long(long v)
        {
            Ensure(8);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), v);
            _length += 8;
        }

        public void String(string s)
        {
            var n = Encoding.UTF8.GetByteCount(s);
            Int(n);
            Ensure(n);
            _length += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_length));
        }

        /// <summary>A length of -1 stands for null.</summary>
        public void OptionalString(string? s)
        {
            if (s is null) Int(-1);
            else String(s);
        }

        /// <summary>A short ASCII string (a checked traceparent): one length byte, then its bytes.</summary>
        public void Ascii(string s)
        {
            Ensure(1 + s.Length);
            _buffer[_length++] = (byte)s.Length;
            for (var i = 0; i < s.Length; i++) _buffer[_length++] = (byte)s[i];
        }

        public void Floats(float[] values)
        {
            Int(values.Length);
            FloatValues(values);
        }

        public void FloatValues(float[] values)
        {
            var bytes = MemoryMarshal.AsBytes(values.AsSpan());
            Ensure(bytes.Length);
            if (BitConverter.IsLittleEndian) bytes.CopyTo(_buffer.AsSpan(_length));
            else
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_length + 4 * i), values[i]);
            _length += bytes.Length;
        }

        /// <summary>Values that are all k/32768 (<see cref="PayloadPacking.Q15"/>): their count, then each k as a 16-bit integer.</summary>
        public void Q15(float[] values)
        {
            Int(values.Length);
            Q15Values(values);
        }

        public void Q15Values(float[] values)
        {
            Ensure(2 * values.Length);
            var span = _buffer.AsSpan(_length, 2 * values.Length);
            PayloadPacking.WriteQ15(values, span);
            _length += span.Length;
        }

        /// <summary>Values that are all k/255 (<see cref="PayloadPacking.U8"/>): their count, then each k as a byte.</summary>
        public void U8(float[] values)
        {
            Int(values.Length);
            U8Values(values);
        }

        public void U8Values(float[] values)
        {
            Ensure(values.Length);
            var span = _buffer.AsSpan(_length, values.Length);
            for (var i = 0; i < values.Length; i++) span[i] = (byte)MathF.Round(values[i] * 255f);
            _length += span.Length;
        }

        public void VarULong(ulong v)
        {
            Ensure(VarSize(v));
            while (v >= 0x80)
            {
                _buffer[_length++] = (byte)(v | 0x80);
                v >>= 7;
            }
            _buffer[_length++] = (byte)v;
        }

        public byte[] ToArray() => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();

        private void Ensure(int more)
        {
            if (_length + more <= _buffer.Length) return;
            Array.Resize(ref _buffer, Math.Max(Math.Max(_buffer.Length * 2, 256), _length + more));
        }
    }

    private ref struct Reader(byte[] bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int Position { get; private set; }
        public int Remaining => _bytes.Length - Position;
        public bool AtEnd => Position == _bytes.Length;

        public byte Byte() => Take(1)[0];

        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public string String()
        {
            var n = Int();
            if (n < 0 || n > MaxStringBytes) throw new SerializationException($"bad string length {n}");
            return Encoding.UTF8.GetString(Take(n));
        }

        public string? OptionalString()
        {
            var n = Int();
            if (n == -1) return null;
            if (n < 0 || n > MaxStringBytes) throw new SerializationException($"bad string length {n}");
            return Encoding.UTF8.GetString(Take(n));
        }

        /// <summary>A traceparent: bounded (longer fails the message), checked, and null when it is not valid.</summary>
        public string? TraceParent()
        {
            var n = Byte();
            if (n > W3CTraceContext.Length) throw new SerializationException($"trace context of {n} bytes: at most {W3CTraceContext.Length}");
            var raw = Take(n);
            if (W3CTraceContext.Check(raw) != TraceParentStatus.Valid)
            {
                W3CTraceContext.CountIgnored();
                return null;
            }
            return Encoding.ASCII.GetString(raw);
        }

        public float[] Floats() => Floats(Int());

        public float[] Floats(int n)
        {
            if (n < 0 || n > Remaining / 4) throw new SerializationException($"bad payload length {n} with {Remaining} bytes left");
            var raw = Take(4 * n);
            var values = new float[n];
            if (BitConverter.IsLittleEndian) raw.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            else
                for (var i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
            return values;
        }

        public float[] Q15() => Q15(Int());

        public float[] Q15(int n)
        {
            if (n < 0 || n > Remaining / 2) throw new SerializationException($"bad payload length {n} with {Remaining} bytes left");
            var raw = Take(2 * n);
            var values = new float[n];
            PayloadPacking.ReadQ15(raw, values);
            return values;
        }

        public float[] U8() => U8(Int());

        public float[] U8(int n)
        {
            if (n < 0 || n > Remaining) throw new SerializationException($"bad payload length {n} with {Remaining} bytes left");
            var raw = Take(n);
            var values = new float[n];
            var table = PayloadPacking.U8Values;
            for (var i = 0; i < n; i++) values[i] = table[raw[i]];
            return values;
        }

        /// <summary>An unsigned LEB128 varint of at most 10 bytes (64 bits); anything longer or wider fails the message.</summary>
        public ulong VarULong()
        {
            ulong v = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var b = Byte();
                if (shift == 63 && b > 1) throw new SerializationException("varint wider than 64 bits");
                v |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw new SerializationException("varint longer than 10 bytes");
        }

        /// <summary>A varint that counts something: at most <see cref="int.MaxValue"/>.</summary>
        public int VarCount()
        {
            var v = VarULong();
            if (v > int.MaxValue) throw new SerializationException($"bad count {v}");
            return (int)v;
        }

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n > Remaining) throw new SerializationException($"message truncated: needed {n} bytes at {Position}, {Remaining} left");
            var span = _bytes.Slice(Position, n);
            Position += n;
            return span;
        }
    }
}
