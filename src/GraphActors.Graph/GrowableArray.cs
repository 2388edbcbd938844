namespace GraphActors.Graph;

/// <summary>An append-only buffer of unmanaged values or references; the builders' column storage.</summary>
internal sealed class GrowableArray<T>
{
    private T[] _items;

    public GrowableArray(int capacity = 16) => _items = new T[Math.Max(capacity, 4)];

    public int Count { get; private set; }

    public void Add(T item)
    {
        if (Count == _items.Length) Grow(Count + 1);
        _items[Count++] = item;
    }

    public void AddRange(ReadOnlySpan<T> items)
    {
        if (Count + items.Length > _items.Length) Grow(Count + items.Length);
        items.CopyTo(_items.AsSpan(Count));
        Count += items.Length;
    }

    public Span<T> AsSpan() => _items.AsSpan(0, Count);

    public T this[int index] => _items[index];

    /// <summary>The items as an exactly-sized array; the buffer is released.</summary>
    public T[] ToArrayAndRelease()
    {
        var result = _items.Length == Count ? _items : _items.AsSpan(0, Count).ToArray();
        _items = [];
        Count = 0;
        return result;
    }

    private void Grow(int needed)
    {
        // Grow by half rather than double: building 10M-edge tables must not spike memory.
        var size = Math.Max(needed, _items.Length + (_items.Length >> 1));
        Array.Resize(ref _items, size);
    }
}
