namespace TfPose.Pose;

/// <summary>
/// Work buffers for calls that may overlap: a call rents a worker, uses it alone, and returns it. A worker is made only
/// when a call finds none idle, so the pool grows to the most calls ever in flight at once and then stops allocating.
/// Idle workers are handed out last-in first-out, so calls that never overlap always get the same one (its buffers stay
/// warm, and what it holds after a call is that call's).
/// </summary>
internal sealed class WorkerPool<T> where T : class
{
    private readonly Lock _lock = new();
    private readonly Func<T> _create;
    private readonly Stack<T> _idle = new();
    private readonly List<T> _all = [];

    public WorkerPool(T first, Func<T> create)
    {
        _create = create;
        _all.Add(first);
        _idle.Push(first);
    }

    public T Rent()
    {
        lock (_lock)
        {
            if (_idle.TryPop(out var idle))
                return idle;
        }
        // Made outside the lock: a pipeline worker allocates megabytes, and other calls need not wait for it.
        var made = _create();
        lock (_lock)
            _all.Add(made);
        return made;
    }

    public void Return(T worker)
    {
        lock (_lock)
            _idle.Push(worker);
    }

    /// <summary>Every worker made so far, the first one first; for disposal once no call is in flight.</summary>
    public IReadOnlyList<T> All
    {
        get
        {
            lock (_lock)
                return [.. _all];
        }
    }
}
