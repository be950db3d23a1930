using System.Globalization;
using System.Text;

namespace RankService.Ranking.Data;

/// <summary>
/// Writes a dataset in the file layout of a real release, so that <see cref="MovieLensLoader"/> reads back the same
/// ratings, ids, titles, genres and fingerprint. Everything is checked before the first byte is written: a value the
/// format cannot hold (a half star in u.data, "é" outside Latin-1, a '|' in a u.item title) throws instead of being
/// written wrongly.
/// </summary>
internal static class MovieLensWriter
{
    private static readonly string[] Occupations =
    [
        "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive", "healthcare",
        "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer", "retired", "salesman",
        "scientist", "student", "technician", "writer",
    ];

    private static readonly int[] Ml1mAgeGroups = [1, 18, 25, 35, 45, 50, 56];

    public static void Write(RatingDataset data, string folder, MovieLensFormat format)
    {
        ArgumentNullException.ThrowIfNull(data);
        Validate(data, format);
        Directory.CreateDirectory(folder);
        switch (format)
        {
            case MovieLensFormat.Ml100k:
                WriteRatings(data, Path.Combine(folder, "u.data"), "\t", v => Format(v, "0"));
                WriteLines(Path.Combine(folder, "u.item"), Encoding.Latin1, null, data.Catalogue.Select(UItemLine));
                WriteLines(Path.Combine(folder, "u.genre"), Encoding.Latin1, null,
                    MovieLensLayout.Ml100kGenres.Select((g, i) => $"{g}|{i}").Append(""));
                WriteLines(Path.Combine(folder, "u.user"), Encoding.Latin1, null, data.Users.Integers!.Select(id =>
                    Invariant($"{id}|{18 + id * 13 % 50}|{(id % 3 == 0 ? "F" : "M")}|{Occupations[id % Occupations.Length]}|{Zip(id)}")));
                WriteLines(Path.Combine(folder, "u.info"), Encoding.Latin1, null,
                    [Invariant($"{data.UserCount} users"), Invariant($"{data.ItemCount} items"), Invariant($"{data.Ratings.Length} ratings")]);
                break;
            case MovieLensFormat.Ml1m:
                WriteRatings(data, Path.Combine(folder, "ratings.dat"), "::", v => Format(v, "0.#"));
                WriteLines(Path.Combine(folder, "movies.dat"), Encoding.Latin1, null, data.Catalogue.Select(m =>
                    Invariant($"{m.Id}::{m.Title}::{string.Join('|', m.Categories)}")));
                WriteLines(Path.Combine(folder, "users.dat"), Encoding.Latin1, null, data.Users.Integers!.Select(id =>
                    Invariant($"{id}::{(id % 3 == 0 ? "F" : "M")}::{Ml1mAgeGroups[id % Ml1mAgeGroups.Length]}::{id % 21}::{Zip(id)}")));
                break;
            case MovieLensFormat.Csv:
                WriteRatings(data, Path.Combine(folder, "ratings.csv"), ",", v => Format(v, "0.0"), MovieLensLayout.CsvRatingsHeader);
                WriteLines(Path.Combine(folder, "movies.csv"), MovieLensLayout.StrictUtf8, MovieLensLayout.CsvMoviesHeader,
                    data.Catalogue.Select(m => Invariant(
                        $"{m.Id},{Csv.Quote(m.Title)},{Csv.Quote(m.Categories.Count == 0 ? MovieLensLayout.NoGenres : string.Join('|', m.Categories))}")));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }

    private static void Validate(RatingDataset data, MovieLensFormat format)
    {
        if (!data.Users.AllIntegers || !data.Items.AllIntegers)
        {
            throw new ArgumentException($"{format} files hold integer user and item ids; this data set has other ids.", nameof(data));
        }
        foreach (Rating r in data.Ratings)
        {
            bool halfStar = r.Value >= 0.5f && r.Value <= 5f && r.Value * 2 == MathF.Round(r.Value * 2);
            if (!halfStar || (format == MovieLensFormat.Ml100k && r.Value != MathF.Round(r.Value)))
            {
                throw new ArgumentException(
                    $"Rating {r.Value} of user {data.Users.ToId(r.User)} cannot be written to {format}: " +
                    (format == MovieLensFormat.Ml100k ? "u.data holds whole stars 1..5." : "ratings are half stars 0.5..5."),
                    nameof(data));
            }
        }
        string[] forbidden = format switch
        {
            MovieLensFormat.Ml100k => ["|", "\n", "\r"],
            MovieLensFormat.Ml1m => ["::", "\n", "\r"],
            _ => [],
        };
        foreach (Item m in data.Catalogue)
        {
            string? bad = forbidden.FirstOrDefault(s => m.Title.Contains(s, StringComparison.Ordinal));
            if (bad is not null)
            {
                throw new ArgumentException($"Title '{m.Title}' of movie {m.Id} contains '{bad}', which {format} uses as a separator.", nameof(data));
            }
            if (format != MovieLensFormat.Csv && m.Title.Any(c => c > '\u00FF'))
            {
                throw new ArgumentException($"Title '{m.Title}' of movie {m.Id} has characters outside Latin-1, the encoding of {format}.", nameof(data));
            }
            foreach (string genre in m.Categories)
            {
                bool ok = format == MovieLensFormat.Ml100k
                    ? Array.IndexOf(MovieLensLayout.Ml100kGenres, genre) >= 0
                    : genre.Length > 0 && genre != MovieLensLayout.NoGenres && !genre.Contains('|', StringComparison.Ordinal)
                      && forbidden.All(s => !genre.Contains(s, StringComparison.Ordinal));
                if (!ok)
                {
                    throw new ArgumentException($"Genre '{genre}' of movie {m.Id} cannot be written to {format}.", nameof(data));
                }
            }
        }
    }

    /// <summary>ml-100k lists genre flags in its fixed column order, so genres come back in that order.</summary>
    private static string UItemLine(Item m)
    {
        string year = m.Title.Length >= 6 && m.Title[^1] == ')' && m.Title[^6] == '(' ? m.Title[^5..^1] : "";
        string release = m.Timestamp is { } released
            ? DateTimeOffset.FromUnixTimeSeconds(released).ToString("dd-MMM-yyyy", CultureInfo.InvariantCulture)
            : year.Length == 4 && year.All(char.IsAsciiDigit) ? $"01-Jan-{year}" : "";
        string url = "http://us.imdb.com/M/title-exact?" + Uri.EscapeDataString(m.Title);
        IEnumerable<string> flags = MovieLensLayout.Ml100kGenres.Select(g => m.Categories.Contains(g) ? "1" : "0");
        return Invariant($"{m.Id}|{m.Title}|{release}||{url}|{string.Join('|', flags)}");
    }

    private static void WriteRatings(RatingDataset data, string path, string separator, Func<float, string> value, string? header = null)
    {
        IEnumerable<string> lines = data.Ratings.Select(r =>
            Invariant($"{data.Users.ToId(r.User)}{separator}{data.Items.ToId(r.Item)}{separator}{value(r.Value)}{separator}{r.Timestamp}"));
        WriteLines(path, Encoding.ASCII, header, lines);
    }

    /// <summary>Unix line endings, as in the releases.</summary>
    private static void WriteLines(string path, Encoding encoding, string? header, IEnumerable<string> lines)
    {
        using var writer = new StreamWriter(path, append: false, encoding, bufferSize: 1 << 16) { NewLine = "\n" };
        if (header is not null)
        {
            writer.WriteLine(header);
        }
        foreach (string line in lines)
        {
            writer.WriteLine(line);
        }
    }

    private static string Zip(long id) => (10000 + id * 7919 % 89999).ToString("D5", CultureInfo.InvariantCulture);

    private static string Format(float value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
