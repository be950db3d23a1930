using System.Text;

namespace RankService.Ranking.Data;

/// <summary>File names, headers, separators and encodings of the releases, shared by loader, writer and downloader.</summary>
internal static class MovieLensLayout
{
    public const string CsvRatingsHeader = "userId,movieId,rating,timestamp";
    public const string CsvMoviesHeader = "movieId,title,genres";

    /// <summary>What movies.csv says for a movie without genres.</summary>
    public const string NoGenres = "(no genres listed)";

    /// <summary>ml-100k's genre flags in column order, used when <c>u.genre</c> is absent.</summary>
    public static readonly string[] Ml100kGenres =
    [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
        "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    /// <summary>movies.csv is UTF-8; decoding it strictly turns a wrongly encoded file into an error, not mojibake.</summary>
    public static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string RatingsFile(MovieLensFormat format) => format switch
    {
        MovieLensFormat.Ml100k => "u.data",
        MovieLensFormat.Ml1m => "ratings.dat",
        MovieLensFormat.Csv => "ratings.csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public static string MoviesFile(MovieLensFormat format) => format switch
    {
        MovieLensFormat.Ml100k => "u.item",
        MovieLensFormat.Ml1m => "movies.dat",
        MovieLensFormat.Csv => "movies.csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>u.item and movies.dat are Latin-1, movies.csv is UTF-8.</summary>
    public static Encoding MoviesEncoding(MovieLensFormat format) =>
        format == MovieLensFormat.Csv ? StrictUtf8 : Encoding.Latin1;
}
