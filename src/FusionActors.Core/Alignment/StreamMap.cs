using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace FusionActors.Core.Alignment;

/// <summary>
/// The stream ids of a session, in spec order, once: every <see cref="StreamMap{T}"/> of the session shares them,
/// so a window's map per stream is one array of values, not a hash table of its own.
/// </summary>
public sealed class StreamKeys
{
    private const int ScanUpTo = 8; // few streams: a scan (the ids are usually the spec's own strings) beats hashing
    private readonly Dictionary<string, int>? _index;

    public StreamKeys(IReadOnlyList<string> ids)
    {
        Ids = [.. ids];
        if (Ids.Length > ScanUpTo)
        {
            _index = new Dictionary<string, int>(Ids.Length, StringComparer.Ordinal);
            for (var i = 0; i < Ids.Length; i++) _index.Add(Ids[i], i);
        }
        else if (Ids.Distinct(StringComparer.Ordinal).Count() != Ids.Length) throw new ArgumentException("stream ids must be distinct", nameof(ids));
    }

    public string[] Ids { get; }

    /// <summary>The position of <paramref name="id"/>, or -1.</summary>
    public int IndexOf(string id)
    {
        if (_index is not null) return _index.TryGetValue(id, out var i) ? i : -1;
        for (var i = 0; i < Ids.Length; i++)
            if (string.Equals(Ids[i], id, StringComparison.Ordinal)) return i;
        return -1;
    }
}

/// <summary>
/// A read-only map from each stream of a session (<see cref="StreamKeys"/>, shared) to a value, enumerated in spec
/// order like the dictionary it replaces; one small object and one array per map.
/// </summary>
public sealed class StreamMap<T> : IReadOnlyDictionary<string, T>
{
    private readonly StreamKeys _keys;
    private readonly T[] _values;

    /// <param name="values">One per stream, in the keys' order; the map keeps the array (the caller gives it up).</param>
    public StreamMap(StreamKeys keys, T[] values)
    {
        if (values.Length != keys.Ids.Length) throw new ArgumentException("one value per stream", nameof(values));
        _keys = keys;
        _values = values;
    }

    public T this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no stream '{key}'");

    public IEnumerable<string> Keys => _keys.Ids;

    public IEnumerable<T> Values => _values;

    public int Count => _values.Length;

    public bool ContainsKey(string key) => _keys.IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value)
    {
        var i = _keys.IndexOf(key);
        if (i < 0)
        {
            value = default;
            return false;
        }
        value = _values[i];
        return true;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, T>> IEnumerable<KeyValuePair<string, T>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(StreamMap<T> map) : IEnumerator<KeyValuePair<string, T>>
    {
        private int _i = -1;

        public readonly KeyValuePair<string, T> Current => new(map._keys.Ids[_i], map._values[_i]);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_i < map._values.Length;

        public void Reset() => _i = -1;

        public readonly void Dispose() { }
    }
}
