namespace FusionActors.Core.Streams;

public enum SeqCheck
{
    New,
    Duplicate,
    OutOfRange,
}

/// <summary>
/// Dedupe by seq with bounded memory: every seq below <see cref="LowestMissing"/> has been seen (or given
/// up as lost), and a bitmap covers the next <c>window</c> seqs, so reordering within that window is
/// accepted and repeats are recognised however late they come.
/// </summary>
public sealed class SeqTracker
{
    private readonly ulong[] _bits;
    private readonly int _window;
    private int _held; // seqs taken above LowestMissing
    private HashSet<long>? _expectedBelow; // seqs below LowestMissing a resumed client still holds: not taken yet

    /// <param name="firstSeq">
    /// The lowest seq still expected: 0 for a new stream; a resumed stream (after a failover) starts at the
    /// client's lowest uncommitted seq, and everything below it counts as taken.
    /// </param>
    /// <param name="expectedBelow">
    /// Seqs below <paramref name="firstSeq"/> that a resumed client still holds and will replay (a frame stamped far
    /// ahead, held while later ones were committed): they are new once, and every other seq below is taken.
    /// </param>
    public SeqTracker(int window = 4096, long firstSeq = 0, IEnumerable<long>? expectedBelow = null)
    {
        if (window <= 0) throw new ArgumentOutOfRangeException(nameof(window));
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        _window = (window + 63) / 64 * 64;
        _bits = new ulong[_window / 64];
        LowestMissing = firstSeq;
        Highest = firstSeq - 1;
        if (expectedBelow is not null)
        {
            _expectedBelow = [.. expectedBelow.Where(seq => seq >= 0 && seq < firstSeq)];
            if (_expectedBelow.Count == 0) _expectedBelow = null;
        }
    }

    /// <summary>Every seq below this one has been taken.</summary>
    public long LowestMissing { get; private set; }

    /// <summary>Highest seq taken so far, -1 before the first.</summary>
    public long Highest { get; private set; } = -1;

    public SeqCheck Peek(long seq)
    {
        if (seq < 0) return SeqCheck.OutOfRange;
        if (seq < LowestMissing) return _expectedBelow is not null && _expectedBelow.Contains(seq) ? SeqCheck.New : SeqCheck.Duplicate;
        if (seq >= LowestMissing + _window) return SeqCheck.OutOfRange;
        return IsSet(seq) ? SeqCheck.Duplicate : SeqCheck.New;
    }

    /// <summary>Checks and, when new, records the seq.</summary>
    public SeqCheck Take(long seq)
    {
        var check = Peek(seq);
        if (check != SeqCheck.New) return check;
        if (seq < LowestMissing)
        {
            _expectedBelow!.Remove(seq);
            if (_expectedBelow.Count == 0) _expectedBelow = null;
            return SeqCheck.New;
        }
        Set(seq, true);
        _held++;
        if (seq > Highest) Highest = seq;
        Consume();
        // A gap that a whole window of later seqs has passed is not reordering: that frame was lost, or a client
        // committed and forgot it before a resume. It is skipped (counted) so the stream does not stall at the
        // window's end, where the next seq would be out of range. One bogus far-ahead seq cannot do this (it is
        // out of range, never taken); only a window of taken seqs can.
        while (_held >= _window - 1)
        {
            if (!IsSet(LowestMissing))
            {
                Skipped++;
                LowestMissing++;
            }
            Consume();
        }
        return SeqCheck.New;
    }

    /// <summary>Seqs given up as lost: gaps that stayed open while a window of later seqs arrived.</summary>
    public long Skipped { get; private set; }

    private void Consume()
    {
        while (IsSet(LowestMissing))
        {
            Set(LowestMissing, false);
            _held--;
            LowestMissing++;
        }
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
