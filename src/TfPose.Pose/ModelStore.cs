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
    public string FileName => Name + ".pb";
}

/// <summary>Progress of a download (Total is null when the server does not say).</summary>
public readonly record struct DownloadProgress(long Received, long? Total);

/// <summary>
/// The local model directory (<c>TFPOSE_MODELS</c>, default <c>~/.tfpose/models</c>): resolves
/// <c>--model NAME|PATH</c> and downloads known graphs with resume and SHA-256 verification.
/// </summary>
public sealed class ModelStore
{
    /// <summary>tf-pose-estimation's OpenPose graphs published in its repository.</summary>
    public static IReadOnlyList<KnownModel> Known { get; } =
    [
        new("openpose-mobilenet-v2-small", PoseModelKind.OpenPose, 432, 368,
            "428a9d6e7bfc0319e1ce4de8c0191a9111cd281bea6ae2b496fd42c92d574160",
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_v2_small/graph_opt.pb")),
        new("openpose-mobilenet-v2-large", PoseModelKind.OpenPose, 432, 368, null,
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_v2_large/graph_opt.pb")),
        new("openpose-mobilenet-thin", PoseModelKind.OpenPose, 432, 368, null,
            new Uri("https://github.com/ildoonet/tf-pose-estimation/raw/master/models/graph/mobilenet_thin/graph_opt.pb")),
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

    public bool IsDownloaded(KnownModel model) => File.Exists(PathOf(model));

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
            if (File.Exists(path)) return path;
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
        System.IO.Directory.CreateDirectory(Directory);
        var final = PathOf(model);
        var partial = final + ".partial";
        var existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;

        using var request = new HttpRequestMessage(HttpMethod.Get, model.Url);
        if (existing > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(existing, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
        {
            // The partial file already holds everything (or is bogus): verify it as is below.
        }
        else if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Downloading {model.Name} from {model.Url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
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
        if (model.Sha256 is { } expected && !string.Equals(sha, expected, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new InvalidDataException($"Downloaded {model.Name} has SHA-256 {sha}, expected {expected}; the file was discarded.");
        }
        File.Move(partial, final, overwrite: true);
        return (final, sha);
    }
}
