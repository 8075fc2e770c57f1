namespace TfPose.Pose.Tracking;

/// <summary>
/// State of one exponential low-pass filter (pose-detection's and MediaPipe's <c>LowPassFilter</c>):
/// y = y' + alpha·(x − y'), the first sample passing through. A mutable struct so that a person's filters
/// live in one array with no per-frame allocation; <c>default</c> is a fresh filter.
/// </summary>
internal struct LowPassState
{
    private double _stored;
    private bool _initialized;

    public bool HasLastRawValue => _initialized;

    public double LastRawValue { get; private set; }

    /// <summary>One step; with a threshold, the step towards the new value is t·asinh(Δ/t) rather than Δ.</summary>
    public double Apply(double value, double alpha, double? threshold = null)
    {
        double result;
        if (!_initialized)
        {
            result = value;
            _initialized = true;
        }
        else if (threshold is { } t)
            // asinh grows like Δ for small steps and like log|Δ| for large ones, so an outlier moves the
            // output only a little while ordinary motion is followed as by the plain filter.
            result = _stored + alpha * t * Math.Asinh((value - _stored) / t);
        else
            result = _stored + alpha * (value - _stored);
        LastRawValue = value;
        _stored = result;
        return result;
    }

    public void Reset() => this = default;
}

/// <summary>
/// An exponential low-pass filter with a fixed <see cref="Alpha"/>: y = y' + alpha·(x − y'), the first sample
/// passing through unchanged. Smaller alpha smooths more and lags more. pose-detection uses it (alpha 0.1)
/// for BlazePose's landmark visibilities.
/// </summary>
public sealed class LowPassFilter
{
    private LowPassState _state;

    public LowPassFilter(double alpha)
    {
        if (!(alpha > 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1].");
        Alpha = alpha;
    }

    public double Alpha { get; }

    public double Apply(double value) => _state.Apply(value, Alpha);

    public void Reset() => _state.Reset();
}
