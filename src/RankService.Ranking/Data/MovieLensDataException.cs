namespace RankService.Ranking.Data;

/// <summary>
/// A MovieLens folder or file cannot be used as it is: missing, of an unknown layout, malformed, or not downloadable.
/// The message says what is wrong and where; <see cref="FilePath"/> and <see cref="LineNumber"/> repeat the place
/// when it is a line of a file.
/// </summary>
public sealed class MovieLensDataException : Exception
{
    public MovieLensDataException() { }

    public MovieLensDataException(string message) : base(message) { }

    public MovieLensDataException(string message, Exception innerException) : base(message, innerException) { }

    public MovieLensDataException(string filePath, long lineNumber, string problem)
        : base($"{filePath} line {lineNumber}: {problem}")
    {
        FilePath = filePath;
        LineNumber = lineNumber;
    }

    public string? FilePath { get; }

    /// <summary>1-based line number of the offending line, when there is one.</summary>
    public long? LineNumber { get; }
}
