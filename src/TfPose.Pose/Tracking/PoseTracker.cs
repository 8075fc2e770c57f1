using OpenCvSharp;

namespace TfPose.Pose.Tracking;

/// <summary>A person the tracker remembers: the last detection linked to the id and when it was seen.</summary>
public sealed class PoseTrack
{
    internal PoseTrack() { }

    public int Id { get; internal set; }

    /// <summary>Timestamp of the last detection linked to this track.</summary>
    public TimeSpan LastSeen { get; internal set; }

    /// <summary>The box the box tracker compares (see <see cref="PoseSimilarity.BoxOf"/>); null if the detection had none.</summary>
    public Rect2f? Box { get; internal set; }

    public KeypointSet KeypointSet { get; internal set; } = KeypointSet.Coco17;

    // The detection's keypoints as (normalised x, normalised y, score), reused when the track is updated.
    internal float[] Keypoints = [];

    internal void Set(Person person, TimeSpan timestamp, Rect2f? box)
    {
        LastSeen = timestamp;
        Box = box;
        KeypointSet = person.KeypointSet;
        var n = 3 * person.KeypointSet.Count;
        if (Keypoints.Length != n) Keypoints = new float[n];
        PoseSimilarity.Flatten(person, Keypoints);
    }
}

/// <summary>
/// Gives people stable ids across video frames the way TensorFlow.js pose-detection's trackers do
/// (<c>Tracker</c>, <c>BoundingBoxTracker</c>, <c>KeypointTracker</c>). Each <see cref="Update"/>: forgets tracks
/// not seen for longer than MaxAge; scores every detection against every track (box IoU or keypoint OKS);
/// links detections to tracks greedily, a link needing at least MinSimilarity; starts a track with a new id
/// (1, 2, 3, … never reused) for each detection left over; keeps the MaxTracks most recently seen tracks.
/// </summary>
/// <remarks>
/// The tracker keeps its work buffers between calls, so a frame allocates nothing once they have grown;
/// it is not thread-safe. Keypoint similarity uses the keypoints' normalised coordinates, as pose-detection
/// does; box similarity uses pixels, which gives the same IoU.
/// </remarks>
public sealed class PoseTracker
{
    private readonly TrackerOptions _options;
    private readonly double _minSimilarity;
    private readonly List<PoseTrack> _tracks = [];
    private readonly Stack<PoseTrack> _free = new();
    private readonly Dictionary<KeypointSet, double[]> _falloffs = new(ReferenceEqualityComparer.Instance);
    private int _nextId = 1;

    // Per-frame buffers, grown as needed.
    private double[] _similarity = [];
    private int[] _order = [], _match = [], _keypointOffset = [];
    private bool[] _trackTaken = [];
    private Rect2f?[] _boxes = [];
    private float[] _keypoints = [];
    private Pair[] _pairs = [];

    private readonly record struct Pair(double Similarity, int Rank, int Track);

    public PoseTracker(TrackerOptions? options = null)
    {
        _options = options ?? new TrackerOptions();
        _options.Validate();
        _minSimilarity = _options.EffectiveMinSimilarity;
    }

    public TrackerOptions Options => _options;

    /// <summary>The live tracks, most recently seen first (valid until the next call).</summary>
    public IReadOnlyList<PoseTrack> Tracks => _tracks;

    /// <summary>Whether a track with this id is live.</summary>
    public bool Contains(int id)
    {
        foreach (var t in _tracks)
            if (t.Id == id) return true;
        return false;
    }

    /// <summary>
    /// Links this frame's people to tracks and sets each one's <see cref="Person.TrackId"/>. Timestamps are the
    /// frames' times (e.g. the video position) and should increase.
    /// </summary>
    public void Update(IReadOnlyList<Person> people, TimeSpan timestamp)
    {
        ArgumentNullException.ThrowIfNull(people);
        DropStale(timestamp);
        int n = people.Count, m = _tracks.Count;
        Describe(people);
        ScoreAll(people, n, m);
        if (_options.Assignment == TrackAssignment.MostConfidentFirst) AssignByDetection(n, m);
        else AssignByPair(n, m);

        // Linked detections refresh their tracks; the rest start new ones, most confident first.
        for (var r = 0; r < n; r++)
        {
            var d = _order[r];
            PoseTrack track;
            if (_match[d] >= 0)
                track = _tracks[_match[d]];
            else
            {
                track = _free.Count > 0 ? _free.Pop() : new PoseTrack();
                track.Id = _nextId++;
                _tracks.Add(track);
            }
            track.Set(people[d], timestamp, _boxes[d]);
            people[d].TrackId = track.Id;
        }
        KeepFreshest();
    }

    /// <summary>Forgets a track (its id is not reused).</summary>
    public bool Remove(int id)
    {
        for (var i = 0; i < _tracks.Count; i++)
        {
            if (_tracks[i].Id != id) continue;
            _free.Push(_tracks[i]);
            _tracks.RemoveAt(i);
            return true;
        }
        return false;
    }

    /// <summary>Forgets all tracks. Ids keep counting up (as in pose-detection), so an id never names two people.</summary>
    public void Reset()
    {
        foreach (var t in _tracks) _free.Push(t);
        _tracks.Clear();
    }

    private void DropStale(TimeSpan timestamp)
    {
        var kept = 0;
        for (var i = 0; i < _tracks.Count; i++)
        {
            if (timestamp - _tracks[i].LastSeen <= _options.MaxAge) _tracks[kept++] = _tracks[i];
            else _free.Push(_tracks[i]);
        }
        _tracks.RemoveRange(kept, _tracks.Count - kept);
    }

    /// <summary>Boxes or flattened keypoints of the detections, and their order by descending score.</summary>
    private void Describe(IReadOnlyList<Person> people)
    {
        var n = people.Count;
        Grow(ref _order, n);
        Grow(ref _match, n);
        Grow(ref _boxes, n);
        Grow(ref _keypointOffset, n);
        var total = 0;
        for (var d = 0; d < n; d++)
        {
            ArgumentNullException.ThrowIfNull(people[d], nameof(people));
            _keypointOffset[d] = total;
            total += 3 * people[d].KeypointSet.Count;
        }
        if (_options.Kind == TrackerKind.Keypoint) Grow(ref _keypoints, total);
        for (var d = 0; d < n; d++)
        {
            var p = people[d];
            _boxes[d] = PoseSimilarity.BoxOf(p, _options.KeypointConfidenceThreshold);
            if (_options.Kind == TrackerKind.Keypoint)
                PoseSimilarity.Flatten(p, _keypoints.AsSpan(_keypointOffset[d], 3 * p.KeypointSet.Count));
            _match[d] = -1;

            // Insertion sort by descending score keeps equal scores in input order, so a list already
            // sorted the way pose-detection expects is processed exactly in its order.
            var r = d;
            for (; r > 0 && people[_order[r - 1]].Score < p.Score; r--) _order[r] = _order[r - 1];
            _order[r] = d;
        }
    }

    private void ScoreAll(IReadOnlyList<Person> people, int n, int m)
    {
        Grow(ref _similarity, n * m);
        for (var d = 0; d < n; d++)
        {
            var p = people[d];
            var falloff = _options.Kind == TrackerKind.Keypoint ? FalloffOf(p.KeypointSet) : null;
            for (var t = 0; t < m; t++)
            {
                var track = _tracks[t];
                double s;
                if (_options.Kind == TrackerKind.BoundingBox)
                    s = _boxes[d] is { } a && track.Box is { } b ? PoseSimilarity.Iou(a, b) : 0;
                else if (!ReferenceEquals(track.KeypointSet, p.KeypointSet))
                    s = 0;
                else
                    s = PoseSimilarity.Oks(_keypoints.AsSpan(_keypointOffset[d], 3 * p.KeypointSet.Count), track.Keypoints,
                        falloff, _options.KeypointConfidenceThreshold, _options.MinNumberOfKeypoints);
                _similarity[d * m + t] = s;
            }
        }
    }

    /// <summary>pose-detection's assignment: each detection in turn takes the free track it is most similar to.</summary>
    private void AssignByDetection(int n, int m)
    {
        Grow(ref _trackTaken, m);
        Array.Clear(_trackTaken, 0, m);
        for (var r = 0; r < n; r++)
        {
            var d = _order[r];
            int best = -1;
            var bestSimilarity = -1.0;
            for (var t = 0; t < m; t++)
            {
                var s = _similarity[d * m + t];
                // Strictly greater: on a tie the fresher track (earlier in the list) wins, as in pose-detection.
                if (!_trackTaken[t] && s >= _minSimilarity && s > bestSimilarity)
                {
                    best = t;
                    bestSimilarity = s;
                }
            }
            if (best < 0) continue;
            _match[d] = best;
            _trackTaken[best] = true;
        }
    }

    /// <summary>Global greedy matching: the most similar remaining pair first.</summary>
    private void AssignByPair(int n, int m)
    {
        Grow(ref _trackTaken, m);
        Array.Clear(_trackTaken, 0, m);
        Grow(ref _pairs, n * m);
        var count = 0;
        for (var r = 0; r < n; r++)
            for (var t = 0; t < m; t++)
                if (_similarity[_order[r] * m + t] is var s && s >= _minSimilarity)
                    _pairs[count++] = new Pair(s, r, t);
        _pairs.AsSpan(0, count).Sort(static (a, b) =>
            a.Similarity != b.Similarity ? b.Similarity.CompareTo(a.Similarity) : a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Track.CompareTo(b.Track));
        foreach (var pair in _pairs.AsSpan(0, count))
        {
            var d = _order[pair.Rank];
            if (_match[d] >= 0 || _trackTaken[pair.Track]) continue;
            _match[d] = pair.Track;
            _trackTaken[pair.Track] = true;
        }
    }

    /// <summary>Most recently seen first (stable, so equally fresh tracks keep their order), then at most MaxTracks.</summary>
    private void KeepFreshest()
    {
        for (var i = 1; i < _tracks.Count; i++)
        {
            var t = _tracks[i];
            var j = i;
            for (; j > 0 && _tracks[j - 1].LastSeen < t.LastSeen; j--) _tracks[j] = _tracks[j - 1];
            _tracks[j] = t;
        }
        for (var i = _options.MaxTracks; i < _tracks.Count; i++) _free.Push(_tracks[i]);
        if (_tracks.Count > _options.MaxTracks) _tracks.RemoveRange(_options.MaxTracks, _tracks.Count - _options.MaxTracks);
    }

    private double[] FalloffOf(KeypointSet set)
    {
        if (!_falloffs.TryGetValue(set, out var f))
            _falloffs[set] = f = PoseSimilarity.Falloff(set, _options);
        return f;
    }

    private static void Grow<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size) buffer = new T[Math.Max(size, 2 * buffer.Length)];
    }
}
