using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;
using TfPose.Imaging;
using TfPose.Pose;
using TfPose.Runtime;

namespace TfPose.Native;

/// <summary>tfpose_image_view in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeImageView
{
    public byte* Data;
    public int Width;
    public int Height;
    public nuint Stride;
    public int Format;
}

/// <summary>tfpose_estimator_options in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeEstimatorOptions
{
    public uint StructSize;
    public int Width;
    public int Height;
    public int KeepAspectRatio;
    public int ScaleNumber;
    public float ScaleGap;
    public float UpsampleRatio;
    public int IntraOpThreads;
    public byte* DetectorModel;
    public int Segmentation;

    // Added later: callers built against the older header pass a struct_size that ends before these, and get the CPU.
    public int Device;
    public int DeviceId;
}

/// <summary>tfpose_keypoint in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeKeypoint
{
    public int Present;
    public float X;
    public float Y;
    public float Score;
}

/// <summary>tfpose_person in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativePerson
{
    public float Score;
    public int PartCount;
    public PartArray Parts;

    [InlineArray(CocoSkeleton.PartCount)]
    public struct PartArray
    {
        private NativeKeypoint _element;
    }
}

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tfpose_estimator_create", CallConvs = [typeof(CallConvCdecl)])]
    public static nint EstimatorCreate(byte* modelPath, NativeEstimatorOptions* options, nint* estimator)
    {
        try
        {
            Out(estimator, nameof(estimator));
            var path = Utf8(modelPath, "model_path");
            var o = ReadOptions(options, "options");
            if (o.Width < 0 || o.Height < 0)
                throw new ArgumentException($"options->width/height are {o.Width}x{o.Height}; use 0 for the default or a positive multiple of 8.");
            if (o.IntraOpThreads < 0)
                throw new ArgumentException($"options->intra_op_threads is {o.IntraOpThreads}; use 0 for the default or a positive count.");
            if (o.Device is < 0 or > 2)
                throw new ArgumentException($"options->device is {o.Device}; use TFPOSE_DEVICE_CPU (0), _CUDA (1) or _TENSORRT (2).");
            if (o.DeviceId < 0)
                throw new ArgumentException($"options->device_id is {o.DeviceId}; it must not be negative.");
            if (o.ScaleNumber < 0 || o.ScaleGap < 0 || o.UpsampleRatio < 0 || float.IsNaN(o.ScaleGap) || float.IsNaN(o.UpsampleRatio))
                throw new ArgumentException("options->scale_number, scale_gap and upsample_ratio must not be negative (0 = default).");
            var defaults = new PoseEstimatorOptions();
            var poseOptions = new PoseEstimatorOptions
            {
                Width = o.Width == 0 ? null : o.Width,
                Height = o.Height == 0 ? null : o.Height,
                KeepAspectRatio = o.KeepAspectRatio != 0,
                ScaleNumber = o.ScaleNumber == 0 ? defaults.ScaleNumber : o.ScaleNumber,
                ScaleGap = o.ScaleGap == 0 ? defaults.ScaleGap : o.ScaleGap,
                Session = new GraphSessionOptions { IntraOpThreads = o.IntraOpThreads, Device = (ExecutionDevice)o.Device, DeviceId = o.DeviceId },
                Decoder = new PafDecoderOptions { UpsampleRatio = o.UpsampleRatio == 0 ? defaults.Decoder.UpsampleRatio : o.UpsampleRatio },
                DetectorModel = o.DetectorModel == null ? null : Utf8(o.DetectorModel, "options->detector_model"),
                Segmentation = o.Segmentation != 0,
            };
            *estimator = AddOrDispose(new NativeEstimator(new PoseEstimator(path, poseOptions)), HandleKind.Estimator);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_estimator_free", CallConvs = [typeof(CallConvCdecl)])]
    public static nint EstimatorFree(nint estimator) => Free<NativeEstimator>(estimator, HandleKind.Estimator, nameof(estimator));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_estimate", CallConvs = [typeof(CallConvCdecl)])]
    public static nint Estimate(nint estimator, NativeImageView* image, nint* people)
    {
        try
        {
            EstimateInto(estimator, image, people, sequential: false, static (e, mat, details) => e.Estimate(mat, null, details));
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    /// <summary>
    /// Runs one estimate on the caller's pixels and hands the people (with this call's own mask) to C as a new handle.
    /// Still images run in parallel (the estimator is thread-safe); <paramref name="sequential"/> calls (video frames, whose
    /// state goes from one to the next) take the estimator's video lock, so C threads queue rather than fail.
    /// </summary>
    private static void EstimateInto(nint estimator, NativeImageView* image, nint* people, bool sequential,
        Func<PoseEstimator, Mat, PoseEstimateDetails, List<Person>> estimate)
    {
        Out(people, nameof(people));
        var native = Handles.Get<NativeEstimator>(estimator, HandleKind.Estimator, nameof(estimator));
        using var mat = Wrap(image, nameof(image));
        using var details = new PoseEstimateDetails();
        List<Person> found;
        if (sequential)
        {
            lock (native.VideoGate)
                found = estimate(native.Estimator, mat, details);
        }
        else
        {
            found = estimate(native.Estimator, mat, details);
        }
        *people = AddOrDispose(new NativePeople(found, image->Width, image->Height, details.DetachSegmentation()), HandleKind.People);
    }

    /// <summary>Wraps caller pixels as a Mat header (no copy) after checking every field of the view.</summary>
    private static Mat Wrap(NativeImageView* view, string what)
    {
        if (view == null)
            throw new ArgumentNullException(what, $"{what} is NULL.");
        var v = *view;
        if (v.Data == null)
            throw new ArgumentNullException(what, $"{what}->data is NULL.");
        if (v.Width <= 0 || v.Height <= 0)
            throw new ArgumentException($"{what} is {v.Width}x{v.Height}; width and height must be positive.");
        var channels = v.Format switch
        {
            1 or 3 or 4 => v.Format,
            _ => throw new ArgumentException($"{what}->format is {v.Format}; use TFPOSE_PIXEL_GRAY8 (1), _BGR8 (3) or _BGRA8 (4)."),
        };
        var row = (ulong)v.Width * (ulong)channels;
        if (v.Stride < row)
            throw new ArgumentException($"{what}->stride is {v.Stride} bytes, less than a row of {v.Width} pixels x {channels} channels = {row} bytes.");
        if (v.Stride > int.MaxValue || (ulong)v.Stride * (ulong)v.Height > long.MaxValue)
            throw new ArgumentException($"{what}->stride {v.Stride} is implausibly large.");
        return Mat.FromPixelData(v.Height, v.Width, MatType.CV_8UC(channels), (nint)v.Data, (long)v.Stride);
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_free", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleFree(nint people) => Free<NativePeople>(people, HandleKind.People, nameof(people));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_count", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleCount(nint people, nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            *count = (nuint)Handles.Get<NativePeople>(people, HandleKind.People, nameof(people)).People.Count;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_get", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleGet(nint people, nuint index, NativePerson* person)
    {
        try
        {
            Out(person, nameof(person));
            var list = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people)).People;
            CheckIndex(index, list.Count, "Person");
            var p = list[(int)index];
            // tfpose_person has OpenPose's COCO-18 slots; other sets fill the slots of the same names (KeypointSet.SlotsIn),
            // and keypoints without one appear only in the JSON and the any-set calls.
            var slots = p.KeypointSet.SlotsIn(KeypointSet.OpenPose18);
            var result = new NativePerson { Score = p.Score };
            foreach (var k in p.Keypoints)
            {
                var slot = slots[k.Part];
                if (slot < 0) continue;
                result.Parts[slot] = new NativeKeypoint { Present = 1, X = k.X, Y = k.Y, Score = k.Score };
                result.PartCount++;
            }
            *person = result;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_render", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleRender(nint people, NativeImageView* target, int thickness)
    {
        try
        {
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            if (thickness < 0 || thickness > 1000)
                throw new ArgumentOutOfRangeException(nameof(thickness), $"thickness {thickness} is out of range (0 = default, else 1..1000).");
            using var mat = Wrap(target, nameof(target));
            if (mat.Width != native.ImageWidth || mat.Height != native.ImageHeight)
                throw new ArgumentException($"target is {mat.Width}x{mat.Height}, but the people were found in a {native.ImageWidth}x{native.ImageHeight} image; render into a buffer of that size.");
            PoseRenderer.Draw(mat, native.People, thickness == 0 ? 3 : thickness);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_people_to_json", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PeopleToJson(nint people, byte* buffer, nuint capacity, nuint* length)
    {
        try
        {
            Out(length, nameof(length));
            *length = 0;
            var native = Handles.Get<NativePeople>(people, HandleKind.People, nameof(people));
            var json = Encoding.UTF8.GetBytes(PoseJson.ToOpenPoseJson(native.People));
            *length = (nuint)json.Length;
            if (buffer == null && capacity == 0)
                return 0; // a length query
            if (buffer == null)
                throw new ArgumentNullException(nameof(buffer), $"buffer is NULL but capacity is {capacity}.");
            if (capacity < (nuint)json.Length + 1)
                throw new BufferTooSmallException($"The JSON needs {json.Length + 1} bytes (with the NUL) but the buffer has {capacity}; *length holds the JSON length.");
            json.CopyTo(new Span<byte>(buffer, json.Length));
            buffer[json.Length] = 0;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_part_name", CallConvs = [typeof(CallConvCdecl)])]
    public static nint PartName(int part, byte** name)
    {
        try
        {
            if (name == null)
                throw new ArgumentNullException(nameof(name), "name (the output pointer) is NULL.");
            *name = null;
            if ((uint)part >= (uint)OpenPose18Names.Length)
                throw new ArgumentOutOfRangeException(nameof(part), $"part {part} is out of range (0..{OpenPose18Names.Length - 1}).");
            *name = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(OpenPose18Names[part], 0);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    // The slot names of tfpose_person, NUL-terminated on the pinned object heap (C keeps the pointers; held here for
    // the life of the process, never written after this).
    private static readonly byte[][] OpenPose18Names = KeypointSet.OpenPose18.Names
        .Select(n =>
        {
            var bytes = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(n) + 1, pinned: true);
            Encoding.UTF8.GetBytes(n, bytes);
            return bytes;
        })
        .ToArray();

    // ------------------------------------------------------------------------------------------
    // Images

    [UnmanagedCallersOnly(EntryPoint = "tfpose_image_read", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ImageRead(byte* path, nint* image)
    {
        try
        {
            Out(image, nameof(image));
            var file = Utf8(path, nameof(path));
            Mat mat;
            try
            {
                mat = ImageFile.Read(file);
            }
            catch (InvalidDataException e)
            {
                // A bad image is a bad argument to this call (TFPOSE_INVALID_ARGUMENT), not a bad model.
                throw new ArgumentException(e.Message, e);
            }
            *image = AddOrDispose(new NativeImage(mat), HandleKind.Image);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_image_get_view", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ImageGetView(nint image, NativeImageView* view)
    {
        try
        {
            Out(view, nameof(view));
            var mat = Handles.Get<NativeImage>(image, HandleKind.Image, nameof(image)).Mat;
            *view = new NativeImageView
            {
                Data = (byte*)mat.Data,
                Width = mat.Width,
                Height = mat.Height,
                Stride = (nuint)mat.Step(),
                Format = mat.Channels(),
            };
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_image_free", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ImageFree(nint image) => Free<NativeImage>(image, HandleKind.Image, nameof(image));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_image_write", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ImageWrite(byte* path, NativeImageView* view)
    {
        try
        {
            var file = Utf8(path, nameof(path));
            using var mat = Wrap(view, nameof(view));
            Cv2.ImEncode(Path.GetExtension(file), mat, out var bytes);
            File.WriteAllBytes(file, bytes);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }
}
