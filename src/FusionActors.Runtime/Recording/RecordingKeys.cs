using System.Text.RegularExpressions;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The keys of recordings at rest (AES-256-GCM): every key by its id, and the one new recordings are encrypted with.
/// A rotation adds a key and makes it current; the old keys stay for reading the files written with them until
/// retention has removed those files (docs/recording.md, "Keys").
/// </summary>
public sealed partial class RecordingKeys
{
    public const int KeyBytes = 32;
    public const int MaxIdLength = 64;

    private readonly Dictionary<string, byte[]> _keys;

    /// <summary>No key: recordings are written in the clear, and encrypted ones cannot be read.</summary>
    public static RecordingKeys None { get; } = new(new Dictionary<string, byte[]>(), null);

    private RecordingKeys(Dictionary<string, byte[]> keys, string? current)
    {
        _keys = keys;
        CurrentId = current;
    }

    /// <summary>The key id new recordings use; null = not encrypted.</summary>
    public string? CurrentId { get; }

    public IReadOnlyCollection<string> Ids => _keys.Keys;

    public bool TryGet(string id, out byte[] key) => _keys.TryGetValue(id, out key!);

    public byte[]? Current => CurrentId is null ? null : _keys[CurrentId];

    /// <summary>Keys from their base64 text by id, and the current id (which must be among them); null id = write in the clear.</summary>
    /// <exception cref="FormatException">an id or a key is malformed (the message names it, never the key).</exception>
    public static RecordingKeys From(IReadOnlyDictionary<string, string>? base64Keys, string? currentId)
    {
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (id, text) in base64Keys ?? new Dictionary<string, string>())
        {
            if (!IsValidId(id)) throw new FormatException($"recording key id '{Cut(id)}' must be 1 to {MaxIdLength} of A-Z a-z 0-9 . _ -");
            byte[] key;
            try { key = Convert.FromBase64String(text.Trim()); }
            catch (FormatException) { throw new FormatException($"recording key '{id}' is not base64"); }
            if (key.Length != KeyBytes) throw new FormatException($"recording key '{id}' is {key.Length} bytes; AES-256 takes {KeyBytes}");
            keys[id] = key;
        }
        if (currentId is not null && !keys.ContainsKey(currentId))
            throw new FormatException($"the current recording key '{Cut(currentId)}' is not among the keys ({string.Join(", ", keys.Keys)})");
        return new RecordingKeys(keys, currentId);
    }

    public static bool IsValidId(string id) => id.Length is > 0 and <= MaxIdLength && IdPattern().IsMatch(id);

    private static string Cut(string s) => s.Length > MaxIdLength ? s[..MaxIdLength] + "..." : s;

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex IdPattern();
}
