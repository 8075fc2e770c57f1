using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>Downloads from a local HTTP server on 127.0.0.1 only (a shared graph served from ../shared).</summary>
public sealed class ModelStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tfpose-models-{Guid.NewGuid():N}");
    private readonly byte[] _bytes = File.ReadAllBytes(SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Serves the bytes with HTTP range support; the first request can be cut after half the body.</summary>
    private sealed class LocalServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _bytes;
        private readonly Task _loop;
        public bool CutFirst;
        public List<string?> Ranges { get; } = [];

        public LocalServer(byte[] bytes)
        {
            _bytes = bytes;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(Loop);
        }

        public int Port { get; }

        private async Task Loop()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); } catch { return; }
                var range = ctx.Request.Headers["Range"];
                lock (Ranges) Ranges.Add(range);
                var start = 0;
                if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
                {
                    start = int.Parse(range["bytes=".Length..].TrimEnd('-'));
                    ctx.Response.StatusCode = 206;
                    ctx.Response.AddHeader("Content-Range", $"bytes {start}-{_bytes.Length - 1}/{_bytes.Length}");
                }
                ctx.Response.ContentLength64 = _bytes.Length - start;
                try
                {
                    if (CutFirst)
                    {
                        CutFirst = false;
                        await ctx.Response.OutputStream.WriteAsync(_bytes.AsMemory(start, (_bytes.Length - start) / 2));
                        await ctx.Response.OutputStream.FlushAsync();
                        ctx.Response.Abort(); // connection drops mid-body
                        continue;
                    }
                    await ctx.Response.OutputStream.WriteAsync(_bytes.AsMemory(start));
                    ctx.Response.Close();
                }
                catch (HttpListenerException) { }
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
        }
    }

    private KnownModel Model(LocalServer server, string? sha) =>
        new("test-openpose", PoseModelKind.OpenPose, 432, 368, sha, new Uri($"http://127.0.0.1:{server.Port}/graph_opt.pb"));

    [Fact]
    public async Task InterruptedDownload_ResumesWithARangeRequest_AndVerifiesSha256()
    {
        using var server = new LocalServer(_bytes) { CutFirst = true };
        var sha = Convert.ToHexStringLower(SHA256.HashData(_bytes));
        var store = new ModelStore(_dir);
        var model = Model(server, sha);
        using var http = new HttpClient();

        await Assert.ThrowsAnyAsync<Exception>(() => store.DownloadAsync(model, http));
        Assert.False(File.Exists(store.PathOf(model)), "a partial download must not appear under the final name");
        var partial = new FileInfo(store.PathOf(model) + ".partial");
        Assert.True(partial.Exists && partial.Length > 0 && partial.Length < _bytes.Length);

        var (path, got) = await store.DownloadAsync(model, http);
        Assert.Equal(sha, got);
        Assert.Equal(_bytes, File.ReadAllBytes(path));
        Assert.Equal($"bytes={partial.Length}-", server.Ranges[^1]);
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(path, store.Resolve(path));
    }

    [Fact]
    public async Task WrongChecksum_IsRejected_AndNothingIsLeftBehind()
    {
        using var server = new LocalServer(_bytes);
        var store = new ModelStore(_dir);
        var model = Model(server, new string('0', 64));
        using var http = new HttpClient();
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => store.DownloadAsync(model, http));
        Assert.Contains("SHA-256", ex.Message);
        Assert.False(File.Exists(store.PathOf(model)));
        Assert.False(File.Exists(store.PathOf(model) + ".partial"));
    }

    [Fact]
    public void KnownButMissingModel_SaysHowToGetIt()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => new ModelStore(_dir).Resolve("openpose-mobilenet-v2-small"));
        Assert.Contains("tfpose models download openpose-mobilenet-v2-small", ex.Message);
        // The catalogued SHA-256 is the shared copy's (the same file tf-pose-estimation publishes).
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(_bytes)), ModelStore.Find("openpose-mobilenet-v2-small")!.Sha256);
    }

    [Fact]
    public async Task A_TensorFlow_js_model_downloads_file_by_file_into_its_folder()
    {
        using var server = new LocalServer(_bytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(_bytes));
        var store = new ModelStore(_dir);
        ModelFile File(string name, string fileSha) => new(name, new Uri($"http://127.0.0.1:{server.Port}/{name}"), fileSha);
        var model = new KnownModel("test-movenet", PoseModelKind.MoveNet, 192, 192, null, new Uri($"http://127.0.0.1:{server.Port}/model.json"))
        {
            Files = [File("model.json", sha), File("test-movenet.bin", sha)],
        };
        using var http = new HttpClient();
        var (folder, _) = await store.DownloadAsync(model, http);
        Assert.Equal(Path.Combine(_dir, "test-movenet"), folder);
        Assert.Equal(_bytes, System.IO.File.ReadAllBytes(Path.Combine(folder, "test-movenet.bin")));
        Assert.True(store.IsDownloaded(model));
        Assert.Equal(folder, store.Resolve(folder));

        // A shard with the wrong checksum: discarded, and the model is not complete.
        var broken = model with { Name = "test-broken", Files = [File("model.json", sha), File("test-broken.bin", new string('0', 64))] };
        await Assert.ThrowsAsync<InvalidDataException>(() => store.DownloadAsync(broken, http));
        Assert.False(store.IsDownloaded(broken));
        Assert.Empty(Directory.GetFiles(store.PathOf(broken), "*.partial"));
    }

    [Theory]
    [InlineData("movenet-lightning")]
    [InlineData("movenet-multipose")]
    [InlineData("blazepose-detector")]
    [InlineData("blazepose-lite")]
    public void Catalogued_TensorFlow_js_models_are_the_shared_copies(string name)
    {
        // The catalogue pins the SHA-256 of every file; the shared folder holds the same package's files.
        var known = ModelStore.Find(name)!;
        Assert.NotNull(known.Files);
        foreach (var file in known.Files!)
        {
            var local = SharedData.Path("data", "tfjs-models", name, file.Name);
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(System.IO.File.ReadAllBytes(local))));
        }
        if (known.Kind == PoseModelKind.BlazePose && name != "blazepose-detector")
            Assert.Contains("blazepose-detector", known.Requires);
    }
}
