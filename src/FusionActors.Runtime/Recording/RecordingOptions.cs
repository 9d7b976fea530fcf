namespace FusionActors.Runtime.Recording;

/// <summary>
/// Session recording (Fusion:Recording; docs/recording.md, docs/configuration.md). Off unless
/// <see cref="Directory"/> is set: then sessions whose spec asks (<c>Record</c>), whose id matches
/// <see cref="Sessions"/>, or that an operator turns on (<c>sessions record ID on</c>) are recorded there.
/// </summary>
public sealed record RecordingOptions
{
    /// <summary>Where recordings go; null = this node records nothing. Default null.</summary>
    public string? Directory { get; init; }

    /// <summary>
    /// Sessions recorded from their open: <c>*</c> for every one, <c>prefix*</c> for ids starting with it, else an exact id.
    /// Default none (only specs that ask and operators choose).
    /// </summary>
    public IReadOnlyList<string> Sessions { get; init; } = [];

    /// <summary>Records waiting for the writer (every session of the node); a record beyond drops its session's recording. Default 65,536.</summary>
    public int MaxQueuedRecords { get; init; } = 65_536;

    /// <summary>Bytes of frame payload waiting for the writer; beyond, the recording is dropped. Default 64 MiB.</summary>
    public long MaxQueuedBytes { get; init; } = 64L << 20;

    /// <summary>Bytes of one recording file; a recording that would grow past it is dropped (the file keeps its prefix). Default 1 GiB.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>A recording older than this (by its last write) is deleted. Default 7 days.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Recordings together take at most this many bytes; over it the oldest are deleted first. Default 10 GiB.</summary>
    public long MaxTotalBytes { get; init; } = 10L << 30;

    /// <summary>How often retention runs. Default 1 minute.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Id of the key new recordings are encrypted with (one of <see cref="Keys"/>); null = in the clear. Default null.</summary>
    public string? KeyId { get; init; }

    /// <summary>
    /// AES-256 keys by id, base64 of 32 bytes (Fusion:Recording:Keys:ID, or the environment's Fusion__Recording__Keys__ID).
    /// Keep old ids here after a rotation: they read the files written with them.
    /// </summary>
    public IReadOnlyDictionary<string, string> Keys { get; init; } = new Dictionary<string, string>();

    public bool Enabled => !string.IsNullOrWhiteSpace(Directory);

    /// <summary>Whether the rule of <see cref="Sessions"/> chooses a session by its id.</summary>
    public bool Chooses(string sessionId)
    {
        foreach (var rule in Sessions)
        {
            if (rule == "*") return true;
            if (rule.EndsWith('*') ? sessionId.StartsWith(rule[..^1], StringComparison.Ordinal) : sessionId == rule) return true;
        }
        return false;
    }

    public RecordingKeys LoadKeys() => RecordingKeys.From(Keys, string.IsNullOrWhiteSpace(KeyId) ? null : KeyId);

    /// <summary>What is wrong with these options, each naming its key; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxQueuedRecords <= 0) yield return $"Fusion:Recording:MaxQueuedRecords must be positive, not {MaxQueuedRecords}";
        if (MaxQueuedBytes <= 0) yield return $"Fusion:Recording:MaxQueuedBytes must be positive, not {MaxQueuedBytes}";
        if (MaxFileBytes <= 0) yield return $"Fusion:Recording:MaxFileBytes must be positive, not {MaxFileBytes}";
        if (MaxAge <= TimeSpan.Zero) yield return $"Fusion:Recording:MaxAge must be positive, not {MaxAge}";
        if (MaxTotalBytes <= 0) yield return $"Fusion:Recording:MaxTotalBytes must be positive, not {MaxTotalBytes}";
        if (RetentionInterval <= TimeSpan.Zero) yield return $"Fusion:Recording:RetentionInterval must be positive, not {RetentionInterval}";
        if (Sessions.Count > 256 || Sessions.Any(s => s.Length is 0 or > 256)) yield return "Fusion:Recording:Sessions holds at most 256 rules of 1 to 256 characters";
        string? keyProblem = null;
        try { LoadKeys(); }
        catch (FormatException e) { keyProblem = $"Fusion:Recording: {e.Message}"; }
        if (keyProblem is not null) yield return keyProblem;
    }
}
