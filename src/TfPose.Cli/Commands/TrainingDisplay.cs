using Microsoft.Extensions.Logging;
using Spectre.Console;
using TfPose.Keras;

namespace TfPose.Cli.Commands;

/// <summary>
/// How training commands show what the libraries report: a live Spectre.Console bar for <see cref="FitProgress"/>
/// on an interactive console, plain timestamped lines otherwise (or with --log), and log messages as grey lines.
/// </summary>
internal sealed class TrainingDisplay
{
    private readonly string _title;
    private readonly bool _plain;
    private readonly Func<FitProgress, string> _describe;
    private ProgressTask? _task;

    /// <param name="describe">The bar's text (or the plain line) for a report.</param>
    public TrainingDisplay(string title, bool plain, Func<FitProgress, string> describe)
    {
        _title = title;
        _plain = plain || !AnsiConsole.Profile.Capabilities.Interactive;
        _describe = describe;
        Logger = new LineLogger(this);
    }

    public ILogger Logger { get; }

    public IProgress<FitProgress> Progress => new Reporter(this);

    /// <summary>Runs <paramref name="run"/> with the bar drawn around it.</summary>
    public T Run<T>(Func<T> run)
    {
        if (_plain)
            return run();
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(p =>
            {
                _task = p.AddTask(_title, maxValue: 1);
                try
                {
                    result = run();
                }
                finally
                {
                    _task = null;
                }
            });
        return result;
    }

    private void Report(FitProgress p)
    {
        if (_task is { } t)
        {
            t.MaxValue = Math.Max(1, p.StepsDone + p.StepsLeft);
            t.Value = p.StepsDone;
            t.Description = Markup.Escape(_describe(p));
        }
        // Epoch ends are logged by Fit itself; plain mode reports every 5th batch and the last.
        else if (!p.EpochEnd && (p.Step % 5 == 0 || p.Step == p.Steps))
        {
            var eta = p.StepsDone == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.StepsDone * p.StepsLeft);
            Line($"{_describe(p)} ({p.Elapsed.TotalSeconds / Math.Max(1, p.StepsDone):0.0} s/step, ETA {eta:hh\\:mm\\:ss})");
        }
    }

    private void Line(string text)
    {
        if (_plain)
            Console.WriteLine($"{DateTime.Now:HH:mm:ss} {text}");
        else
            AnsiConsole.MarkupLine("[grey]" + Markup.Escape(text) + "[/]");
    }

    // Synchronous on purpose: Progress<T> posts to the thread pool, and reports would arrive after the bar is gone.
    private sealed class Reporter(TrainingDisplay display) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => display.Report(value);
    }

    private sealed class LineLogger(TrainingDisplay display) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                display.Line((logLevel >= LogLevel.Warning ? "warning: " : "") + formatter(state, exception));
        }
    }
}
