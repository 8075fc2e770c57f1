using System.Numerics;
using System.Runtime.InteropServices;

namespace TfPose.Pose;

/// <summary>A heatmap peak on the upsampled grid.</summary>
/// <param name="Id">Running id over all parts (pafprocess' cid).</param>
/// <param name="Part">Body part.</param>
/// <param name="X">Column on the upsampled grid.</param>
/// <param name="Y">Row on the upsampled grid.</param>
/// <param name="Score">Unsmoothed, upsampled heatmap value at the peak.</param>
public readonly record struct HeatmapPeak(int Id, BodyPart Part, int X, int Y, float Score);

/// <summary>
/// Turns OpenPose network output (heatmaps + part affinity fields, NHWC) into people, following
/// tf-pose-estimation's TfPoseEstimator (area upsampling, 25×25 Gaussian smoothing, 3×3 non-maximum
/// suppression) and pafprocess (limb scoring, greedy matching, person assembly).
/// </summary>
/// <remarks>
/// The decoder owns its work buffers and reuses them between calls, so it is not thread-safe: use
/// one decoder per thread. Upsampled maps are never materialised in full: upsampling followed by
/// smoothing is one banded linear map per axis applied to the low-resolution heatmap, and PAF values
/// are read from the low-resolution map through the upsampling weights only where a limb is sampled.
/// </remarks>
public sealed class PafDecoder : IPoseDecoder
{
    private readonly PafDecoderOptions _options;
    private readonly int _heatmapOffset, _pafOffset = 19;

    private int _lowH, _lowW, _upH, _upW;
    private AxisFilter? _resizeY, _resizeX, _smoothY, _smoothX;
    private float[] _low = [], _tmp = [], _smooth = [];

    private readonly List<HeatmapPeak>[] _peaksByPart = Enumerable.Range(0, CocoSkeleton.PartCount).Select(_ => new List<HeatmapPeak>()).ToArray();
    private readonly List<HeatmapPeak> _allPeaks = [];
    private readonly List<Candidate> _candidates = [];
    private readonly List<Connection>[] _connections = CocoSkeleton.Limbs.Select(_ => new List<Connection>()).ToArray();
    private readonly List<float[]> _subsets = [];
    private readonly Stack<float[]> _freeRows = new();

    private const int ScoreSlot = CocoSkeleton.PartCount;      // subset[18]: summed score
    private const int CountSlot = CocoSkeleton.PartCount + 1;  // subset[19]: number of parts

    private readonly record struct Candidate(int IndexA, int IndexB, float Score);
    private readonly record struct Connection(int PeakA, int PeakB, int IdA, int IdB, float Score);

    public PafDecoder(PafDecoderOptions? options = null)
    {
        _options = options ?? new PafDecoderOptions();
        _options.Validate();
    }

    /// <summary>A decoder for <see cref="IPoseDecoder.Decode"/> that reads the model's heatmap and PAF channels.</summary>
    public PafDecoder(PoseModel model, PafDecoderOptions? options = null) : this(options)
    {
        ArgumentNullException.ThrowIfNull(model);
        _heatmapOffset = model.HeatmapOffset;
        _pafOffset = model.PafOffset;
    }

    public List<Person> Decode(PoseOutput output, ImageMapping mapping) =>
        Decode(output.Data, output.Height, output.Width, output.Channels, mapping, _heatmapOffset, _pafOffset);

    public PafDecoderOptions Options => _options;

    /// <summary>Height of the upsampled grid of the last decode (peak coordinates live there).</summary>
    public int UpsampledHeight => _upH;

    /// <summary>Width of the upsampled grid of the last decode.</summary>
    public int UpsampledWidth => _upW;

    /// <summary>Peaks found by the last decode, in id order (valid until the next call).</summary>
    public IReadOnlyList<HeatmapPeak> Peaks => _allPeaks;

    /// <summary>
    /// Decodes one network output.
    /// </summary>
    /// <param name="output">NHWC output of one image: height × width × channels floats.</param>
    /// <param name="height">Output height (network input height / stride).</param>
    /// <param name="width">Output width.</param>
    /// <param name="channels">Channels per pixel (57 for OpenPose COCO).</param>
    /// <param name="mapping">How normalised network coordinates map back to image pixels.</param>
    /// <param name="heatmapOffset">First heatmap channel (18 parts follow).</param>
    /// <param name="pafOffset">First PAF channel (38 channels follow).</param>
    public List<Person> Decode(ReadOnlySpan<float> output, int height, int width, int channels, ImageMapping mapping,
        int heatmapOffset = 0, int pafOffset = 19)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"The network output must have a positive size, got {height}x{width}.");
        if (heatmapOffset < 0 || heatmapOffset + CocoSkeleton.PartCount > channels || pafOffset < 0 || pafOffset + 38 > channels)
            throw new ArgumentException($"An OpenPose output needs 18 heatmap channels at {heatmapOffset} and 38 PAF channels at {pafOffset}, but it has {channels} channels.");
        if (output.Length < (long)height * width * channels)
            throw new ArgumentException($"The output holds {output.Length} floats, fewer than {height}x{width}x{channels}.");

        Prepare(height, width);
        FindPeaks(output, channels, heatmapOffset);
        Connect(output, channels, pafOffset);
        Assemble();
        return MakePeople(mapping);
    }

    private void Prepare(int lowH, int lowW)
    {
        if (lowH == _lowH && lowW == _lowW && _resizeY is not null) return;
        // tf-pose: upsample_size = int(network size / 8 * ratio) = int(output size * ratio).
        var upH = (int)(lowH * _options.UpsampleRatio);
        var upW = (int)(lowW * _options.UpsampleRatio);
        if (upH < 1 || upW < 1)
            throw new ArgumentException($"Upsampling a {lowH}x{lowW} output by {_options.UpsampleRatio} leaves nothing.");
        var g = AxisFilter.GaussKernel1D(_options.GaussianSize, _options.GaussianSigma);
        var ry = AxisFilter.AreaResize(lowH, upH);
        var rx = AxisFilter.AreaResize(lowW, upW);
        _resizeY = new AxisFilter(ry);
        _resizeX = new AxisFilter(rx);
        _smoothY = new AxisFilter(AxisFilter.Multiply(AxisFilter.Convolution(upH, g), ry));
        _smoothX = new AxisFilter(AxisFilter.Multiply(AxisFilter.Convolution(upW, g), rx));
        _lowH = lowH; _lowW = lowW; _upH = upH; _upW = upW;
        _low = new float[lowH * lowW];
        _tmp = new float[lowH * upW];
        _smooth = new float[upH * upW];
    }

    /// <summary>Value of the upsampled (unsmoothed) map of one channel at an upsampled-grid pixel.</summary>
    private float Upsampled(ReadOnlySpan<float> output, int channels, int channel, int y, int x)
    {
        var fy = _resizeY!; var fx = _resizeX!;
        int y0 = fy.RowStart[y], ny = fy.RowCount[y], oy = fy.RowOffset[y];
        int x0 = fx.RowStart[x], nx = fx.RowCount[x], ox = fx.RowOffset[x];
        if (ny == 1 && nx == 1) // integer ratio: plain replication
            return output[((y0 * _lowW) + x0) * channels + channel] * fy.RowWeights[oy] * fx.RowWeights[ox];
        var sum = 0f;
        for (var i = 0; i < ny; i++)
        {
            var row = 0f;
            for (var j = 0; j < nx; j++)
                row += fx.RowWeights[ox + j] * output[(((y0 + i) * _lowW) + x0 + j) * channels + channel];
            sum += fy.RowWeights[oy + i] * row;
        }
        return sum;
    }

    /// <summary>Smoothed upsampled heatmap of one part into _smooth (upH × upW).</summary>
    private void Smooth(ReadOnlySpan<float> output, int channels, int channel)
    {
        int lowH = _lowH, lowW = _lowW, upW = _upW;
        var low = _low.AsSpan();
        for (var i = 0; i < lowH * lowW; i++)
            low[i] = output[i * channels + channel];

        // Along x: tmp[y, :] = sum_s low[y, s] * column s of the combined resize+Gaussian filter.
        var fx = _smoothX!;
        var tmp = _tmp.AsSpan();
        tmp.Clear();
        for (var y = 0; y < lowH; y++)
        {
            var dstRow = tmp.Slice(y * upW, upW);
            for (var s = 0; s < lowW; s++)
            {
                var v = low[y * lowW + s];
                if (v == 0) continue;
                Axpy(v, fx.ColWeights.AsSpan(fx.ColOffset[s], fx.ColCount[s]), dstRow.Slice(fx.ColStart[s], fx.ColCount[s]));
            }
        }

        // Along y: smooth[i, :] = sum_k w_k * tmp[start + k, :].
        var fy = _smoothY!;
        var smooth = _smooth.AsSpan();
        for (var i = 0; i < _upH; i++)
        {
            var dst = smooth.Slice(i * upW, upW);
            dst.Clear();
            int start = fy.RowStart[i], count = fy.RowCount[i], off = fy.RowOffset[i];
            for (var k = 0; k < count; k++)
                Axpy(fy.RowWeights[off + k], tmp.Slice((start + k) * upW, upW), dst);
        }
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (var v = 0; v < vx.Length; v++)
                vy[v] += va * vx[v];
            i = vx.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
            y[i] += a * x[i];
    }

    private static void Axpy(float a, Span<float> x, Span<float> y) => Axpy(a, (ReadOnlySpan<float>)x, y);

    private void FindPeaks(ReadOnlySpan<float> output, int channels, int heatmapOffset)
    {
        _allPeaks.Clear();
        var threshold = _options.PeakThreshold;
        int h = _upH, w = _upW;
        var vThreshold = new Vector<float>(threshold);
        for (var part = 0; part < CocoSkeleton.PartCount; part++)
        {
            var list = _peaksByPart[part];
            list.Clear();
            Smooth(output, channels, heatmapOffset + part);
            var map = _smooth.AsSpan();
            for (var y = 0; y < h; y++)
            {
                var row = map.Slice(y * w, w);
                var x = 0;
                while (x < w)
                {
                    // Most of a heatmap is background: skip whole vectors below the threshold.
                    if (x + Vector<float>.Count <= w &&
                        !Vector.GreaterThanAny(new Vector<float>(row.Slice(x, Vector<float>.Count)), vThreshold))
                    {
                        x += Vector<float>.Count;
                        continue;
                    }
                    var v = row[x];
                    // tf-pose keeps a pixel equal to the max of its 3×3 window (SAME max-pool ignores the
                    // outside), then pafprocess keeps those above THRESH_HEAT.
                    if (v > threshold && IsLocalMax(map, w, h, x, y, v))
                    {
                        var peak = new HeatmapPeak(_allPeaks.Count, (BodyPart)part, x, y,
                            Upsampled(output, channels, heatmapOffset + part, y, x));
                        list.Add(peak);
                        _allPeaks.Add(peak);
                    }
                    x++;
                }
            }
        }
    }

    private static bool IsLocalMax(ReadOnlySpan<float> map, int w, int h, int x, int y, float v)
    {
        int y0 = Math.Max(0, y - 1), y1 = Math.Min(h - 1, y + 1);
        int x0 = Math.Max(0, x - 1), x1 = Math.Min(w - 1, x + 1);
        for (var yy = y0; yy <= y1; yy++)
            for (var xx = x0; xx <= x1; xx++)
                if (map[yy * w + xx] > v) return false;
        return true;
    }

    private void Connect(ReadOnlySpan<float> output, int channels, int pafOffset)
    {
        var steps = _options.PafSteps;
        var limbs = CocoSkeleton.Limbs;
        for (var l = 0; l < limbs.Count; l++)
        {
            var conns = _connections[l];
            conns.Clear();
            var listA = _peaksByPart[(int)limbs[l].From];
            var listB = _peaksByPart[(int)limbs[l].To];
            if (listA.Count == 0 || listB.Count == 0) continue;
            _candidates.Clear();
            int chX = pafOffset + limbs[l].PafX, chY = pafOffset + limbs[l].PafY;
            for (var a = 0; a < listA.Count; a++)
            {
                var pa = listA[a];
                for (var b = 0; b < listB.Count; b++)
                {
                    var pb = listB[b];
                    float dx = pb.X - pa.X, dy = pb.Y - pa.Y;
                    var norm = MathF.Sqrt(dx * dx + dy * dy);
                    if (norm < 1e-12f) continue;
                    dx /= norm; dy /= norm;
                    var stepX = (pb.X - pa.X) / (float)steps;
                    var stepY = (pb.Y - pa.Y) / (float)steps;
                    var sum = 0f;
                    var count = 0;
                    for (var i = 0; i < steps; i++)
                    {
                        // pafprocess' roundpaf: +0.5 then truncate.
                        var sx = (int)(pa.X + i * stepX + 0.5f);
                        var sy = (int)(pa.Y + i * stepY + 0.5f);
                        var score = dx * Upsampled(output, channels, chX, sy, sx) + dy * Upsampled(output, channels, chY, sy, sx);
                        sum += score;
                        if (score > _options.VectorScoreThreshold) count++;
                    }
                    // Mean alignment, penalised when the limb is longer than half the map height.
                    var criterion = sum / steps + MathF.Min(0f, 0.5f * _upH / norm - 1f);
                    if (count > _options.VectorCountThreshold && criterion > 0)
                        _candidates.Add(new Candidate(a, b, criterion));
                }
            }
            // Best first; a stable order for ties keeps results deterministic (std::sort is not).
            _candidates.Sort(CompareCandidates);
            foreach (var c in _candidates)
            {
                var taken = false;
                foreach (var conn in conns)
                    if (conn.PeakA == c.IndexA || conn.PeakB == c.IndexB) { taken = true; break; }
                if (taken) continue;
                conns.Add(new Connection(c.IndexA, c.IndexB, listA[c.IndexA].Id, listB[c.IndexB].Id, c.Score));
            }
        }
    }

    private static int CompareCandidates(Candidate x, Candidate y)
    {
        var c = y.Score.CompareTo(x.Score);
        if (c != 0) return c;
        c = x.IndexA.CompareTo(y.IndexA);
        return c != 0 ? c : x.IndexB.CompareTo(y.IndexB);
    }

    private float[] RentRow()
    {
        var row = _freeRows.Count > 0 ? _freeRows.Pop() : new float[CocoSkeleton.PartCount + 2];
        row.AsSpan().Fill(-1);
        return row;
    }

    private void Assemble()
    {
        foreach (var row in _subsets) _freeRows.Push(row);
        _subsets.Clear();
        var limbs = CocoSkeleton.Limbs;
        for (var l = 0; l < limbs.Count; l++)
        {
            int partA = (int)limbs[l].From, partB = (int)limbs[l].To;
            foreach (var conn in _connections[l])
            {
                var found = 0;
                int first = 0, second = 0;
                for (var s = 0; s < _subsets.Count; s++)
                {
                    if (_subsets[s][partA] == conn.IdA || _subsets[s][partB] == conn.IdB)
                    {
                        if (found == 0) first = s;
                        if (found == 1) second = s;
                        found++;
                    }
                }

                if (found == 1)
                {
                    var row = _subsets[first];
                    if (row[partB] != conn.IdB)
                    {
                        row[partB] = conn.IdB;
                        row[CountSlot] += 1;
                        row[ScoreSlot] += _allPeaks[conn.IdB].Score + conn.Score;
                    }
                }
                else if (found == 2)
                {
                    var r1 = _subsets[first];
                    var r2 = _subsets[second];
                    var overlap = false;
                    for (var p = 0; p < CocoSkeleton.PartCount; p++)
                        if (r1[p] >= 0 && r2[p] >= 0) { overlap = true; break; }
                    if (!overlap)
                    {
                        // Two partial people joined by this limb and sharing no part: merge them.
                        for (var p = 0; p < CocoSkeleton.PartCount; p++)
                            r1[p] += r2[p] + 1;
                        r1[CountSlot] += r2[CountSlot];
                        r1[ScoreSlot] += r2[ScoreSlot] + conn.Score;
                        _freeRows.Push(r2);
                        _subsets.RemoveAt(second);
                    }
                    else
                    {
                        r1[partB] = conn.IdB;
                        r1[CountSlot] += 1;
                        r1[ScoreSlot] += _allPeaks[conn.IdB].Score + conn.Score;
                    }
                }
                else if (found == 0 && l < 17)
                {
                    var row = RentRow();
                    row[partA] = conn.IdA;
                    row[partB] = conn.IdB;
                    row[CountSlot] = 2;
                    row[ScoreSlot] = _allPeaks[conn.IdA].Score + _allPeaks[conn.IdB].Score + conn.Score;
                    _subsets.Add(row);
                }
            }
        }

        for (var i = _subsets.Count - 1; i >= 0; i--)
        {
            var row = _subsets[i];
            if (row[CountSlot] < _options.MinParts || row[ScoreSlot] / row[CountSlot] < _options.MinPersonScore)
            {
                _freeRows.Push(row);
                _subsets.RemoveAt(i);
            }
        }
    }

    private List<Person> MakePeople(ImageMapping map)
    {
        var people = new List<Person>(_subsets.Count);
        Span<Keypoint> buffer = stackalloc Keypoint[CocoSkeleton.PartCount];
        foreach (var row in _subsets)
        {
            var n = 0;
            for (var p = 0; p < CocoSkeleton.PartCount; p++)
            {
                var id = (int)row[p];
                if (id < 0) continue;
                var peak = _allPeaks[id];
                // tf-pose reports a part at peak / grid size (the pixel's corner, not its centre).
                var nx = (float)peak.X / _upW;
                var ny = (float)peak.Y / _upH;
                var x = nx * map.ScaleX + map.OffsetX;
                var y = ny * map.ScaleY + map.OffsetY;
                buffer[n++] = new Keypoint(peak.Part, x, y,
                    map.ImageWidth > 0 ? x / map.ImageWidth : nx, map.ImageHeight > 0 ? y / map.ImageHeight : ny, peak.Score);
            }
            people.Add(new Person(KeypointSet.OpenPose18, buffer[..n], row[ScoreSlot] / row[CountSlot]));
        }
        return people;
    }
}
