using System.CommandLine;
using Spectre.Console;
using TfPose.Pose;

namespace TfPose.Cli.Commands;

internal static class ModelsCommands
{
    public static Command Create()
    {
        var models = new Command("models", "Known pose graphs and the local model folder (TFPOSE_MODELS, default ~/.tfpose/models).");
        var list = new Command("list", "List the known pose graphs and whether they are downloaded.");
        list.SetAction(_ =>
        {
            var store = new ModelStore();
            var table = new Table().AddColumns("name", "kind", "input", "sha-256", "source", "local");
            foreach (var m in ModelStore.Known)
            {
                var sha = m.Files is { } files ? string.Join("\n", files.Select(f => $"{f.Name}: {f.Sha256}")) : m.Sha256 ?? "(not pinned)";
                var source = m.Files is { } parts ? string.Join("\n", parts.Select(f => f.Url.ToString())) : m.Url.ToString();
                if (m.Note is { } note)
                    source = note + "\n" + source;
                table.AddRow(Markup.Escape(m.Name), m.Kind.ToString(), $"{m.Width}x{m.Height}", Markup.Escape(sha),
                    Markup.Escape(source), store.IsDownloaded(m) ? Markup.Escape(store.PathOf(m)) : "-");
            }
            AnsiConsole.Write(table);
            Console.WriteLine($"model folder: {store.Directory}");
            return 0;
        });
        var name = new Argument<string>("NAME") { Description = "Model name from 'tfpose models list'." };
        var download = new Command("download", "Download a known model (resumable, SHA-256 checked, never a partial file under the final name).");
        download.Add(name);
        download.SetAction(async (parseResult, ct) =>
        {
            var n = parseResult.GetValue(name)!;
            var requested = ModelStore.Find(n) ?? throw new ArgumentException(
                $"Unknown model '{n}'; known: {string.Join(", ", ModelStore.Known.Select(m => m.Name))}.");
            var store = new ModelStore();
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            // What the model needs beside it (BlazePose's detector) comes first, unless it is there already.
            foreach (var model in requested.Requires.Select(r => ModelStore.Find(r)!).Where(m => !store.IsDownloaded(m)).Append(requested))
            {
                (string Path, string Sha256) result = default;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask(Markup.Escape(model.Name), maxValue: 1);
                        var progress = new Progress<DownloadProgress>(p =>
                        {
                            if (p.Total is { } t) { task.MaxValue = t; task.Value = p.Received; } else task.IsIndeterminate = true;
                        });
                        result = await store.DownloadAsync(model, http, progress, ct);
                        task.Value = task.MaxValue;
                    });
                Console.WriteLine($"{result.Path}");
                Console.WriteLine(model.Files is not null ? "sha-256 of every file verified"
                    : model.Sha256 is null ? $"sha-256 {result.Sha256} (the source pins none; not verified)" : $"sha-256 {result.Sha256} verified");
            }
            return 0;
        });
        var path = new Argument<string>("MODEL") { Description = "A .pb path or a downloaded model name." };
        var describe = new Command("describe", "Show the pose model description detected from a graph (and its NAME.pose.json override, if any).");
        describe.Add(path);
        describe.SetAction(parseResult =>
        {
            var file = new ModelStore().Resolve(parseResult.GetValue(path)!);
            var m = PoseModelDescription.Load(file);
            var overrides = PoseModelDescription.OverridePath(file);
            var table = new Table().AddColumns("field", "value");
            table.AddRow("kind", m.Kind.ToString());
            table.AddRow("input", Markup.Escape(m.InputName));
            table.AddRow("outputs", Markup.Escape(string.Join(", ", m.OutputNames)));
            table.AddRow("default size", $"{m.DefaultWidth}x{m.DefaultHeight} ({m.SizeRule}, stride {m.Stride})");
            table.AddRow("pixels", $"{m.ChannelOrder}, (pixel - {m.Mean:0.###}) x {m.Scale:0.#####}{(m.HeatmapLogits ? ", heatmap logits (sigmoid applied)" : "")}");
            table.AddRow("keypoints", Markup.Escape($"{m.Keypoints.Name}: {string.Join(", ", m.Keypoints.Names)}"));
            table.AddRow("COCO-17", m.Keypoints.ToCoco17 is null ? "no mapping" : $"{m.Keypoints.CocoKeypointCount} of 17 keypoints map");
            table.AddRow("override", Markup.Escape(File.Exists(overrides) ? $"{overrides} (applied)" : $"{overrides} (none)"));
            AnsiConsole.Write(table);
            return 0;
        });
        models.Add(list);
        models.Add(download);
        models.Add(describe);
        return models;
    }
}
