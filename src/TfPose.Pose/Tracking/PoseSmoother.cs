namespace TfPose.Pose.Tracking;

/// <summary>
/// Smooths keypoints over video frames the way TensorFlow.js pose-detection does: a One Euro filter per
/// keypoint coordinate (<c>KeypointsOneEuroFilter</c>) and a low-pass per visibility (<c>LowPassVisibilityFilter</c>),
/// kept per track id (set by a <see cref="PoseTracker"/>), or for the one untracked person of a single-person model.
/// </summary>
/// <remarks>
/// Filter state is kept in arrays per track and reused when tracks come and go, so a frame allocates only the
/// people it returns. Not thread-safe. Untracked people are smoothed only when a frame holds exactly one
/// (more cannot be told apart); that state is dropped on a frame without one, as pose-detection resets its
/// single-person filters when no pose is found.
/// </remarks>
public sealed class PoseSmoother
{
    private readonly SmoothingOptions _options;
    private readonly Dictionary<int, State> _tracked = [];
    private readonly Stack<State> _free = new();
    private readonly List<int> _expired = [];
    private State? _single;

    private struct KeypointFilter
    {
        public OneEuroState X, Y, Z;
        public LowPassState Visibility, Score;
    }

    private struct WorldFilter
    {
        public OneEuroState X, Y, Z;
        public LowPassState Score;
    }

    private sealed class State
    {
        public KeypointSet? Set;
        public KeypointFilter[] Keypoints = [];
        public WorldFilter[] World = [];
        public Keypoint[] Buffer = [];
        public TimeSpan LastSeen;

        public void Clear()
        {
            Set = null;
            Array.Clear(Keypoints);
            Array.Clear(World);
        }
    }

    public PoseSmoother(SmoothingOptions? options = null)
    {
        _options = options ?? new SmoothingOptions();
        _options.Validate();
    }

    public SmoothingOptions Options => _options;

    /// <summary>
    /// Smoothed copies of this frame's people (same order, keypoint set, track id, box and score), or the input
    /// itself when smoothing is disabled. Pass the tracker that set the ids to drop a track's filters exactly
    /// when the tracker drops the track (as pose-detection does); without it they go after
    /// <see cref="SmoothingOptions.MaxAge"/> unseen.
    /// </summary>
    public IReadOnlyList<Person> Smooth(IReadOnlyList<Person> people, TimeSpan timestamp, PoseTracker? tracker = null)
    {
        ArgumentNullException.ThrowIfNull(people);
        if (!_options.Enabled) return people;

        // Index loops: foreach over the interface would allocate an enumerator every frame.
        var untracked = 0;
        for (var i = 0; i < people.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(people[i], nameof(people));
            if (people[i].TrackId is null) untracked++;
        }

        var result = new List<Person>(people.Count);
        for (var i = 0; i < people.Count; i++)
        {
            var p = people[i];
            State? state;
            if (p.TrackId is { } id)
            {
                if (!_tracked.TryGetValue(id, out state))
                    _tracked[id] = state = Rent();
            }
            else if (untracked == 1)
                state = _single ??= Rent();
            else
                state = null;
            result.Add(state is null ? p : Apply(state, p, timestamp));
        }

        if (untracked != 1 && _single is not null)
        {
            Return(_single);
            _single = null;
        }
        foreach (var (id, state) in _tracked)
            if (tracker is not null ? !tracker.Contains(id) : timestamp - state.LastSeen > _options.MaxAge)
                _expired.Add(id);
        foreach (var id in _expired)
        {
            Return(_tracked[id]);
            _tracked.Remove(id);
        }
        _expired.Clear();
        return result;
    }

    /// <summary>Drops all filter state (e.g. after a seek).</summary>
    public void Reset()
    {
        foreach (var s in _tracked.Values) Return(s);
        _tracked.Clear();
        if (_single is not null) Return(_single);
        _single = null;
    }

    private State Rent() => _free.Count > 0 ? _free.Pop() : new State();

    private void Return(State s)
    {
        s.Clear();
        _free.Push(s);
    }

    private Person Apply(State state, Person person, TimeSpan timestamp)
    {
        var set = person.KeypointSet;
        if (!ReferenceEquals(state.Set, set))
        {
            // A new track, or one whose model changed: start its filters afresh.
            state.Clear();
            state.Set = set;
            if (state.Keypoints.Length != set.Count)
            {
                state.Keypoints = new KeypointFilter[set.Count];
                state.Buffer = new Keypoint[set.Count];
            }
        }
        state.LastSeen = timestamp;
        var micros = OneEuroFilter.ToMicroseconds(timestamp);
        var p = _options.Keypoints;
        var normalized = _options.Space == SmoothingSpace.Normalized;

        // Pixels per normalised unit along each axis, from the keypoints themselves (decoders report
        // NormalizedX = X / image width): the other coordinate follows the filtered one by this factor.
        var (width, height) = PixelScale(person);

        var filterCoordinates = true;
        var valueScale = 1.0;
        if (_options.ScaleBySize)
        {
            var size = Size(person, normalized, width, height);
            // pose-detection returns the keypoints unfiltered (and the filters untouched) for a tiny person.
            if (!(size >= _options.MinAllowedObjectScale) || size == 0) filterCoordinates = false;
            else valueScale = 1 / size;
        }

        var alpha = _options.VisibilityAlpha;
        var n = 0;
        for (var i = 0; i < set.Count; i++)
        {
            if (person[i] is not { } k) continue;
            ref var f = ref state.Keypoints[i];
            var outK = k;
            if (filterCoordinates)
            {
                if (normalized)
                {
                    var nx = f.X.Apply(k.NormalizedX, micros, valueScale, p);
                    var ny = f.Y.Apply(k.NormalizedY, micros, valueScale, p);
                    outK = outK with
                    {
                        NormalizedX = (float)nx, NormalizedY = (float)ny,
                        X = (float)(k.X + (nx - k.NormalizedX) * width), Y = (float)(k.Y + (ny - k.NormalizedY) * height),
                    };
                    // z is in x's units (pixels); filter it in normalised units too so the thresholds mean the same.
                    if (k.Z is { } z)
                        outK = outK with { Z = width > 0 ? (float)(f.Z.Apply(z / width, micros, valueScale, p) * width) : (float)f.Z.Apply(z, micros, valueScale, p) };
                }
                else
                {
                    var x = f.X.Apply(k.X, micros, valueScale, p);
                    var y = f.Y.Apply(k.Y, micros, valueScale, p);
                    outK = outK with
                    {
                        X = (float)x, Y = (float)y,
                        NormalizedX = width > 0 ? (float)(k.NormalizedX + (x - k.X) / width) : k.NormalizedX,
                        NormalizedY = height > 0 ? (float)(k.NormalizedY + (y - k.Y) / height) : k.NormalizedY,
                    };
                    if (k.Z is { } z)
                        outK = outK with { Z = (float)f.Z.Apply(z, micros, valueScale, p) };
                }
            }
            if (alpha is { } a)
            {
                if (k.Visibility is { } v)
                    outK = outK with { Visibility = (float)f.Visibility.Apply(v, a) };
                else if (_options.SmoothScores)
                    outK = outK with { Score = (float)f.Score.Apply(k.Score, a) };
            }
            state.Buffer[n++] = outK;
        }

        var smoothed = new Person(set, state.Buffer.AsSpan(0, n), person.Score)
        {
            Box = person.Box,
            WorldKeypoints = SmoothWorld(state, person.WorldKeypoints, micros),
        };
        smoothed.TrackId = person.TrackId;
        return smoothed;
    }

    private IReadOnlyList<WorldKeypoint>? SmoothWorld(State state, IReadOnlyList<WorldKeypoint>? world, long micros)
    {
        if (world is null || _options.WorldKeypoints is not { } p) return world;
        if (state.World.Length != world.Count)
        {
            // World keypoints are indexed by position; a different count means different keypoints.
            state.World = new WorldFilter[world.Count];
        }
        var alpha = _options.SmoothScores ? _options.VisibilityAlpha : null;
        var result = new WorldKeypoint[world.Count];
        for (var i = 0; i < world.Count; i++)
        {
            var w = world[i];
            ref var f = ref state.World[i];
            // Metres do not depend on how large the person looks, so no size scaling (pose-detection likewise).
            result[i] = w with
            {
                X = (float)f.X.Apply(w.X, micros, 1, p),
                Y = (float)f.Y.Apply(w.Y, micros, 1, p),
                Z = (float)f.Z.Apply(w.Z, micros, 1, p),
                Score = alpha is { } a ? (float)f.Score.Apply(w.Score, a) : w.Score,
            };
        }
        return result;
    }

    /// <summary>Pixels per normalised unit along x and y (0 where the keypoints do not tell).</summary>
    private static (double Width, double Height) PixelScale(Person person)
    {
        float bestX = 0, bestY = 0;
        double width = 0, height = 0;
        for (var i = 0; i < person.KeypointSet.Count; i++)
        {
            if (person[i] is not { } k) continue;
            // The keypoint farthest from the origin gives the ratio with the least rounding error.
            if (Math.Abs(k.NormalizedX) > bestX) { bestX = Math.Abs(k.NormalizedX); width = k.X / (double)k.NormalizedX; }
            if (Math.Abs(k.NormalizedY) > bestY) { bestY = Math.Abs(k.NormalizedY); height = k.Y / (double)k.NormalizedY; }
        }
        return (width > 0 && double.IsFinite(width) ? width : 0, height > 0 && double.IsFinite(height) ? height : 0);
    }

    /// <summary>The person's size: the mean of its box's width and height, in the filtering space's units.</summary>
    private static double Size(Person person, bool normalized, double width, double height)
    {
        if (PoseSimilarity.BoxOf(person, double.NegativeInfinity) is not { } box) return 0;
        if (!normalized) return (box.Width + box.Height) / 2.0;
        if (width == 0 || height == 0) return 0;
        return (box.Width / width + box.Height / height) / 2;
    }
}
