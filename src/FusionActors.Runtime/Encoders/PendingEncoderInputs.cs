namespace FusionActors.Runtime.Encoders;

/// <summary>
/// The node's count of encoder inputs held by its streams (waiting for their encoder or in it), against
/// fusion.limits.max-pending-encoder-inputs. At the cap a stream refuses new frames with
/// <see cref="Protocol.RejectReason.NodeFull"/> (counted as a rejected frame by reason), so many sessions each within
/// their own caps cannot together hold more than the node has memory for; except a stream holding less than its
/// fair share (the cap over the streams holding inputs), so one session that fills the node cannot starve the others.
/// Streams count in steps of a few inputs, so each may hold up to three more than it counted. The node then holds at
/// most twice the cap plus those, plus what frames already taken still make (a windowed stream's open input).
/// Thread-safe.
/// </summary>
public sealed class PendingEncoderInputs(int max)
{
    private long _count;
    private int _holders;

    public int Max { get; } = max > 0 ? max : throw new ArgumentOutOfRangeException(nameof(max), max, "must be positive");

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Streams holding at least one input.</summary>
    public int Holders => Volatile.Read(ref _holders);

    /// <summary>The node holds its maximum of pending encoder inputs.</summary>
    public bool IsFull => Count >= Max;

    /// <summary>
    /// Whether a stream holding <paramref name="held"/> inputs must refuse a new frame: the node is full and the
    /// stream holds at least its share of the cap.
    /// </summary>
    public bool Refuses(int held) => IsFull && held >= Math.Max(1, Max / Math.Max(1, Holders));

    /// <summary>A stream's inputs held went from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public void Update(int before, int after)
    {
        if (before == after) return;
        Interlocked.Add(ref _count, after - before);
        if (before == 0) Interlocked.Increment(ref _holders);
        else if (after == 0) Interlocked.Decrement(ref _holders);
    }
}

/// <summary>
/// What a node's streams share for encoding: its batcher (null: each stream's encoder child runs its model itself),
/// its cap on pending inputs and the bounds of each stream's repeat cache. One per node (a singleton of the server's container, which disposes it).
/// </summary>
public sealed class NodeEncoding : IDisposable
{
    public NodeEncoding(Batching.EncoderBatcher? batcher, PendingEncoderInputs pending, Streams.RepeatCacheOptions? repeatCache = null)
    {
        Batcher = batcher;
        Pending = pending;
        RepeatCache = repeatCache ?? Streams.RepeatCacheOptions.Default;
        Unbatched = batcher is null ? this : new NodeEncoding(null, pending, RepeatCache);
    }

    /// <summary>The encoding of a node with these options: a batcher when <see cref="Batching.BatchingOptions.Enabled"/>.</summary>
    public NodeEncoding(Batching.BatchingOptions batching, TimeSpan encodeDeadline, int maxPendingInputs, Streams.RepeatCacheOptions? repeatCache = null)
        : this(batching.Enabled ? new Batching.EncoderBatcher(batching, encodeDeadline) : null, new PendingEncoderInputs(maxPendingInputs), repeatCache) { }

    /// <summary>The bounds of each stream's cache of exact-repeat inputs (Fusion:Streams; <see cref="Streams.RepeatCache"/>).</summary>
    public Streams.RepeatCacheOptions RepeatCache { get; }

    public Batching.EncoderBatcher? Batcher { get; }

    public PendingEncoderInputs Pending { get; }

    /// <summary>The same pending-input cap without the batcher (for encoders with no model call to share).</summary>
    public NodeEncoding Unbatched { get; }

    public void Dispose() => Batcher?.Dispose();
}
