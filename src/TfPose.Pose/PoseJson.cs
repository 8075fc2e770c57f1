using System.Text.Json;
using TfPose.Graph;
using TfPose.IO;

namespace TfPose.Pose;

/// <summary>One COCO keypoint result: an image id and a detected person.</summary>
public readonly record struct CocoDetection(long ImageId, Person Person);

/// <summary>Writers for OpenPose's per-image JSON and COCO keypoint results, always via temp file + rename.</summary>
public static class PoseJson
{
    /// <summary>
    /// OpenPose format: <c>{"version":1.3,"keypoint_set":"openpose-coco18","keypoint_names":[...],"people":[{"person_id":[-1],"pose_keypoints_2d":[x,y,c,...]}]}</c>
    /// with the keypoints of the people's set in set order (OpenPose: 18 in COCO-18 order); a missing
    /// keypoint is 0,0,0. <paramref name="keypointSet"/> names the set when there are no people (default
    /// OpenPose's); OpenPose readers ignore the extra fields. <c>person_id</c> is the tracker's id in video (−1
    /// untracked). Where the model gives them: <c>pose_keypoints_3d</c> (x, y, z, score, OpenPose's 3-D layout),
    /// <c>pose_visibility</c> (visibility, presence per keypoint), <c>pose_world_keypoints</c> (x, y, z in metres,
    /// score) and <c>box</c> (x, y, width, height in pixels).
    /// </summary>
    public static void WriteOpenPose(Stream stream, IEnumerable<Person> people, KeypointSet? keypointSet = null)
    {
        var list = people as IReadOnlyList<Person> ?? people.ToList();
        var set = keypointSet ?? (list.Count > 0 ? list[0].KeypointSet : KeypointSet.OpenPose18);
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteNumber("version", 1.3);
        w.WriteString("keypoint_set", set.Name);
        w.WriteStartArray("keypoint_names");
        foreach (var n in set.Names) w.WriteStringValue(n);
        w.WriteEndArray();
        w.WriteStartArray("people");
        foreach (var person in list)
        {
            if (!ReferenceEquals(person.KeypointSet, set))
                throw new ArgumentException($"A person has {person.KeypointSet.Name} keypoints, but the file holds {set.Name}.", nameof(people));
            w.WriteStartObject();
            w.WriteStartArray("person_id");
            w.WriteNumberValue(person.TrackId ?? -1);
            w.WriteEndArray();
            w.WriteStartArray("pose_keypoints_2d");
            for (var p = 0; p < set.Count; p++)
            {
                if (person[p] is { } k)
                {
                    w.WriteNumberValue(Math.Round(k.X, 3));
                    w.WriteNumberValue(Math.Round(k.Y, 3));
                    w.WriteNumberValue(Math.Round(k.Score, 5));
                }
                else
                {
                    w.WriteNumberValue(0); w.WriteNumberValue(0); w.WriteNumberValue(0);
                }
            }
            w.WriteEndArray();
            WriteExtras(w, person, set);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteExtras(Utf8JsonWriter w, Person person, KeypointSet set)
    {
        if (person.Keypoints.Any(k => k.Z.HasValue))
        {
            w.WriteStartArray("pose_keypoints_3d");
            for (var p = 0; p < set.Count; p++)
            {
                var k = person[p];
                w.WriteNumberValue(Math.Round(k?.X ?? 0, 3));
                w.WriteNumberValue(Math.Round(k?.Y ?? 0, 3));
                w.WriteNumberValue(Math.Round(k?.Z ?? 0, 3));
                w.WriteNumberValue(Math.Round(k?.Score ?? 0, 5));
            }
            w.WriteEndArray();
        }
        if (person.Keypoints.Any(k => k.Visibility.HasValue || k.Presence.HasValue))
        {
            w.WriteStartArray("pose_visibility");
            for (var p = 0; p < set.Count; p++)
            {
                w.WriteNumberValue(Math.Round(person[p]?.Visibility ?? 0, 5));
                w.WriteNumberValue(Math.Round(person[p]?.Presence ?? 0, 5));
            }
            w.WriteEndArray();
        }
        if (person.WorldKeypoints is { } world)
        {
            w.WriteStartArray("pose_world_keypoints");
            foreach (var k in world)
            {
                w.WriteNumberValue(Math.Round(k.X, 5));
                w.WriteNumberValue(Math.Round(k.Y, 5));
                w.WriteNumberValue(Math.Round(k.Z, 5));
                w.WriteNumberValue(Math.Round(k.Score, 5));
            }
            w.WriteEndArray();
        }
        if (person.Box is { } box)
        {
            w.WriteStartArray("box");
            w.WriteNumberValue(Math.Round(box.X, 2));
            w.WriteNumberValue(Math.Round(box.Y, 2));
            w.WriteNumberValue(Math.Round(box.Width, 2));
            w.WriteNumberValue(Math.Round(box.Height, 2));
            w.WriteEndArray();
        }
    }

    public static void WriteOpenPose(string path, IEnumerable<Person> people, KeypointSet? keypointSet = null) =>
        AtomicFile.Write(path, s => WriteOpenPose(s, people, keypointSet));

    public static string ToOpenPoseJson(IEnumerable<Person> people, KeypointSet? keypointSet = null)
    {
        using var ms = new MemoryStream();
        WriteOpenPose(ms, people, keypointSet);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>
    /// COCO results: <c>[{"image_id":..,"category_id":1,"keypoints":[x,y,v ×17],"score":..}]</c>, through the
    /// keypoint set's COCO-17 mapping (COCO-18 drops the neck; AI Challenger 14 has no face keypoints and
    /// drops head top and neck); a detected keypoint gets v = 1, a missing or unmapped one 0,0,0.
    /// </summary>
    public static void WriteCocoResults(Stream stream, IEnumerable<CocoDetection> detections)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartArray();
        foreach (var d in detections)
        {
            w.WriteStartObject();
            w.WriteNumber("image_id", d.ImageId);
            w.WriteNumber("category_id", 1);
            w.WriteStartArray("keypoints");
            var k = CocoKeypointResult.FromPerson(d.ImageId, d.Person).Keypoints;
            for (var i = 0; i < 17; i++)
            {
                w.WriteNumberValue(Math.Round(k[3 * i], 2)); w.WriteNumberValue(Math.Round(k[3 * i + 1], 2)); w.WriteNumberValue(k[3 * i + 2]);
            }
            w.WriteEndArray();
            w.WriteNumber("score", Math.Round(d.Person.Score, 5));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void WriteCocoResults(string path, IEnumerable<CocoDetection> detections) =>
        AtomicFile.Write(path, s => WriteCocoResults(s, detections));
}
