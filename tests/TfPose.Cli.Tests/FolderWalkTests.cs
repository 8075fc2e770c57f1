using System.Diagnostics;
using TfPose.Cli;

namespace TfPose.Cli.Tests;

/// <summary>
/// The folder walk behind <c>tfpose pose FOLDER</c>. With <c>self -&gt; .</c> and <c>sub/up -&gt; ..</c> in the folder,
/// <c>Directory.EnumerateFiles(..., AllDirectories)</c> never ended (memory growing, nothing written) and one such link
/// alone listed every image 41 times.
/// </summary>
public sealed class FolderWalkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tfpose-walk-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static bool IsImage(string path) => Path.GetExtension(path) == ".jpg";

    private void Touch(params string[] parts)
    {
        var path = Path.Combine([_root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8]);
    }

    [Fact]
    public void Link_loops_are_walked_once_and_each_image_is_found_once()
    {
        Touch("a.jpg");
        Touch("sub", "b.jpg");
        Touch("sub", "deeper", "c.jpg");
        Touch("notes.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root, "self"), ".");
        Directory.CreateSymbolicLink(Path.Combine(_root, "sub", "up"), "..");

        var watch = Stopwatch.StartNew();
        var files = FolderWalk.Files(_root, IsImage);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal([Path.Combine(_root, "a.jpg"), Path.Combine(_root, "sub", "b.jpg"), Path.Combine(_root, "sub", "deeper", "c.jpg")], files);
    }

    [Fact]
    public void A_link_reached_through_another_link_is_resolved_by_its_real_parent()
    {
        // far/x/y holds c.jpg and up -> .. ; near -> far/x/y. Through near/, "up" is far/x (its real parent), not the
        // folder holding near: a textual "near/up/.." would wrongly give the root again and walk it twice.
        Touch("far", "x", "y", "c.jpg");
        Touch("far", "x", "d.jpg");
        Directory.CreateSymbolicLink(Path.Combine(_root, "far", "x", "y", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(_root, "near"), Path.Combine("far", "x", "y"));

        var files = FolderWalk.Files(Path.Combine(_root, "near"), IsImage);

        Assert.Equal([Path.Combine(_root, "near", "c.jpg"), Path.Combine(_root, "near", "up", "d.jpg")], files);
    }

    [Fact]
    public void Links_to_files_and_to_folders_outside_are_followed()
    {
        var outside = Directory.CreateTempSubdirectory("tfpose-walk-outside-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(outside, "o.jpg"), [0xFF]);
            Touch("in", "a.jpg");
            Directory.CreateSymbolicLink(Path.Combine(_root, "in", "ext"), outside);
            File.CreateSymbolicLink(Path.Combine(_root, "in", "alias.jpg"), Path.Combine(_root, "in", "a.jpg"));
            // A link back to the folder being walked, spelt absolutely, is a loop too.
            Directory.CreateSymbolicLink(Path.Combine(outside, "back"), Path.Combine(_root, "in"));

            var files = FolderWalk.Files(Path.Combine(_root, "in"), IsImage);

            Assert.Equal(
                [Path.Combine(_root, "in", "a.jpg"), Path.Combine(_root, "in", "alias.jpg"), Path.Combine(_root, "in", "ext", "o.jpg")],
                files);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_link_that_only_points_at_itself_is_skipped_as_a_loop()
    {
        Touch("a.jpg");
        File.CreateSymbolicLink(Path.Combine(_root, "loop.jpg"), "loop.jpg");
        var skipped = new List<string>();

        var files = FolderWalk.Files(_root, IsImage, skipped: (path, _) => skipped.Add(path));

        Assert.Equal([Path.Combine(_root, "a.jpg")], files);
        Assert.Equal([Path.Combine(_root, "loop.jpg")], skipped);
    }

    [Fact]
    public void The_walk_stops_when_cancelled()
    {
        Touch("a.jpg");
        Touch("b.jpg");
        Touch("sub", "c.jpg");
        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => FolderWalk.Files(_root, p =>
        {
            seen++;
            cts.Cancel();
            return true;
        }, cts.Token));
        Assert.Equal(1, seen);
    }
}
