using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RankService.Api.Jobs;
using RankService.Api.Serving;
using RankService.Ranking.Training;

namespace RankService.Api.Metrics;

/// <summary>
/// The service's own series, on one <see cref="Meter"/> named <see cref="MeterName"/> that <c>/metrics</c> exports in
/// Prometheus format (see <see cref="PrometheusNames"/> for the names there). Jobs by state, serving model age and
/// validation NDCG@10 are read when scraped (observable gauges over the <see cref="JobStore"/> and the
/// <see cref="ModelRegistry"/>); epoch seconds and training items are recorded by the training job after each epoch;
/// feedback rows and index recall are recorded by the code that ingests feedback and builds indexes, through
/// <see cref="FeedbackIngested"/>, <see cref="SetIndexRecall"/> and <see cref="RegisterIndexRecall"/>.
/// One instance per host (a singleton): its meter comes from the host's <see cref="IMeterFactory"/>.
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "RankService";

    /// <summary>Epoch durations from a tenth of a second (small test sets) to half an hour (large catalogues on a CPU).</summary>
    private static readonly double[] EpochBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    private static readonly JobState[] States = Enum.GetValues<JobState>();

    private readonly JobStore _jobs;
    private readonly ModelRegistry _models;
    private readonly TimeProvider _clock;
    private readonly Histogram<double> _epochSeconds;
    private readonly Counter<long> _trainingItems;
    private readonly Gauge<double> _trainingThroughput;
    private readonly Counter<long> _feedbackRows;
    private readonly ConcurrentDictionary<string, Func<double?>> _indexRecall = new(StringComparer.Ordinal);

    public ServiceMetrics(IMeterFactory meters, JobStore jobs, ModelRegistry models, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _jobs = jobs;
        _models = models;
        _clock = clock;
        Meter meter = meters.Create(new MeterOptions(MeterName));
        meter.CreateObservableGauge("rankservice.jobs", ObserveJobs, "{job}", "Jobs in the artifacts folder by state.");
        _epochSeconds = meter.CreateHistogram("rankservice.training.epoch.duration", "s", "Seconds per training epoch (training, validation and checkpoints).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = EpochBuckets });
        _trainingItems = meter.CreateCounter<long>("rankservice.training.items", "{item}", "List entries trained on (train items and sampled negatives), per finished epoch.");
        _trainingThroughput = meter.CreateGauge<double>("rankservice.training.throughput", "{item}/s", "Training items per second of the latest epoch.");
        meter.CreateObservableGauge("rankservice.serving.model.age", ObserveModelAge, "s", "Seconds since the serving model's job finished.");
        meter.CreateObservableGauge("rankservice.serving.validation.ndcg_at_10", ObserveServingNdcg, "1", "Validation NDCG@10 of the serving model.");
        _feedbackRows = meter.CreateCounter<long>("rankservice.feedback.ingested", "{row}", "Feedback rows ingested into a data set.");
        meter.CreateObservableGauge("rankservice.index.recall", ObserveIndexRecall, "1", "Recall of an approximate nearest-neighbour index against exact search.");
    }

    /// <summary>Records a finished epoch of a job training on <paramref name="dataset"/>.</summary>
    public void EpochFinished(string dataset, EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var tag = new KeyValuePair<string, object?>("dataset", dataset);
        _epochSeconds.Record(report.EpochSeconds, tag);
        if (report.TrainItems > 0)
        {
            _trainingItems.Add(report.TrainItems, tag);
            if (report.EpochSeconds > 0)
            {
                _trainingThroughput.Record(report.TrainItems / report.EpochSeconds, tag);
            }
        }
    }

    /// <summary>Counts <paramref name="rows"/> feedback rows ingested into <paramref name="dataset"/> (call once per accepted batch).</summary>
    public void FeedbackIngested(string dataset, long rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        _feedbackRows.Add(rows, new KeyValuePair<string, object?>("dataset", dataset));
    }

    /// <summary>Sets the recall of <paramref name="dataset"/>'s index (0 to 1), reported until replaced or removed.</summary>
    public void SetIndexRecall(string dataset, double recall)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        if (!(recall is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(recall), recall, "Recall lies between 0 and 1.");
        }
        _indexRecall[dataset] = () => recall;
    }

    /// <summary>
    /// Reports <paramref name="read"/>'s value (0 to 1; null or out of range: nothing) as <paramref name="dataset"/>'s
    /// index recall at every scrape, until the returned handle is disposed. A later registration for the same data
    /// set replaces this one; disposing a replaced handle leaves its successor alone.
    /// </summary>
    public IDisposable RegisterIndexRecall(string dataset, Func<double?> read)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        ArgumentNullException.ThrowIfNull(read);
        _indexRecall[dataset] = read;
        return new Registration(() => _indexRecall.TryRemove(new KeyValuePair<string, Func<double?>>(dataset, read)));
    }

    /// <summary>Stops reporting <paramref name="dataset"/>'s index recall (its index was dropped).</summary>
    public void RemoveIndexRecall(string dataset) => _indexRecall.TryRemove(dataset, out _);

    private IEnumerable<Measurement<int>> ObserveJobs()
    {
        IReadOnlyList<JobRecord> jobs = _jobs.List();
        // Every state, zeros included, so a dashboard shows "0 running" rather than no data.
        return States.Select(state => new Measurement<int>(jobs.Count(j => j.State == state),
            new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant())));
    }

    private IEnumerable<Measurement<double>> ObserveModelAge()
    {
        DateTimeOffset now = _clock.GetUtcNow();
        foreach ((string dataset, string jobId) in _models.ServingJobs())
        {
            if (_jobs.Find(jobId)?.FinishedAt is { } finished)
            {
                yield return new Measurement<double>(Math.Max(0, (now - finished).TotalSeconds), new KeyValuePair<string, object?>("dataset", dataset));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveServingNdcg()
    {
        foreach ((string dataset, string jobId) in _models.ServingJobs())
        {
            if (_jobs.Find(jobId)?.SelectionScore is { } score && double.IsFinite(score))
            {
                yield return new Measurement<double>(score, new KeyValuePair<string, object?>("dataset", dataset));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveIndexRecall()
    {
        foreach ((string dataset, Func<double?> read) in _indexRecall)
        {
            if (read() is { } recall && recall is >= 0 and <= 1)
            {
                yield return new Measurement<double>(recall, new KeyValuePair<string, object?>("dataset", dataset));
            }
        }
        // The recall each serving model's attached index measured when it was built (a registration above wins).
        foreach (string dataset in _models.ServingJobs().Keys)
        {
            if (!_indexRecall.ContainsKey(dataset) && _models.Find(dataset) is { Index: not null, IndexManifest: { } index })
            {
                yield return new Measurement<double>(index.RecallAt10, new KeyValuePair<string, object?>("dataset", dataset));
            }
        }
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        private Action? _remove = remove;

        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }
}
