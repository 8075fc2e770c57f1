using System.Text.Json;
using TfPose.Graph;

namespace TfPose.Pose;

/// <summary>One COCO keypoint result: an image id and a detected person.</summary>
public readonly record struct CocoDetection(long ImageId, Person Person);

/// <summary>Writers for OpenPose's per-image JSON and COCO keypoint results, always via temp file + rename.</summary>
public static class PoseJson
{
    /// <summary>
    /// OpenPose format: <c>{"version":1.3,"people":[{"person_id":[-1],"pose_keypoints_2d":[x,y,c,...]}]}</c>
    /// with 18 keypoints in COCO-18 order; a missing part is 0,0,0.
    /// </summary>
    public static void WriteOpenPose(Stream stream, IEnumerable<Person> people)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteNumber("version", 1.3);
        w.WriteStartArray("people");
        foreach (var person in people)
        {
            w.WriteStartObject();
            w.WriteStartArray("person_id");
            w.WriteNumberValue(-1);
            w.WriteEndArray();
            w.WriteStartArray("pose_keypoints_2d");
            for (var p = 0; p < CocoSkeleton.PartCount; p++)
            {
                if (person[(BodyPart)p] is { } k)
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
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteOpenPose(string path, IEnumerable<Person> people) =>
        AtomicFile.Write(path, s => WriteOpenPose(s, people));

    public static string ToOpenPoseJson(IEnumerable<Person> people)
    {
        using var ms = new MemoryStream();
        WriteOpenPose(ms, people);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>
    /// COCO results: <c>[{"image_id":..,"category_id":1,"keypoints":[x,y,v ×17],"score":..}]</c>. COCO-18 maps
    /// to COCO-17 by dropping the neck and reordering; a detected part gets v = 1, a missing one 0,0,0.
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
            foreach (var part in CocoSkeleton.Coco17Order)
            {
                if (d.Person[part] is { } k)
                {
                    w.WriteNumberValue(Math.Round(k.X, 2)); w.WriteNumberValue(Math.Round(k.Y, 2)); w.WriteNumberValue(1);
                }
                else
                {
                    w.WriteNumberValue(0); w.WriteNumberValue(0); w.WriteNumberValue(0);
                }
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
