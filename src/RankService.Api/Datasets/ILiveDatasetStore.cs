namespace RankService.Api.Datasets;

/// <summary>
/// Where live data sets are kept: SQLite (one file under Data:Root, the default) or PostgreSQL (Jobs:Storage
/// PostgreSql, shared by api and worker nodes). Every write is one transaction: it commits whole and bumps the data
/// set's version, or, when its records had a problem or its body broke off, commits nothing. A snapshot is read in one
/// read transaction, so it is the data set at exactly one version.
/// </summary>
public interface ILiveDatasetStore
{
    Task<IReadOnlyList<LiveDatasetInfo>> ListAsync(CancellationToken cancellationToken);

    Task<LiveDatasetInfo?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the data set or replaces its settings (a settings change is a write: the version goes up).</summary>
    Task<(LiveDatasetInfo Info, bool Created)> PutAsync(string name, LiveDatasetSettings settings, CancellationToken cancellationToken);

    /// <summary>False when there was no such data set.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Upserts the items in one transaction. Throws <see cref="RecordsRefusedException"/> (nothing written) when
    /// <paramref name="problems"/> holds any problem once the records are read, <see cref="DatasetNotFoundException"/>
    /// for an unknown data set.
    /// </summary>
    Task<WriteCounts> WriteItemsAsync(string name, IAsyncEnumerable<(long Line, LiveItem Record)> items, ProblemCollector problems, CancellationToken cancellationToken);

    /// <summary>Appends the feedback in one transaction; unknown users are created, unknown items too when the settings say so.</summary>
    Task<WriteCounts> WriteFeedbackAsync(string name, IAsyncEnumerable<(long Line, LiveFeedback Record)> feedback, ProblemCollector problems, CancellationToken cancellationToken);

    /// <summary>Deletes a user and all their feedback: the feedback rows erased, or null when the data set or user is unknown.</summary>
    Task<long?> EraseUserAsync(string name, string userId, CancellationToken cancellationToken);

    /// <summary>The catalogue in insertion order, read in one transaction.</summary>
    IAsyncEnumerable<LiveItem> ExportItemsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every feedback record in insertion order, read in one transaction.</summary>
    IAsyncEnumerable<LiveFeedback> ExportFeedbackAsync(string name, CancellationToken cancellationToken);

    /// <summary>The data set's current user ids; null when it does not exist.</summary>
    Task<IReadOnlySet<string>?> UserIdsAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Recent popularity: per item id, the number of feedback events timed at or after now minus
    /// <paramref name="window"/> whose type has a positive weight (for <c>rating</c>, a positive value). Feedback
    /// without a timestamp is not counted. Null when the data set does not exist.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>?> RecentItemCountsAsync(string name, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>The data set at its current version; null when it does not exist.</summary>
    Task<LiveSnapshot?> ReadSnapshotAsync(string name, CancellationToken cancellationToken);
}
