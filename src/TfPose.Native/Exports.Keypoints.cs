using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OpenCvSharp;
using TfPose.Pose;

namespace TfPose.Native;

/// <summary>tfpose_keypoint_ex in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeKeypointEx
{
    public uint StructSize;
    public byte* Name;
    public int Present;
    public float X;
    public float Y;
    public float Z;
    public float Score;
    public float Visibility;
    public float Presence;
    public int HasZ;
}

/// <summary>People of any keypoint set and video frames: the C face of <see cref="Person"/> and <see cref="PoseEstimator.EstimateFrame"/>.</summary>
internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tfpose_estimate_frame", CallConvs = [typeof(CallConvCdecl)])]
    public static nint EstimateFrame(nint estimator, NativeImageView* image, long timestampMicroseconds, nint* people)
    {
        try
        {
            var timestamp = TimeSpan.FromTicks(timestampMicroseconds * TimeSpan.TicksPerMicrosecond);
            EstimateInto(estimator, image, people, sequential: true, (e, mat, details) => e.EstimateFrame(mat, timestamp, details));
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_estimator_reset_video", CallConvs = [typeof(CallConvCdecl)])]
    public static nint EstimatorResetVideo(nint estimator)
    {
        try
        {
            var native = Handles.Get<NativeEstimator>(estimator, HandleKind.Estimator, nameof(estimator));
            lock (native.VideoGate)
                native.Estimator.ResetVideo();
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_keypoint_set", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleKeypointSet(nint people, byte** name, nuint* keypointCount)
    {
        try
        {
            if (name == null)
                throw new ArgumentNullException(nameof(name), "name (the output pointer) is NULL.");
            Out(keypointCount, "keypoint_count");
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            var set = native.KeypointSet;
            *name = set is null ? Status.Literal("\0"u8) : native.Name(set, -1);
            *keypointCount = (nuint)(set?.Count ?? 0);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_person_keypoint", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PersonKeypoint(nint people, nuint person, nuint keypoint, NativeKeypointEx* keypointOut)
    {
        try
        {
            if (keypointOut == null)
                throw new ArgumentNullException("keypoint_out", "keypoint_out is NULL.");
            if (keypointOut->StructSize < sizeof(uint) + sizeof(nint))
                throw new ArgumentException($"keypoint_out->struct_size is {keypointOut->StructSize}; set it to sizeof(tfpose_keypoint_ex) (or use TFPOSE_KEYPOINT_EX_INIT).");
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            CheckIndex(person, native.People.Count, "Person");
            var p = native.People[(int)person];
            CheckIndex(keypoint, p.KeypointSet.Count, "Keypoint");
            var k = p[(int)keypoint];
            var result = new NativeKeypointEx
            {
                StructSize = (uint)sizeof(NativeKeypointEx),
                Name = native.Name(p.KeypointSet, (int)keypoint),
                Present = k.HasValue ? 1 : 0,
                X = k?.X ?? 0,
                Y = k?.Y ?? 0,
                Z = k?.Z ?? 0,
                Score = k?.Score ?? 0,
                Visibility = k?.Visibility ?? -1,
                Presence = k?.Presence ?? -1,
                HasZ = k?.Z is null ? 0 : 1,
            };
            // A caller built against an older, shorter struct gets the fields it knows.
            var size = Math.Min(keypointOut->StructSize, (uint)sizeof(NativeKeypointEx));
            Buffer.MemoryCopy(&result, keypointOut, size, size);
            keypointOut->StructSize = size;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_person_track_id", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PersonTrackId(nint people, nuint person, int* trackId)
    {
        try
        {
            Out(trackId, "track_id");
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            CheckIndex(person, native.People.Count, "Person");
            *trackId = native.People[(int)person].TrackId ?? -1;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_person_world_keypoints", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PersonWorldKeypoints(nint people, nuint person, float* xyzs, nuint capacity, nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            CheckIndex(person, native.People.Count, "Person");
            var world = native.People[(int)person].WorldKeypoints;
            *count = (nuint)(world?.Count ?? 0);
            if (xyzs == null && capacity == 0)
                return 0;
            if (xyzs == null)
                throw new ArgumentNullException(nameof(xyzs), $"xyzs is NULL but capacity is {capacity}.");
            var needed = 4 * (nuint)(world?.Count ?? 0);
            if (capacity < needed)
                throw new BufferTooSmallException($"The world keypoints need {needed} floats but the buffer has {capacity}; *count holds the keypoint count.");
            for (var i = 0; i < (world?.Count ?? 0); i++)
            {
                var w = world![i];
                xyzs[4 * i] = w.X;
                xyzs[4 * i + 1] = w.Y;
                xyzs[4 * i + 2] = w.Z;
                xyzs[4 * i + 3] = w.Score;
            }
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_mask", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleMask(nint people, float* buffer, nuint capacity, int* width, int* height)
    {
        try
        {
            Out(width, nameof(width));
            Out(height, nameof(height));
            var mask = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people)).Mask;
            *width = mask?.Width ?? 0;
            *height = mask?.Height ?? 0;
            if (buffer == null && capacity == 0)
                return 0;
            if (buffer == null)
                throw new ArgumentNullException(nameof(buffer), $"buffer is NULL but capacity is {capacity}.");
            if (mask is null)
                return 0;
            var needed = (nuint)mask.Width * (nuint)mask.Height;
            if (capacity < needed)
                throw new BufferTooSmallException($"The mask needs {needed} floats ({mask.Width}x{mask.Height}) but the buffer has {capacity}.");
            mask.AsSpan<float>().CopyTo(new Span<float>(buffer, (int)needed));
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }
}
