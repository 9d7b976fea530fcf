namespace FusionActors.Streams;

public enum SeqCheck
{
    New,
    Duplicate,
    OutOfRange,
}

/// <summary>
/// Dedupe by seq with bounded memory: every seq below <see cref="LowestMissing"/> has been seen,
/// and a bitmap covers the next <c>window</c> seqs, so reordering within that window is accepted
/// and repeats are recognised however late they come.
/// </summary>
public sealed class SeqTracker
{
    private readonly ulong[] _bits;
    private readonly int _window;

    /// <param name="firstSeq">
    /// The lowest seq still expected: 0 for a new stream; a resumed stream (after a failover) starts at the
    /// client's lowest uncommitted seq, and everything below it counts as taken.
    /// </param>
    public SeqTracker(int window = 4096, long firstSeq = 0)
    {
        if (window <= 0) throw new ArgumentOutOfRangeException(nameof(window));
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        _window = (window + 63) / 64 * 64;
        _bits = new ulong[_window / 64];
        LowestMissing = firstSeq;
        Highest = firstSeq - 1;
    }

    /// <summary>Every seq below this one has been taken.</summary>
    public long LowestMissing { get; private set; }

    /// <summary>Highest seq taken so far, -1 before the first.</summary>
    public long Highest { get; private set; } = -1;

    public SeqCheck Peek(long seq)
    {
        if (seq < 0) return SeqCheck.OutOfRange;
        if (seq < LowestMissing) return SeqCheck.Duplicate;
        if (seq >= LowestMissing + _window) return SeqCheck.OutOfRange;
        return IsSet(seq) ? SeqCheck.Duplicate : SeqCheck.New;
    }

    /// <summary>Checks and, when new, records the seq.</summary>
    public SeqCheck Take(long seq)
    {
        var check = Peek(seq);
        if (check != SeqCheck.New) return check;
        Set(seq, true);
        if (seq > Highest) Highest = seq;
        while (IsSet(LowestMissing))
        {
            Set(LowestMissing, false);
            LowestMissing++;
        }
        return SeqCheck.New;
    }

    private bool IsSet(long seq)
    {
        var i = (int)(seq % _window);
        return (_bits[i >> 6] & (1UL << (i & 63))) != 0;
    }

    private void Set(long seq, bool on)
    {
        var i = (int)(seq % _window);
        if (on) _bits[i >> 6] |= 1UL << (i & 63);
        else _bits[i >> 6] &= ~(1UL << (i & 63));
    }
}
