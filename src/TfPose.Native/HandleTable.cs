namespace TfPose.Native;

/// <summary>What a handle refers to; a handle of one kind passed where another is expected is an error.</summary>
internal enum HandleKind
{
    Session = 1,
    Results = 2,
    Estimator = 3,
    People = 4,
    Image = 5,
}

/// <summary>Raised for a stale, foreign or wrong-kind handle; becomes TFPOSE_INVALID_HANDLE.</summary>
internal sealed class InvalidHandleException(string message) : Exception(message);

/// <summary>
/// Maps opaque C handles to managed objects. A handle is not a pointer but (slot index + 1) with the
/// slot's generation in the high bits, so a freed handle is recognised without touching freed memory:
/// freeing bumps the slot's generation, and any later use of the old value no longer matches. This
/// table is the only state of the ABI layer: it is what keeps the objects alive while C holds them.
/// </summary>
internal sealed class HandleTable
{
    private struct Slot
    {
        public object? Target;
        public HandleKind Kind;
        public uint Generation;
    }

    // 64-bit: 32-bit index and 32-bit generation. 32-bit processes (win-x86): 20-bit index, 11-bit
    // generation, so values stay positive and a stale handle is caught unless its slot was reused 2048 times.
    private static readonly int IndexBits = IntPtr.Size == 8 ? 32 : 20;
    private static readonly ulong IndexMask = (1UL << IndexBits) - 1;
    private static readonly uint GenerationMask = IntPtr.Size == 8 ? uint.MaxValue : (1u << 11) - 1;

    private readonly Lock _lock = new();
    private readonly List<Slot> _slots = [];
    private readonly Stack<int> _free = new();
    private int _live;

    public int Live
    {
        get { lock (_lock) return _live; }
    }

    public nint Add(object target, HandleKind kind)
    {
        lock (_lock)
        {
            int index;
            if (_free.Count > 0)
            {
                index = _free.Pop();
            }
            else
            {
                if ((ulong)_slots.Count >= IndexMask)
                    throw new OutOfMemoryException("Too many live TfPose handles.");
                index = _slots.Count;
                _slots.Add(new Slot { Generation = 1 });
            }
            var slot = _slots[index];
            slot.Target = target;
            slot.Kind = kind;
            _slots[index] = slot;
            _live++;
            return (nint)(((ulong)slot.Generation << IndexBits) | (uint)(index + 1));
        }
    }

    public T Get<T>(nint handle, HandleKind kind, string what) where T : class
    {
        lock (_lock)
            return (T)Find(handle, kind, what).Target!;
    }

    /// <summary>Removes the handle and returns its object for disposal (outside the lock).</summary>
    public T Remove<T>(nint handle, HandleKind kind, string what) where T : class
    {
        lock (_lock)
        {
            var slot = Find(handle, kind, what);
            var index = (int)(((ulong)handle & IndexMask) - 1);
            var target = (T)slot.Target!;
            // Generation 0 is never issued, so a zeroed handle value can never match a slot.
            var next = (slot.Generation + 1) & GenerationMask;
            _slots[index] = new Slot { Generation = next == 0 ? 1 : next };
            _free.Push(index);
            _live--;
            return target;
        }
    }

    private Slot Find(nint handle, HandleKind kind, string what)
    {
        if (handle == 0)
            throw new ArgumentNullException(what, $"{what} is NULL.");
        var value = (ulong)handle;
        var index = (long)(value & IndexMask) - 1;
        var generation = (uint)(value >> IndexBits);
        if (index < 0 || index >= _slots.Count || _slots[(int)index].Generation != generation)
            throw new InvalidHandleException($"{what} is not a live TfPose handle (already freed, or not created by this library).");
        var slot = _slots[(int)index];
        if (slot.Target is null)
            throw new InvalidHandleException($"{what} is not a live TfPose handle (already freed).");
        if (slot.Kind != kind)
            throw new InvalidHandleException($"{what} is a {Describe(slot.Kind)} handle, not a {Describe(kind)} handle.");
        return slot;
    }

    private static string Describe(HandleKind kind) => kind switch
    {
        HandleKind.Session => "tfpose_session",
        HandleKind.Results => "tfpose_results",
        HandleKind.Estimator => "tfpose_estimator",
        HandleKind.People => "tfpose_people",
        _ => "tfpose_image",
    };
}
