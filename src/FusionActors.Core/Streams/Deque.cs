using System.Collections;

namespace FusionActors.Core.Streams;

/// <summary>
/// A double-ended queue on a growable ring buffer: adds and removes at both ends without allocating per item
/// (a <see cref="LinkedList{T}"/> allocates a node for each). Enumerates from first to last. The stream actor
/// queues its inputs for the encoder in one: one per frame on the hot path, retries go back to the front.
/// </summary>
public sealed class Deque<T> : IReadOnlyCollection<T>
{
    private T[] _items = [];
    private int _head; // index of the first item
    private int _count;

    public int Count => _count;

    public T First => _count > 0 ? _items[_head] : throw new InvalidOperationException("the deque is empty");

    public T Last => _count > 0 ? _items[Index(_count - 1)] : throw new InvalidOperationException("the deque is empty");

    public void AddLast(T item)
    {
        if (_count == _items.Length) Grow();
        _items[Index(_count)] = item;
        _count++;
    }

    public void AddFirst(T item)
    {
        if (_count == _items.Length) Grow();
        _head = _head == 0 ? _items.Length - 1 : _head - 1;
        _items[_head] = item;
        _count++;
    }

    public T RemoveFirst()
    {
        var item = First;
        _items[_head] = default!; // no reference kept to what left
        _head = _head + 1 == _items.Length ? 0 : _head + 1;
        _count--;
        return item;
    }

    public T RemoveLast()
    {
        var item = Last;
        _items[Index(_count - 1)] = default!;
        _count--;
        return item;
    }

    public void Clear()
    {
        if (_count > 0)
        {
            var firstPart = Math.Min(_count, _items.Length - _head);
            Array.Clear(_items, _head, firstPart);
            Array.Clear(_items, 0, _count - firstPart);
        }
        _head = 0;
        _count = 0;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int Index(int offset)
    {
        var i = _head + offset;
        return i >= _items.Length ? i - _items.Length : i;
    }

    private void Grow()
    {
        var grown = new T[Math.Max(4, _items.Length * 2)];
        for (var i = 0; i < _count; i++) grown[i] = _items[Index(i)];
        _items = grown;
        _head = 0;
    }

    /// <summary>A struct enumerator, so foreach over a deque allocates nothing. The deque must not change meanwhile.</summary>
    public struct Enumerator(Deque<T> deque) : IEnumerator<T>
    {
        private int _i = -1;

        public readonly T Current => deque._items[deque.Index(_i)];

        readonly object? IEnumerator.Current => Current;

        public bool MoveNext() => ++_i < deque._count;

        public void Reset() => _i = -1;

        public readonly void Dispose() { }
    }
}
