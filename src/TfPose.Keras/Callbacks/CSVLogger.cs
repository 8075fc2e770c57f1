using System.Globalization;

namespace TfPose.Keras;

/// <summary>
/// Keras' CSVLogger: one row per epoch, "epoch" (0-based, as Keras writes it) then the logs in sorted key order, separated
/// by <paramref name="separator"/>. With <paramref name="append"/> an existing file is continued; rows of epochs at or after
/// the one this Fit starts in are dropped first, so a run resumed from a backup does not repeat them.
/// Each row is written through a temporary file and a rename, so the file is never torn.
/// </summary>
public sealed class CSVLogger(string filename, string separator = ",", bool append = false) : Callback
{
    private readonly List<string> _lines = [];
    private string[]? _keys;

    public string Filename { get; } = filename;

    public override void OnTrainBegin()
    {
        _lines.Clear();
        _keys = null;
        if (!append || !File.Exists(Filename))
            return;
        var lines = File.ReadAllLines(Filename).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0)
            return;
        _keys = lines[0].Split(separator).Skip(1).ToArray();
        _lines.Add(lines[0]);
        foreach (var l in lines.Skip(1))
        {
            var first = l.Split(separator)[0];
            if (!int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var e))
                throw new InvalidDataException($"{Filename}: row '{l}' does not start with an epoch number.");
            if (e < State.InitialEpoch)
                _lines.Add(l);
        }
    }

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        if (_keys is null)
        {
            _keys = logs.Keys.Order(StringComparer.Ordinal).ToArray();
            _lines.Add(string.Join(separator, _keys.Prepend("epoch")));
        }
        _lines.Add(string.Join(separator, _keys.Select(k => logs.TryGetValue(k, out var v) ? Model.Invariant(v) : "NA")
            .Prepend(epoch.ToString(CultureInfo.InvariantCulture))));
        TfPose.IO.AtomicFile.Write(Filename, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            foreach (var l in _lines)
                w.WriteLine(l);
        });
    }

    /// <summary>Reads a file written by <see cref="CSVLogger"/>: one dictionary per row, "epoch" included.</summary>
    public static List<Dictionary<string, double>> Read(string path, string separator = ",")
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0)
            return [];
        var keys = lines[0].Split(separator);
        var rows = new List<Dictionary<string, double>>();
        for (int i = 1; i < lines.Count; i++)
        {
            var cells = lines[i].Split(separator);
            if (cells.Length != keys.Length)
                throw new InvalidDataException($"{path}: line {i + 1} has {cells.Length} values, the header names {keys.Length} ({lines[0]}).");
            var row = new Dictionary<string, double>();
            for (int k = 0; k < keys.Length; k++)
            {
                if (cells[k] == "NA")
                    row[keys[k]] = double.NaN;
                else if (double.TryParse(cells[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    row[keys[k]] = v;
                else
                    throw new InvalidDataException($"{path}: line {i + 1}: '{cells[k]}' under '{keys[k]}' is not a number.");
            }
            rows.Add(row);
        }
        return rows;
    }
}
