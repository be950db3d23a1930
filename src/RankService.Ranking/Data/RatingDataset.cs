namespace RankService.Ranking.Data;

/// <summary>
/// A loaded MovieLens release (or a synthetic one): ratings with dense ids, the catalogue of rated items with
/// titles, and a fingerprint of the rating content so a checkpoint can say which data it was trained on.
/// </summary>
public sealed class RatingDataset
{
    public RatingDataset(string name, MovieLensFormat format, IdMap users, IdMap items, Rating[] ratings,
        IReadOnlyList<Movie> movies, string fingerprint, int skippedLines = 0)
    {
        if (movies.Count != items.Count)
        {
            throw new ArgumentException("One movie entry per dense item index is required.", nameof(movies));
        }
        Name = name;
        Format = format;
        Users = users;
        Items = items;
        Ratings = ratings;
        Movies = movies;
        Fingerprint = fingerprint;
        SkippedLines = skippedLines;
    }

    public string Name { get; }
    public MovieLensFormat Format { get; }
    public IdMap Users { get; }

    /// <summary>The catalogue: every item that has at least one rating.</summary>
    public IdMap Items { get; }

    public Rating[] Ratings { get; }

    /// <summary>Catalogue metadata indexed by dense item index.</summary>
    public IReadOnlyList<Movie> Movies { get; }

    /// <summary>
    /// Hex SHA-256 over the parsed ratings in file order (raw user, raw item, rating, timestamp): the same ratings
    /// give the same fingerprint whatever the format, line endings or number spelling ("4" or "4.0").
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Malformed lines skipped when the loader was told to skip rather than fail.</summary>
    public int SkippedLines { get; }

    public int UserCount => Users.Count;
    public int ItemCount => Items.Count;
}
