namespace TfPose.Pose.Tracking;

/// <summary>
/// Parameters of a One Euro filter (Casiez et al.), as pose-detection's <c>OneEuroFilterConfig</c> names them.
/// The defaults are pose-detection's MoveNet keypoint filter (<c>KEYPOINT_FILTER_CONFIG</c>), which runs on
/// coordinates normalised to the image (0..1).
/// </summary>
public sealed record OneEuroParameters
{
    /// <summary>Sampling rate in Hz, used until two timestamps give the real one.</summary>
    public double Frequency { get; init; } = 30;

    /// <summary>Cutoff in Hz when the value is still: lower smooths jitter more.</summary>
    public double MinCutOff { get; init; } = 2.5;

    /// <summary>How fast the cutoff rises with speed (cutoff = MinCutOff + Beta·|speed|): higher lags less when moving.</summary>
    public double Beta { get; init; } = 300;

    /// <summary>Cutoff in Hz of the low-pass over the speed estimate (pose-detection's <c>derivateCutOff</c>).</summary>
    public double DerivativeCutOff { get; init; } = 2.5;

    /// <summary>
    /// Outlier threshold offset: when set, a step Δ towards a new value is taken as t·asinh(Δ/t) with
    /// t = ThresholdCutOff + ThresholdBeta·|speed|, so large jumps are damped; null for the plain filter.
    /// </summary>
    public double? ThresholdCutOff { get; init; } = 0.5;

    /// <summary>Outlier threshold slope (see <see cref="ThresholdCutOff"/>).</summary>
    public double ThresholdBeta { get; init; } = 5;

    /// <summary>pose-detection's MoveNet keypoint filter (these record defaults).</summary>
    public static OneEuroParameters MoveNet { get; } = new();

    /// <summary>pose-detection's BlazePose landmark filter (<c>BLAZEPOSE_LANDMARKS_SMOOTHING_CONFIG_ACTUAL</c>), for pixels scaled by the person's size.</summary>
    public static OneEuroParameters BlazePose { get; } = new() { MinCutOff = 0.05, Beta = 80, DerivativeCutOff = 1, ThresholdCutOff = null, ThresholdBeta = 0 };

    /// <summary>pose-detection's BlazePose world-landmark filter (<c>BLAZEPOSE_WORLD_LANDMARKS_SMOOTHING_CONFIG_ACTUAL</c>), for metres.</summary>
    public static OneEuroParameters BlazePoseWorld { get; } = new() { MinCutOff = 0.1, Beta = 40, DerivativeCutOff = 1, ThresholdCutOff = null, ThresholdBeta = 0 };

    internal void Validate(string name)
    {
        if (!(Frequency > 0) || double.IsInfinity(Frequency))
            throw new ArgumentException($"{name}: Frequency must be positive, got {Frequency}.");
        if (!(MinCutOff > 0) || double.IsInfinity(MinCutOff))
            throw new ArgumentException($"{name}: MinCutOff must be positive, got {MinCutOff}.");
        if (!(Beta >= 0) || double.IsInfinity(Beta))
            throw new ArgumentException($"{name}: Beta must be zero or positive, got {Beta}.");
        if (!(DerivativeCutOff > 0) || double.IsInfinity(DerivativeCutOff))
            throw new ArgumentException($"{name}: DerivativeCutOff must be positive, got {DerivativeCutOff}.");
        if (ThresholdCutOff is { } t && !(t > 0))
            throw new ArgumentException($"{name}: ThresholdCutOff must be positive or null, got {t}.");
        if (!(ThresholdBeta >= 0) || double.IsInfinity(ThresholdBeta))
            throw new ArgumentException($"{name}: ThresholdBeta must be zero or positive, got {ThresholdBeta}.");
    }
}

/// <summary>
/// State of one One Euro filter, stepped as pose-detection's (and MediaPipe's) <c>OneEuroFilter</c> does:
/// the sampling rate comes from the timestamps, the speed is low-passed at the derivative cutoff, and the
/// value is low-passed at MinCutOff + Beta·|speed|. Parameters are passed in so that <c>default</c> is a
/// fresh filter and a person's filters fit in one reusable array.
/// </summary>
internal struct OneEuroState
{
    private LowPassState _x, _dx;
    private double _frequency;  // 0 until the first sample: then the configured rate
    private long _lastMicros;   // 0 = no sample yet, as in pose-detection (so a sample at time 0 is never recorded)

    /// <param name="value">The raw value.</param>
    /// <param name="micros">Its timestamp in whole microseconds.</param>
    /// <param name="valueScale">Multiplies the speed estimate (1 / the object's size, to make Beta size-independent).</param>
    /// <param name="p">The filter's parameters (the same on every call).</param>
    public double Apply(double value, long micros, double valueScale, OneEuroParameters p)
    {
        // A timestamp that does not advance gives no rate to work with: the value passes unfiltered and
        // the state is untouched (pose-detection and MediaPipe do the same, including for time 0).
        if (_lastMicros >= micros) return value;
        if (_frequency == 0) _frequency = p.Frequency;
        if (_lastMicros != 0)
            _frequency = 1e6 / (micros - _lastMicros);
        _lastMicros = micros;

        var speed = _x.HasLastRawValue ? (value - _x.LastRawValue) * valueScale * _frequency : 0;
        var smoothedSpeed = _dx.Apply(speed, Alpha(p.DerivativeCutOff));
        var cutOff = p.MinCutOff + p.Beta * Math.Abs(smoothedSpeed);
        double? threshold = p.ThresholdCutOff is { } t ? t + p.ThresholdBeta * Math.Abs(smoothedSpeed) : null;
        return _x.Apply(value, Alpha(cutOff), threshold);
    }

    // Smoothing factor of a first-order low-pass at this cutoff for the current sampling period:
    // 1 / (1 + tau / Te) with tau = 1 / (2π·cutoff) and Te = 1 / frequency.
    private readonly double Alpha(double cutOff) => 1.0 / (1.0 + _frequency / (2 * Math.PI * cutOff));

    public void Reset() => this = default;
}

/// <summary>
/// A One Euro filter for one signal: a low-pass whose cutoff rises with the signal's speed, so a still value
/// is smoothed hard and a moving one is followed with little lag. Timestamps must increase; a sample whose
/// timestamp does not (and a sample at time 0, before any other) passes through unfiltered, as in
/// pose-detection.
/// </summary>
public sealed class OneEuroFilter
{
    private OneEuroState _state;

    public OneEuroFilter(OneEuroParameters? parameters = null)
    {
        Parameters = parameters ?? OneEuroParameters.MoveNet;
        Parameters.Validate(nameof(OneEuroFilter));
    }

    public OneEuroParameters Parameters { get; }

    /// <summary>Filters one sample; <paramref name="valueScale"/> multiplies the speed estimate (1 / object size; 1 for none).</summary>
    public double Apply(double value, TimeSpan timestamp, double valueScale = 1) =>
        _state.Apply(value, ToMicroseconds(timestamp), valueScale, Parameters);

    /// <summary>Filters one sample with its timestamp in microseconds.</summary>
    public double Apply(double value, long microseconds, double valueScale = 1) =>
        _state.Apply(value, microseconds, valueScale, Parameters);

    public void Reset() => _state.Reset();

    /// <summary>Whole microseconds (truncated, as pose-detection truncates its timestamps).</summary>
    internal static long ToMicroseconds(TimeSpan t) => t.Ticks / TimeSpan.TicksPerMicrosecond;
}
