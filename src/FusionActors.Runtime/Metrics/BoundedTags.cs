using System.Collections.Concurrent;

namespace FusionActors.Runtime.Metrics;

/// <summary>Tag values taken from client input, at most <paramref name="capacity"/> distinct ones; the rest are "other".</summary>
public sealed class BoundedTags(int capacity)
{
    public const string Other = "other";
    private readonly ConcurrentDictionary<string, string> _tags = new();

    public string For(string value)
    {
        if (_tags.TryGetValue(value, out var tag)) return tag;
        return _tags.Count >= capacity ? Other : _tags.GetOrAdd(value, value);
    }
}
