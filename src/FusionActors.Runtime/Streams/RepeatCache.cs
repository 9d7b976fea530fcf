using System.IO.Hashing;
using System.Runtime.InteropServices;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// The bounds of a stream's <see cref="RepeatCache"/> (Fusion:Streams, docs/configuration.md): how many encoded inputs
/// it keeps (0 = off) and the largest input it keeps, in bytes of samples.
/// </summary>
public sealed record RepeatCacheOptions
{
    /// <summary>The most entries a node may configure: the cache is looked up by a scan.</summary>
    public const int MaxEntries = 16;

    /// <summary>The largest input a node may let a stream keep (4 MiB of samples, a million floats).</summary>
    public const int MaxInputBytesLimit = 4 << 20;

    public static readonly RepeatCacheOptions Default = new();

    public static readonly RepeatCacheOptions Off = new() { Entries = 0 };

    /// <summary>Encoded inputs a stream keeps, the newest replacing the oldest; 0 = no cache.</summary>
    public int Entries { get; init; } = 1;

    /// <summary>
    /// An input of more bytes of samples (4 per value) is never kept: a stream keeps at most Entries × this. The default
    /// (16 KiB) keeps camera frames and short windows, not a 1 s window of 16 kHz audio (62.5 KiB), which would add that
    /// much to every awake audio stream.
    /// </summary>
    public int MaxInputBytes { get; init; } = 16 << 10;

    public IEnumerable<string> Problems()
    {
        if (Entries is < 0 or > MaxEntries)
            yield return $"Fusion:Streams:RepeatCacheEntries (fusion.streams.repeat-cache-entries) must be 0..{MaxEntries}, not {Entries}";
        if (MaxInputBytes is < 0 or > MaxInputBytesLimit)
            yield return $"Fusion:Streams:RepeatCacheMaxInputBytes (fusion.streams.repeat-cache-max-input-bytes) must be 0..{MaxInputBytesLimit}, not {MaxInputBytes}";
    }
}

/// <summary>
/// The last few inputs a stream's encoder turned into evidence, with what it made of them, so an input that repeats one
/// exactly (a frozen camera's frame, a stuck sensor's samples: the same bits) is given evidence without running the
/// model again. An input is found by a 64-bit XxHash3 of its samples' bytes and then compared bit for bit with the kept
/// copy (never by the hash alone). The evidence of a hit is the cached embedding, calibrated log-probabilities, drift
/// score and model version with the new input's own span, coverage, seq, revision and content time, so freshness fades
/// a repeat exactly as it would a re-encoded one. Only a stateless ONNX model's outputs are kept (a recurrent state makes
/// a repeat give another output; the no-op encoder and drill wrappers are left to run); the stream clears the cache
/// when its encoder stops or moves to another model version. Bounded: <see cref="RepeatCacheOptions.Entries"/> copies of
/// at most <see cref="RepeatCacheOptions.MaxInputBytes"/> each, their buffers reused. One actor's: not thread-safe.
/// </summary>
public sealed class RepeatCache
{
    private Entry[]? _entries; // made at the first input kept: a stream that never encodes costs nothing
    private readonly int _capacity;
    private readonly int _maxInputBytes;
    private int _count, _next;
    // The hash of the input looked up last (by reference): an input that missed is hashed once, not again when kept.
    private float[]? _hashed;
    private ulong _hash;

    private sealed class Entry
    {
        public ulong Hash;
        public float[] Values = [];
        public int Length;
        public float[] Embedding = [];
        public double[] LogProbs = [];
        public double Drift;
        public string? Model;
    }

    public RepeatCache(RepeatCacheOptions options)
    {
        _capacity = Math.Clamp(options.Entries, 0, RepeatCacheOptions.MaxEntries);
        _maxInputBytes = options.MaxInputBytes;
    }

    /// <summary>The most entries it keeps; 0 = off.</summary>
    public int Capacity => _capacity;

    /// <summary>The most values (samples) of an input it keeps.</summary>
    public int MaxValues => _maxInputBytes / sizeof(float);

    /// <summary>Entries kept now.</summary>
    public int Count => _count;

    /// <summary>Bytes of samples kept now (the copies' buffers).</summary>
    public long Bytes
    {
        get
        {
            long n = 0;
            for (var i = 0; i < _count; i++) n += (long)_entries![i].Values.Length * sizeof(float);
            return n;
        }
    }

    /// <summary>Whether a stream running <paramref name="encoder"/> may cache its outputs: a stateless ONNX model, and room for one entry.</summary>
    public bool Serves(ResolvedEncoder encoder) => _capacity > 0 && _maxInputBytes > 0 && encoder.Encoder is OnnxEncoder { IsStateful: false };

    /// <summary>Whether an input of <paramref name="values"/> may be kept.</summary>
    private bool Fits(float[] values) => (long)values.Length * sizeof(float) <= _maxInputBytes;

    /// <summary>
    /// The evidence of <paramref name="input"/> when it repeats, bit for bit, an input kept from the model version
    /// <paramref name="model"/> (the one the input would run on: around a switch point a stream runs two): the kept
    /// outputs with the input's own span, coverage, seq, revision and content time; null when none is kept.
    /// </summary>
    public Evidence? Find(EncoderInput input, string modality, string? model)
    {
        if (_count == 0 || !Fits(input.Values)) return null;
        var hash = HashOf(input.Values);
        var bytes = MemoryMarshal.AsBytes(input.Values.AsSpan());
        for (var i = 0; i < _count; i++)
        {
            var e = _entries![i];
            if (e.Hash != hash || e.Length != input.Values.Length || !string.Equals(e.Model, model, StringComparison.Ordinal)) continue;
            if (!bytes.SequenceEqual(MemoryMarshal.AsBytes(e.Values.AsSpan(0, e.Length)))) continue;
            return new Evidence(input.StreamId, modality, input.StartUs, input.EndUs, e.Embedding, e.LogProbs, input.Coverage, input.LastSeq,
                input.Revision, input.ContentEndUs, e.Drift) { Model = e.Model };
        }
        return null;
    }

    /// <summary>
    /// Keeps what the encoder made of <paramref name="input"/> (the oldest entry makes room; an input already kept from
    /// the same model version is left as it is). Its samples are copied: the cache depends on no one else's array staying unchanged.
    /// </summary>
    public void Add(EncoderInput input, Evidence evidence)
    {
        if (_capacity == 0 || !Fits(input.Values)) return;
        _entries ??= new Entry[_capacity];
        var hash = HashOf(input.Values);
        var bytes = MemoryMarshal.AsBytes(input.Values.AsSpan());
        for (var i = 0; i < _count; i++)
            if (_entries[i].Hash == hash && _entries[i].Length == input.Values.Length && string.Equals(_entries[i].Model, evidence.Model, StringComparison.Ordinal)
                && bytes.SequenceEqual(MemoryMarshal.AsBytes(_entries[i].Values.AsSpan(0, _entries[i].Length)))) return;
        Entry e;
        if (_count < _entries.Length) e = _entries[_count++] ??= new Entry();
        else
        {
            e = _entries[_next];
            _next = (_next + 1) % _capacity;
        }
        if (e.Values.Length != input.Values.Length) e.Values = new float[input.Values.Length];
        input.Values.AsSpan().CopyTo(e.Values);
        (e.Hash, e.Length, e.Embedding, e.LogProbs, e.Drift, e.Model) =
            (hash, input.Values.Length, evidence.Embedding, evidence.LogProbs, evidence.Drift, evidence.Model);
    }

    /// <summary>Forgets every entry (the encoder stopped, or the stream moved to another model version); the buffers stay for reuse.</summary>
    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            var e = _entries![i];
            (e.Hash, e.Length, e.Embedding, e.LogProbs, e.Model) = (0, 0, [], [], null);
        }
        _count = 0;
        _next = 0;
        _hashed = null;
    }

    private ulong HashOf(float[] values)
    {
        if (ReferenceEquals(values, _hashed)) return _hash;
        _hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(values.AsSpan()));
        _hashed = values;
        return _hash;
    }
}
