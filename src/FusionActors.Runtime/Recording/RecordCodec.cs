using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The binary form of one record (a chunk's plaintext; docs/recording.md): kind, wall µs, monotonic ms, then the
/// kind's fields, little-endian. Strings are a u16 byte count and UTF-8, collections an i32 count, every one of them
/// bounded on read; a record that breaks a bound or leaves bytes over is malformed. The spec is the one
/// exception to "binary": the JSON of the concrete <see cref="SessionSpec"/> type, read as strictly as the wire reads it.
/// </summary>
public static class RecordCodec
{
    /// <summary>Bytes of a string field.</summary>
    public const int MaxStringBytes = 4096;

    /// <summary>Characters of a stream-state reason kept (longer ones are cut).</summary>
    public const int MaxReasonChars = 1024;

    /// <summary>Bytes of the spec's JSON.</summary>
    public const int MaxSpecBytes = 1 << 20;

    /// <summary>Entries of a result's posterior, weights, missing or imputed list.</summary>
    public const int MaxListEntries = 65_536;

    internal static readonly JsonSerializerOptions SpecJson = new()
    {
        MaxDepth = 16,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        IgnoreReadOnlyProperties = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };

    // ---- writing (the recording actor's thread, into its thread's encoder) ----

    /// <summary>The start of every record: kind and the two clock readings.</summary>
    internal static void Head(RecordEncoder w, RecordKind kind, long wallUs, long monoMs)
    {
        w.U8((byte)kind);
        w.I64(wallUs);
        w.I64(monoMs);
    }

    internal static void Spec(RecordEncoder w, long wallUs, long monoMs, SessionSpec spec, long clockOffsetUs)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(spec, SpecJson); // once per recording
        if (json.Length > MaxSpecBytes) throw new InvalidDataException($"the spec's JSON is {json.Length} bytes, over {MaxSpecBytes}");
        Head(w, RecordKind.Spec, wallUs, monoMs);
        w.I64(clockOffsetUs);
        w.I32(json.Length);
        w.Bytes(json);
    }

    internal static void Frame(RecordEncoder w, long wallUs, long monoMs, Frame f)
    {
        Head(w, RecordKind.Frame, wallUs, monoMs);
        w.Str(f.StreamId);
        w.I64(f.Seq);
        w.I64(f.EventTimeUs);
        w.I32(f.Payload.Length);
        w.Bytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.Payload.AsSpan()));
    }

    /// <summary>Heartbeat (text, a), StreamClosed (text), Offset (a), End (text): a string and/or an i64.</summary>
    internal static void Simple(RecordEncoder w, RecordKind kind, long wallUs, long monoMs, string? text, long a)
    {
        Head(w, kind, wallUs, monoMs);
        switch (kind)
        {
            case RecordKind.Heartbeat:
                w.Str(text!);
                w.I64(a);
                break;
            case RecordKind.StreamClosed:
            case RecordKind.End:
                w.Str(text ?? "");
                break;
            case RecordKind.Offset:
                w.I64(a);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a simple record kind");
        }
    }

    internal static void Clock(RecordEncoder w, long wallUs, long monoMs, ClockSource source, string? streamId)
    {
        Head(w, RecordKind.Clock, wallUs, monoMs);
        w.U8((byte)source);
        w.Str(streamId ?? "");
    }

    internal static void StreamState(RecordEncoder w, long wallUs, long monoMs, string streamId, StreamState from, StreamState to, string reason)
    {
        Head(w, RecordKind.StreamState, wallUs, monoMs);
        w.Str(streamId);
        w.U8((byte)from);
        w.U8((byte)to);
        w.Str(reason.Length > MaxReasonChars ? reason[..MaxReasonChars] : reason);
    }

    internal static void Policy(RecordEncoder w, long wallUs, long monoMs, FusionPolicy policy)
    {
        Head(w, RecordKind.Policy, wallUs, monoMs);
        w.Str(policy.ToString());
    }

    internal static void Operator(RecordEncoder w, long wallUs, long monoMs, StreamCommand command, string streamId, long ms)
    {
        Head(w, RecordKind.Operator, wallUs, monoMs);
        w.U8((byte)command);
        w.Str(streamId);
        w.I64(ms);
    }

    internal static void Result(RecordEncoder w, long wallUs, long monoMs, FusedResult r)
    {
        Head(w, RecordKind.Result, wallUs, monoMs);
        w.I64(r.WindowStartUs);
        w.I64(r.WindowEndUs);
        w.I32(r.Revision);
        w.U8((byte)r.Status);
        w.I32(r.TopClass);
        w.Bool(r.TopLabel is not null);
        if (r.TopLabel is not null) w.Str(r.TopLabel);
        w.F64(r.Confidence);
        w.F64(r.Entropy);
        w.I32(r.Posterior.Length);
        foreach (var p in r.Posterior) w.F64(p);
        // Sorted: the file is the same whatever order the dictionary holds its entries in.
        var count = r.Weights.Count;
        var keys = System.Buffers.ArrayPool<string>.Shared.Rent(count);
        try
        {
            var i = 0;
            foreach (var key in r.Weights.Keys) keys[i++] = key;
            Array.Sort(keys, 0, count, StringComparer.Ordinal);
            w.I32(count);
            for (i = 0; i < count; i++)
            {
                w.Str(keys[i]);
                w.F64(r.Weights[keys[i]]);
            }
        }
        finally
        {
            Array.Clear(keys, 0, count);
            System.Buffers.ArrayPool<string>.Shared.Return(keys);
        }
        Strings(w, r.Missing);
        Strings(w, r.Imputed);
        w.I64(r.WatermarkLagUs);
        w.Str(r.Policy);
        w.Bool(r.Uncertain);
    }

    private static void Strings(RecordEncoder w, IReadOnlyList<string> list)
    {
        w.I32(list.Count);
        for (var i = 0; i < list.Count; i++) w.Str(list[i]);
    }

    // ---- reading ----

    /// <summary>Decodes one record (a chunk's plaintext holds several, each after its u32 length).</summary>
    /// <exception cref="InvalidDataException">the bytes are not a well-formed record.</exception>
    public static Recorded Read(ReadOnlySpan<byte> body)
    {
        var r = new Reader(body);
        var kind = (RecordKind)r.U8();
        var wall = r.I64();
        var mono = r.I64();
        Recorded record = kind switch
        {
            RecordKind.Spec => ReadSpec(ref r, wall, mono),
            RecordKind.Frame => ReadFrame(ref r, wall, mono),
            RecordKind.Heartbeat => new RecordedHeartbeat(wall, mono, r.Str(), r.I64()),
            RecordKind.StreamClosed => new RecordedStreamClosed(wall, mono, r.Str()),
            RecordKind.Clock => ReadClock(ref r, wall, mono),
            RecordKind.StreamState => new RecordedStreamState(wall, mono, r.Str(), State(r.U8()), State(r.U8()), r.Str()),
            RecordKind.Result => ReadResult(ref r, wall, mono),
            RecordKind.Offset => new RecordedOffset(wall, mono, r.I64()),
            RecordKind.Policy => new RecordedPolicy(wall, mono, ParsePolicy(r.Str())),
            RecordKind.End => new RecordedEnd(wall, mono, r.Str()),
            RecordKind.Operator => ReadOperator(ref r, wall, mono),
            _ => throw new InvalidDataException($"unknown record kind {(byte)kind}"),
        };
        if (!r.AtEnd) throw new InvalidDataException($"a {kind} record has {r.Left} bytes over");
        return record;
    }

    private static FusionPolicy ParsePolicy(string text)
    {
        try { return FusionPolicy.Parse(text); }
        catch (FormatException e) { throw new InvalidDataException($"not a fusion policy: {e.Message}"); }
    }

    private static StreamState State(byte b) =>
        Enum.IsDefined((StreamState)b) ? (StreamState)b : throw new InvalidDataException($"unknown stream state {b}");

    private static RecordedSpec ReadSpec(ref Reader r, long wall, long mono)
    {
        var offset = r.I64();
        var length = r.Count(MaxSpecBytes);
        var json = r.Bytes(length);
        SessionSpec? spec;
        try { spec = JsonSerializer.Deserialize<SessionSpec>(json, SpecJson); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or OverflowException or NotSupportedException)
        {
            throw new InvalidDataException($"malformed spec: {e.Message}", e);
        }
        return new RecordedSpec(wall, mono, spec ?? throw new InvalidDataException("the spec is null"), offset);
    }

    private static RecordedFrame ReadFrame(ref Reader r, long wall, long mono)
    {
        var stream = r.Str();
        var seq = r.I64();
        var eventTime = r.I64();
        var count = r.Count(int.MaxValue / sizeof(float));
        var bytes = r.Bytes(checked(count * sizeof(float)));
        var payload = new float[count];
        bytes.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(payload.AsSpan()));
        return new RecordedFrame(wall, mono, stream, seq, eventTime, payload);
    }

    private static RecordedOperator ReadOperator(ref Reader r, long wall, long mono)
    {
        var command = (StreamCommand)r.U8();
        if (!Enum.IsDefined(command)) throw new InvalidDataException($"unknown operator command {(byte)command}");
        var stream = r.Str();
        var ms = r.I64();
        if (ms is < 0 or > 86_400_000L * 365) throw new InvalidDataException($"a drop of {ms} ms");
        return new RecordedOperator(wall, mono, command, stream, ms);
    }

    private static RecordedClock ReadClock(ref Reader r, long wall, long mono)
    {
        var source = (ClockSource)r.U8();
        if (!Enum.IsDefined(source)) throw new InvalidDataException($"unknown clock source {(byte)source}");
        var stream = r.Str();
        return new RecordedClock(wall, mono, source, stream.Length == 0 ? null : stream);
    }

    private static RecordedResult ReadResult(ref Reader r, long wall, long mono)
    {
        var start = r.I64();
        var end = r.I64();
        var revision = r.I32();
        var status = (FusedStatus)r.U8();
        if (!Enum.IsDefined(status)) throw new InvalidDataException($"unknown result status {(byte)status}");
        var top = r.I32();
        var label = r.Bool() ? r.Str() : null;
        var confidence = r.F64();
        var entropy = r.F64();
        var posterior = new double[r.Count(MaxListEntries)];
        for (var i = 0; i < posterior.Length; i++) posterior[i] = r.F64();
        var weightCount = r.Count(MaxListEntries);
        var weights = new Dictionary<string, double>(weightCount);
        for (var i = 0; i < weightCount; i++)
            if (!weights.TryAdd(r.Str(), r.F64())) throw new InvalidDataException("a result names a modality's weight twice");
        var missing = ReadStrings(ref r);
        var imputed = ReadStrings(ref r);
        var lag = r.I64();
        var policy = r.Str();
        var uncertain = r.Bool();
        return new RecordedResult(wall, mono, start, end, revision, status, top, label, confidence, entropy, posterior, weights, missing, imputed, lag, policy, uncertain);
    }

    private static string[] ReadStrings(ref Reader r)
    {
        var list = new string[r.Count(MaxListEntries)];
        for (var i = 0; i < list.Length; i++) list[i] = r.Str();
        return list;
    }

    /// <summary>Bounds-checked little-endian reads over a chunk.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly bool AtEnd => _at == _data.Length;

        public readonly int Left => _data.Length - _at;

        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (n < 0 || n > _data.Length - _at) throw new InvalidDataException($"a record ends {n - (_data.Length - _at)} bytes short");
            var s = _data.Slice(_at, n);
            _at += n;
            return s;
        }

        public byte U8() => Bytes(1)[0];

        public bool Bool() => U8() switch
        {
            0 => false,
            1 => true,
            var b => throw new InvalidDataException($"a flag of {b}"),
        };

        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8));

        public int Count(int max)
        {
            var n = I32();
            if (n < 0 || n > max) throw new InvalidDataException($"a count of {n} is outside [0, {max}]");
            return n;
        }

        public string Str()
        {
            var n = BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));
            if (n > MaxStringBytes) throw new InvalidDataException($"a string of {n} bytes is over {MaxStringBytes}");
            try { return new UTF8Encoding(false, true).GetString(Bytes(n)); }
            catch (DecoderFallbackException) { throw new InvalidDataException("a string is not UTF-8"); }
        }
    }
}
