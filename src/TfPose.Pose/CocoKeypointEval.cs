using System.Text.Json;

namespace TfPose.Pose;

/// <summary>A COCO person annotation (ground truth).</summary>
public sealed record CocoAnnotation(long Id, long ImageId, float[] Keypoints, int NumKeypoints, double Area, double[] Bbox, bool IsCrowd);

/// <summary>A COCO image entry.</summary>
public sealed record CocoImage(long Id, string FileName, int Width, int Height);

/// <summary>A keypoint detection to score: 17 COCO keypoints as x, y, v triples.</summary>
public sealed record CocoKeypointResult(long ImageId, float[] Keypoints, double Score)
{
    /// <summary>
    /// Converts a detected person to COCO-17 through its keypoint set's mapping (COCO-18: neck dropped, parts
    /// reordered; AI Challenger 14: the 12 limb keypoints, the 5 face keypoints left 0,0,0).
    /// </summary>
    public static CocoKeypointResult FromPerson(long imageId, Person person)
    {
        ArgumentNullException.ThrowIfNull(person);
        var order = person.KeypointSet.ToCoco17 ?? throw new ArgumentException(
            $"The {person.KeypointSet.Name} keypoint set has no COCO-17 mapping, so it cannot be scored against COCO.", nameof(person));
        var k = new float[51];
        for (var i = 0; i < order.Count; i++)
            if (order[i] >= 0 && person[order[i]] is { } p) { k[3 * i] = p.X; k[3 * i + 1] = p.Y; k[3 * i + 2] = 1; }
        return new CocoKeypointResult(imageId, k, person.Score);
    }
}

/// <summary>COCO person-keypoint ground truth (a person_keypoints_*.json file).</summary>
public sealed class CocoKeypointDataset
{
    public CocoKeypointDataset(IReadOnlyList<CocoImage> images, IReadOnlyList<CocoAnnotation> annotations)
    {
        Images = images;
        Annotations = annotations;
    }

    public IReadOnlyList<CocoImage> Images { get; }
    public IReadOnlyList<CocoAnnotation> Annotations { get; }

    /// <summary>Reads the images and the person (category 1) annotations of a COCO keypoints file.</summary>
    public static CocoKeypointDataset Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"COCO annotation file not found: {path}", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var images = root.GetProperty("images").EnumerateArray()
                .Select(i => new CocoImage(i.GetProperty("id").GetInt64(), i.GetProperty("file_name").GetString() ?? "",
                    i.TryGetProperty("width", out var w) ? w.GetInt32() : 0, i.TryGetProperty("height", out var h) ? h.GetInt32() : 0))
                .ToList();
            var anns = new List<CocoAnnotation>();
            foreach (var a in root.GetProperty("annotations").EnumerateArray())
            {
                if (a.TryGetProperty("category_id", out var cat) && cat.GetInt64() != 1) continue;
                var kps = a.GetProperty("keypoints").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                if (kps.Length != 51)
                    throw new InvalidDataException($"annotation {a.GetProperty("id")} has {kps.Length} keypoint values, expected 51 (17 × 3).");
                anns.Add(new CocoAnnotation(
                    a.GetProperty("id").GetInt64(), a.GetProperty("image_id").GetInt64(), kps,
                    a.TryGetProperty("num_keypoints", out var nk) ? nk.GetInt32() : kps.Where((_, i) => i % 3 == 2).Count(v => v > 0),
                    a.GetProperty("area").GetDouble(),
                    a.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
                    a.TryGetProperty("iscrowd", out var c) && c.GetInt32() != 0));
            }
            return new CocoKeypointDataset(images, anns);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a COCO keypoints annotation file ({e.Message})", e);
        }
    }
}

/// <summary>The ten numbers pycocotools prints for keypoints.</summary>
public sealed record CocoKeypointStats(double AP, double AP50, double AP75, double APMedium, double APLarge,
    double AR, double AR50, double AR75, double ARMedium, double ARLarge)
{
    public override string ToString() =>
        $"AP {AP:F3}  AP50 {AP50:F3}  AP75 {AP75:F3}  APm {APMedium:F3}  APl {APLarge:F3}  " +
        $"AR {AR:F3}  AR50 {AR50:F3}  AR75 {AR75:F3}  ARm {ARMedium:F3}  ARl {ARLarge:F3}";
}

/// <summary>
/// COCO keypoint evaluation as pycocotools' COCOeval(iouType='keypoints') computes it: OKS with the
/// standard per-keypoint sigmas, 10 OKS thresholds 0.50:0.05:0.95, 101 recall points, maxDets 20,
/// area ranges all / medium (32²–96²) / large (≥ 96²); crowd and zero-keypoint ground truth is ignored.
/// </summary>
public static class CocoKeypointEval
{
    public static IReadOnlyList<double> Sigmas { get; } =
        [.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087, .089, .089];

    private const int MaxDets = 20;
    private const double NpSpacing1 = 2.220446049250313e-16; // numpy np.spacing(1), the eps pycocotools adds
    private static readonly double[] IouThrs = Enumerable.Range(0, 10).Select(i => 0.5 + 0.05 * i).ToArray();
    private static readonly double[] RecThrs = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
    private static readonly (double Lo, double Hi)[] AreaRanges = [(0, 1e10), (32 * 32, 96 * 96), (96 * 96, 1e10)];

    private sealed record Det(CocoKeypointResult Result, double Area, int Order);

    private sealed record ImageEval(double[] Scores, bool[,] Matched, bool[,] Ignored, int NotIgnoredGts);

    public static CocoKeypointStats Evaluate(CocoKeypointDataset groundTruth, IEnumerable<CocoKeypointResult> results)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(results);
        var imageIds = groundTruth.Images.Select(i => i.Id).Concat(groundTruth.Annotations.Select(a => a.ImageId)).Distinct().Order().ToList();
        var known = imageIds.ToHashSet();
        var gtsByImage = groundTruth.Annotations.ToLookup(a => a.ImageId);
        var dets = new List<Det>();
        foreach (var r in results)
        {
            if (r.Keypoints.Length != 51)
                throw new ArgumentException($"A result for image {r.ImageId} has {r.Keypoints.Length} keypoint values, expected 51.");
            if (!known.Contains(r.ImageId))
                throw new ArgumentException($"Result image_id {r.ImageId} is not in the ground truth.");
            dets.Add(new Det(r, KeypointBoxArea(r.Keypoints), dets.Count));
        }
        var detsByImage = dets.ToLookup(d => d.Result.ImageId);

        var T = IouThrs.Length;
        var R = RecThrs.Length;
        var precision = new double[T, R, AreaRanges.Length];
        var recall = new double[T, AreaRanges.Length];
        for (var a = 0; a < AreaRanges.Length; a++)
        {
            var evals = new List<ImageEval>();
            foreach (var img in imageIds)
            {
                var e = EvaluateImage(gtsByImage[img].ToList(), detsByImage[img].ToList(), AreaRanges[a]);
                if (e is not null) evals.Add(e);
            }
            Accumulate(evals, a, precision, recall);
        }

        double Mean(Func<int, bool> tSel, int area, bool ap)
        {
            var values = new List<double>();
            for (var t = 0; t < T; t++)
            {
                if (!tSel(t)) continue;
                if (ap) { for (var r = 0; r < R; r++) if (precision[t, r, area] > -1) values.Add(precision[t, r, area]); }
                else if (recall[t, area] > -1) values.Add(recall[t, area]);
            }
            return values.Count == 0 ? -1 : values.Average();
        }
        bool All(int t) => true;
        bool At(int t, double v) => Math.Abs(IouThrs[t] - v) < 1e-9;
        return new CocoKeypointStats(
            Mean(All, 0, true), Mean(t => At(t, .5), 0, true), Mean(t => At(t, .75), 0, true), Mean(All, 1, true), Mean(All, 2, true),
            Mean(All, 0, false), Mean(t => At(t, .5), 0, false), Mean(t => At(t, .75), 0, false), Mean(All, 1, false), Mean(All, 2, false));
    }

    // pycocotools loadRes: a result's area is its keypoints' bounding box, over all 17 points (zeros included).
    private static double KeypointBoxArea(float[] k)
    {
        double x0 = double.MaxValue, x1 = double.MinValue, y0 = double.MaxValue, y1 = double.MinValue;
        for (var i = 0; i < 17; i++)
        {
            x0 = Math.Min(x0, k[3 * i]); x1 = Math.Max(x1, k[3 * i]);
            y0 = Math.Min(y0, k[3 * i + 1]); y1 = Math.Max(y1, k[3 * i + 1]);
        }
        return (x1 - x0) * (y1 - y0);
    }

    /// <summary>Object keypoint similarity between a detection and a ground-truth person (pycocotools computeOks).</summary>
    public static double Oks(float[] dt, CocoAnnotation gt)
    {
        var g = gt.Keypoints;
        var visible = 0;
        for (var i = 0; i < 17; i++) if (g[3 * i + 2] > 0) visible++;
        var bb = gt.Bbox;
        double x0 = bb[0] - bb[2], x1 = bb[0] + bb[2] * 2, y0 = bb[1] - bb[3], y1 = bb[1] + bb[3] * 2;
        double sum = 0;
        var n = 0;
        for (var i = 0; i < 17; i++)
        {
            double dx, dy;
            if (visible > 0)
            {
                if (g[3 * i + 2] <= 0) continue;
                dx = dt[3 * i] - g[3 * i];
                dy = dt[3 * i + 1] - g[3 * i + 1];
            }
            else
            {
                // No visible keypoint: distance to the box enlarged by its size on each side.
                dx = Math.Max(0, x0 - dt[3 * i]) + Math.Max(0, dt[3 * i] - x1);
                dy = Math.Max(0, y0 - dt[3 * i + 1]) + Math.Max(0, dt[3 * i + 1] - y1);
            }
            var variance = Math.Pow(Sigmas[i] * 2, 2);
            var e = (dx * dx + dy * dy) / variance / (gt.Area + NpSpacing1) / 2;
            sum += Math.Exp(-e);
            n++;
        }
        return sum / n;
    }

    private static ImageEval? EvaluateImage(List<CocoAnnotation> gts, List<Det> dts, (double Lo, double Hi) range)
    {
        if (gts.Count == 0 && dts.Count == 0) return null;
        // Stable sort by descending score (numpy mergesort), then keep maxDets.
        dts = dts.OrderByDescending(d => d.Result.Score).ThenBy(d => d.Order).Take(MaxDets).ToList();
        static bool BaseIgnore(CocoAnnotation g) => g.IsCrowd || g.NumKeypoints == 0;
        var gtIgnore = gts.Select(g => BaseIgnore(g) || g.Area < range.Lo || g.Area > range.Hi).ToArray();
        // Non-ignored ground truth first (stable).
        var order = Enumerable.Range(0, gts.Count).OrderBy(i => gtIgnore[i] ? 1 : 0).ToArray();
        var g2 = order.Select(i => gts[i]).ToArray();
        var ig = order.Select(i => gtIgnore[i]).ToArray();
        var oks = new double[dts.Count, g2.Length];
        for (var d = 0; d < dts.Count; d++)
            for (var g = 0; g < g2.Length; g++)
                oks[d, g] = Oks(dts[d].Result.Keypoints, g2[g]);

        var T = IouThrs.Length;
        var matched = new bool[T, dts.Count];
        var dtIgnored = new bool[T, dts.Count];
        for (var t = 0; t < T; t++)
        {
            var gtTaken = new bool[g2.Length];
            for (var d = 0; d < dts.Count; d++)
            {
                var best = Math.Min(IouThrs[t], 1 - 1e-10);
                var m = -1;
                for (var g = 0; g < g2.Length; g++)
                {
                    if (gtTaken[g] && !g2[g].IsCrowd) continue;
                    // Once matched to a real ground truth, never switch to an ignored one.
                    if (m > -1 && !ig[m] && ig[g]) break;
                    if (oks[d, g] < best) continue;
                    best = oks[d, g];
                    m = g;
                }
                if (m == -1) continue;
                dtIgnored[t, d] = ig[m];
                matched[t, d] = true;
                gtTaken[m] = true;
            }
            for (var d = 0; d < dts.Count; d++)
                if (!matched[t, d] && (dts[d].Area < range.Lo || dts[d].Area > range.Hi))
                    dtIgnored[t, d] = true;
        }
        return new ImageEval(dts.Select(d => d.Result.Score).ToArray(), matched, dtIgnored, ig.Count(x => !x));
    }

    private static void Accumulate(List<ImageEval> evals, int area, double[,,] precision, double[,] recall)
    {
        var T = IouThrs.Length;
        var npig = evals.Sum(e => e.NotIgnoredGts);
        if (npig == 0)
        {
            for (var t = 0; t < T; t++)
            {
                recall[t, area] = -1;
                for (var r = 0; r < RecThrs.Length; r++) precision[t, r, area] = -1;
            }
            return;
        }
        // All detections of all images, by descending score (stable, images in id order).
        var all = evals.SelectMany((e, ei) => e.Scores.Select((s, d) => (Score: s, E: ei, D: d)))
            .Select((x, i) => (x.Score, x.E, x.D, I: i)).OrderByDescending(x => x.Score).ThenBy(x => x.I).ToList();
        for (var t = 0; t < T; t++)
        {
            var tp = new List<double>();
            var fp = new List<double>();
            double tpSum = 0, fpSum = 0;
            foreach (var x in all)
            {
                var e = evals[x.E];
                if (e.Ignored[t, x.D]) { tp.Add(tpSum); fp.Add(fpSum); continue; }
                if (e.Matched[t, x.D]) tpSum++; else fpSum++;
                tp.Add(tpSum); fp.Add(fpSum);
            }
            var nd = tp.Count;
            var rc = new double[nd];
            var pr = new double[nd];
            for (var i = 0; i < nd; i++)
            {
                rc[i] = tp[i] / npig;
                pr[i] = tp[i] / (fp[i] + tp[i] + NpSpacing1);
            }
            recall[t, area] = nd > 0 ? rc[nd - 1] : 0;
            for (var i = nd - 1; i > 0; i--)
                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
            for (var r = 0; r < RecThrs.Length; r++)
            {
                // searchsorted(rc, recThr, side='left'); beyond the end the precision stays 0.
                var idx = LowerBound(rc, RecThrs[r]);
                precision[t, r, area] = idx < nd ? pr[idx] : 0;
            }
        }
    }

    private static int LowerBound(double[] a, double v)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (a[mid] < v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
