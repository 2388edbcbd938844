// Business id (int64) ↔ dense id (int32, 0..n-1) for one node type.
using System.Runtime.CompilerServices;

namespace GraphActors.Graph;

/// <summary>
/// Maps business ids to dense ids with an open-addressing table (linear probing, load ≤ 0.5):
/// 24 bytes per node in two flat arrays, no per-entry objects, and plain arrays that a
/// partition store can write and read back as they are. Dense → business is an array.
/// </summary>
public sealed class IdMap
{
    private long[] _keys;
    private int[] _slots; // dense id + 1; 0 marks an empty slot
    private long[] _business;
    private int _count;
    private int _mask;

    /// <summary>The most ids one map holds: the table keeps load ≤ 0.5 in at most 2^30 slots.</summary>
    public const int MaxCount = 1 << 29;

    public IdMap(int capacity = 16)
    {
        if (capacity < 0 || capacity > MaxCount)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"An IdMap holds 0..{MaxCount} ids.");
        var size = TableSize(capacity);
        _keys = new long[size];
        _slots = new int[size];
        _business = new long[Math.Max(capacity, 4)];
        _mask = size - 1;
    }

    public int Count => _count;

    /// <summary>Business id of each dense id, in dense order.</summary>
    public ReadOnlySpan<long> BusinessIds => _business.AsSpan(0, _count);

    public long ToBusiness(int dense) => _business[dense];

    /// <summary>Adds <paramref name="business"/> with the next dense id; false (and the existing id) when already present.</summary>
    public bool TryAdd(long business, out int dense)
    {
        if ((_count + 1) * 2 > _keys.Length)
        {
            if (_count >= MaxCount) throw new InvalidOperationException($"An IdMap holds at most {MaxCount} ids.");
            Grow();
        }
        var slot = Probe(_keys, _slots, _mask, business);
        if (_slots[slot] != 0)
        {
            dense = _slots[slot] - 1;
            return false;
        }
        dense = _count;
        _keys[slot] = business;
        _slots[slot] = dense + 1;
        if (_count == _business.Length) Array.Resize(ref _business, _business.Length * 2);
        _business[_count++] = business;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetDense(long business, out int dense)
    {
        var slot = Probe(_keys, _slots, _mask, business);
        dense = _slots[slot] - 1;
        return dense >= 0;
    }

    public int GetDense(long business) =>
        TryGetDense(business, out var dense) ? dense : throw new KeyNotFoundException($"No node with id {business}.");

    /// <summary>Shrinks the dense → business array to its length; call once loading is done.</summary>
    public void TrimExcess()
    {
        if (_business.Length != _count) Array.Resize(ref _business, Math.Max(_count, 1));
    }

    public long MemoryBytes => _keys.LongLength * 8 + _slots.LongLength * 4 + _business.LongLength * 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Probe(long[] keys, int[] slots, int mask, long key)
    {
        var slot = (int)(Mix(key) & (ulong)mask);
        while (slots[slot] != 0 && keys[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(long key)
    {
        // SplitMix64 finaliser: sequential business ids must not cluster in the table.
        var z = (ulong)key + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static int TableSize(int capacity)
    {
        var size = 16;
        while (size < capacity * 2L) size <<= 1;
        return size;
    }

    private void Grow()
    {
        var size = _keys.Length * 2;
        var keys = new long[size];
        var slots = new int[size];
        var mask = size - 1;
        for (var dense = 0; dense < _count; dense++)
        {
            var key = _business[dense];
            var slot = Probe(keys, slots, mask, key);
            keys[slot] = key;
            slots[slot] = dense + 1;
        }
        _keys = keys;
        _slots = slots;
        _mask = mask;
    }
}
