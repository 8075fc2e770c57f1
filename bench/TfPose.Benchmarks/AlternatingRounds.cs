using System.Diagnostics;

namespace TfPose.Benchmarks;

/// <summary>Something timed: one call of <paramref name="Run"/> is one sample.</summary>
public sealed record BenchEngine(string Name, Action Run);

/// <summary>
/// Times several engines in alternating rounds: a shared machine's speed drifts, and alternating lets every engine
/// see the same drift, so their ratio stays fair.
/// </summary>
public static class AlternatingRounds
{
    /// <summary>
    /// <paramref name="warmup"/> untimed calls per engine, then <paramref name="runs"/> timed calls per engine spread
    /// over <paramref name="rounds"/> rounds, engines taking turns. Returns each engine's samples in milliseconds.
    /// </summary>
    public static List<double>[] Time(IReadOnlyList<BenchEngine> engines, int runs, int warmup, int rounds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engines);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "At least one timed run.");
        rounds = Math.Clamp(rounds, 1, runs);
        var times = engines.Select(_ => new List<double>(runs)).ToArray();
        foreach (var engine in engines)
            for (var i = 0; i < warmup; i++)
                engine.Run();
        for (var round = 0; round < rounds; round++)
        {
            var perRound = runs / rounds + (round < runs % rounds ? 1 : 0);
            for (var e = 0; e < engines.Count; e++)
                for (var i = 0; i < perRound; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var sw = Stopwatch.StartNew();
                    engines[e].Run();
                    times[e].Add(sw.Elapsed.TotalMilliseconds);
                }
        }
        return times;
    }
}
