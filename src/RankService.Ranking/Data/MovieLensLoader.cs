using System.Globalization;
using System.Text;

namespace RankService.Ranking.Data;

/// <summary>
/// Loads a MovieLens release from its folder, whichever of the three layouts it uses (see <see cref="MovieLensFormat"/>).
/// Ratings are streamed as bytes and parsed from spans, so ml-25m loads without a string per line.
/// </summary>
public static class MovieLensLoader
{
    /// <summary>The layout of <paramref name="folder"/> by its ratings file, or null when it holds none.</summary>
    public static MovieLensFormat? DetectFormat(string folder)
    {
        foreach (MovieLensFormat format in new[] { MovieLensFormat.Ml100k, MovieLensFormat.Ml1m, MovieLensFormat.Csv })
        {
            if (File.Exists(Path.Combine(folder, MovieLensLayout.RatingsFile(format))))
            {
                return format;
            }
        }
        return null;
    }

    /// <summary>
    /// Reads ratings and, when present, movie titles and genres. Malformed lines throw a
    /// <see cref="MovieLensDataException"/> naming file and line, unless
    /// <see cref="MovieLensLoadOptions.SkipMalformedLines"/> is set. Blank lines carry no data and are ignored.
    /// </summary>
    public static RatingDataset Load(string folder, MovieLensLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new MovieLensLoadOptions();
        if (!Directory.Exists(folder))
        {
            throw new MovieLensDataException($"MovieLens folder '{folder}' does not exist.");
        }
        MovieLensFormat format = DetectFormat(folder) ?? throw new MovieLensDataException(
            $"'{folder}' holds no MovieLens ratings file: expected u.data (ml-100k), ratings.dat (ml-1m, ml-10m) " +
            "or ratings.csv (ml-latest-small, ml-20m, ml-25m) in that folder.");

        var problems = new LineProblems(options.SkipMalformedLines);
        RatingTable table = ReadRatings(Path.Combine(folder, MovieLensLayout.RatingsFile(format)), format, problems);

        string moviesPath = Path.Combine(folder, MovieLensLayout.MoviesFile(format));
        Dictionary<long, Item> movies = !File.Exists(moviesPath) ? [] : format switch
        {
            MovieLensFormat.Ml100k => ReadUItem(moviesPath, ReadUGenre(Path.Combine(folder, "u.genre")), problems),
            MovieLensFormat.Ml1m => ReadMoviesDat(moviesPath, problems),
            _ => ReadMoviesCsv(moviesPath, problems),
        };
        var catalogue = new Item[table.Items.Count];
        for (int i = 0; i < catalogue.Length; i++)
        {
            catalogue[i] = movies.TryGetValue(table.Items.Integers![i], out Item? movie) ? movie : Item.Bare(table.Items.ToId(i));
        }

        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        return new RatingDataset(name, format, table.Users, table.Items, table.Ratings, catalogue, table.Fingerprint,
            problems.Skipped);
    }

    private sealed record RatingTable(IdMap Users, IdMap Items, Rating[] Ratings, string Fingerprint);

    /// <summary>Throws on the first malformed line, or counts it when skipping.</summary>
    private sealed class LineProblems(bool skip)
    {
        public int Skipped { get; private set; }

        public void Report(string path, long line, string problem)
        {
            if (!skip)
            {
                throw new MovieLensDataException(path, line, problem);
            }
            Skipped++;
        }
    }

    private static RatingTable ReadRatings(string path, MovieLensFormat format, LineProblems problems)
    {
        (byte[] separator, string described) = format switch
        {
            MovieLensFormat.Ml100k => ("\t"u8.ToArray(), "tab-separated"),
            MovieLensFormat.Ml1m => ("::"u8.ToArray(), "'::'-separated"),
            _ => (","u8.ToArray(), "comma-separated"),
        };
        using var reader = new ByteLineReader(path);
        using var fingerprint = new RatingFingerprint();
        // Dense ids are first assigned in order of appearance, then renumbered in ascending raw order at the end.
        var userSeen = new Dictionary<long, int>();
        var itemSeen = new Dictionary<long, int>();
        var userRaw = new List<long>();
        var itemRaw = new List<long>();
        long lines = ByteLineReader.CountLines(path) - (format == MovieLensFormat.Csv ? 1 : 0); // less the header
        var ratings = new Rating[Math.Clamp(lines, 0, Array.MaxLength)];
        int count = 0;
        long lastUser = long.MinValue;
        int lastUserIndex = -1;

        if (format == MovieLensFormat.Csv)
        {
            ExpectHeader(reader, path, MovieLensLayout.CsvRatingsHeader);
        }
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (IsBlank(line))
            {
                continue;
            }
            string? problem = ParseRating(line, separator, described, out long user, out long item, out float value, out long time);
            if (problem is not null)
            {
                problems.Report(path, reader.LineNumber, problem);
                continue;
            }
            fingerprint.Add(user, item, value, time);
            if (count == ratings.Length)
            {
                Array.Resize(ref ratings, Math.Max(16, checked(count * 2))); // the file grew while we read it
            }
            if (user != lastUser)
            {
                (lastUser, lastUserIndex) = (user, Intern(userSeen, userRaw, user)); // files mostly run user by user
            }
            ratings[count++] = new Rating(lastUserIndex, Intern(itemSeen, itemRaw, item), value, time);
        }
        if (count == 0)
        {
            throw new MovieLensDataException($"{path} holds no ratings.");
        }
        if (count < ratings.Length)
        {
            Array.Resize(ref ratings, count); // blank or skipped lines
        }

        var users = new IdMap(userRaw);
        var items = new IdMap(itemRaw);
        int[] userDense = userRaw.Select(users.ToIndex).ToArray();
        int[] itemDense = itemRaw.Select(items.ToIndex).ToArray();
        for (int i = 0; i < ratings.Length; i++)
        {
            ratings[i] = ratings[i] with { User = userDense[ratings[i].User], Item = itemDense[ratings[i].Item] };
        }
        return new RatingTable(users, items, ratings, fingerprint.Finish());
    }

    private static int Intern(Dictionary<long, int> seen, List<long> raw, long id)
    {
        if (!seen.TryGetValue(id, out int index))
        {
            index = raw.Count;
            seen.Add(id, index);
            raw.Add(id);
        }
        return index;
    }

    /// <summary>Parses "user SEP item SEP rating SEP timestamp"; returns what is wrong, or null.</summary>
    private static string? ParseRating(ReadOnlySpan<byte> line, ReadOnlySpan<byte> separator, string described,
        out long user, out long item, out float value, out long time)
    {
        user = item = time = 0;
        value = 0;
        Span<Range> fields = stackalloc Range[4];
        int found = 0;
        int start = 0;
        while (true)
        {
            int at = line[start..].IndexOf(separator);
            int end = at < 0 ? line.Length : start + at;
            if (found < fields.Length)
            {
                fields[found] = start..end;
            }
            found++;
            if (at < 0)
            {
                break;
            }
            start = end + separator.Length;
        }
        if (found != 4)
        {
            return $"expected 4 {described} fields (user, item, rating, timestamp), found {found}";
        }
        ReadOnlySpan<byte> rating = line[fields[2]];
        if (!TryParseId(line[fields[0]], out user))
        {
            return $"user id '{Show(line[fields[0]])}' is not a whole number";
        }
        if (!TryParseId(line[fields[1]], out item))
        {
            return $"item id '{Show(line[fields[1]])}' is not a whole number";
        }
        if (!TryParseRating(rating, out value))
        {
            return $"rating '{Show(rating)}' is not a number";
        }
        if (!(value >= 0.5f && value <= 5f))
        {
            return $"rating '{Show(rating)}' is outside 0.5..5";
        }
        if (value * 2 != MathF.Round(value * 2))
        {
            return $"rating '{Show(rating)}' is not a whole or half star";
        }
        if (!TryParseId(line[fields[3]], out time))
        {
            return $"timestamp '{Show(line[fields[3]])}' is not a whole number";
        }
        return null;
    }

    /// <summary>Plain digits by hand (three times per line, so it counts); anything else goes to long.TryParse.</summary>
    private static bool TryParseId(ReadOnlySpan<byte> text, out long value)
    {
        if (text.Length is > 0 and <= 18)
        {
            long result = 0;
            foreach (byte b in text)
            {
                uint digit = (uint)(b - '0');
                if (digit > 9)
                {
                    return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
                }
                result = result * 10 + digit;
            }
            value = result;
            return true;
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// "4" and "3.5" by hand; (10a + b) / 10f is the correctly rounded float, the same float.Parse gives.
    /// Anything else goes to float.TryParse.
    /// </summary>
    private static bool TryParseRating(ReadOnlySpan<byte> text, out float value)
    {
        if (text.Length == 1 && char.IsAsciiDigit((char)text[0]))
        {
            value = text[0] - '0';
            return true;
        }
        if (text.Length == 3 && char.IsAsciiDigit((char)text[0]) && text[1] == '.' && char.IsAsciiDigit((char)text[2]))
        {
            value = ((text[0] - '0') * 10 + (text[2] - '0')) / 10f;
            return true;
        }
        return float.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    private static string Show(ReadOnlySpan<byte> field) => Encoding.Latin1.GetString(field);

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t"u8).IsEmpty;

    private static void ExpectHeader(ByteLineReader reader, string path, string header)
    {
        reader.TryReadLine(out ReadOnlySpan<byte> line);
        if (line.StartsWith("\uFEFF"u8))
        {
            line = line[3..];
        }
        if (!line.SequenceEqual(Encoding.ASCII.GetBytes(header)))
        {
            throw new MovieLensDataException(path, 1, $"expected the header '{header}', found '{Show(line)}'");
        }
    }

    /// <summary>Genre names by flag column from u.genre ("name|index" lines), or ml-100k's list when it is absent.</summary>
    private static string[] ReadUGenre(string path)
    {
        if (!File.Exists(path))
        {
            return MovieLensLayout.Ml100kGenres;
        }
        var names = new List<string>();
        long number = 0;
        foreach (string line in File.ReadLines(path, Encoding.Latin1))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            string[] parts = line.Split('|');
            if (parts.Length != 2 || parts[1] != names.Count.ToString(CultureInfo.InvariantCulture))
            {
                throw new MovieLensDataException(path, number, $"expected 'name|{names.Count}', found '{line}'");
            }
            names.Add(parts[0]);
        }
        return [.. names];
    }

    /// <summary>u.item: id|title|release date|video release date|IMDb URL|one 0/1 flag per genre.</summary>
    private static Dictionary<long, Item> ReadUItem(string path, string[] genreNames, LineProblems problems)
    {
        var movies = new Dictionary<long, Item>();
        var firstLine = new Dictionary<long, long>();
        ForEachTextLine(path, MovieLensFormat.Ml100k, problems, (line, number) =>
        {
            string[] fields = line.Split('|');
            if (fields.Length != 5 + genreNames.Length)
            {
                return $"expected {5 + genreNames.Length} '|'-separated fields (id, title, dates, URL, {genreNames.Length} genre flags), found {fields.Length}";
            }
            var genres = new List<string>();
            for (int g = 0; g < genreNames.Length; g++)
            {
                switch (fields[5 + g])
                {
                    case "1": genres.Add(genreNames[g]); break;
                    case "0": break;
                    default: return $"genre flag '{fields[5 + g]}' for {genreNames[g]} is not 0 or 1";
                }
            }
            // A date that does not read is metadata lost, not a reason to refuse the release: the item has no time.
            long? released = ReleaseDate(fields[2]);
            return AddMovie(movies, firstLine, number, fields[0], fields[1], [.. genres], released);
        });
        return movies;
    }

    /// <summary>movies.dat: id::title::Genre1|Genre2.</summary>
    private static Dictionary<long, Item> ReadMoviesDat(string path, LineProblems problems)
    {
        var movies = new Dictionary<long, Item>();
        var firstLine = new Dictionary<long, long>();
        ForEachTextLine(path, MovieLensFormat.Ml1m, problems, (line, number) =>
        {
            string[] fields = line.Split("::");
            return fields.Length != 3
                ? $"expected 3 '::'-separated fields (id, title, genres), found {fields.Length}"
                : AddMovie(movies, firstLine, number, fields[0], fields[1], SplitGenres(fields[2]));
        });
        return movies;
    }

    /// <summary>movies.csv: header, then RFC-4180 records id,title,genres (titles with commas are quoted).</summary>
    private static Dictionary<long, Item> ReadMoviesCsv(string path, LineProblems problems)
    {
        var movies = new Dictionary<long, Item>();
        var firstLine = new Dictionary<long, long>();
        var fields = new List<string>();
        string? pending = null; // a record whose quoted field continues on the next line
        long pendingStart = 0;
        bool header = true;
        ForEachTextLine(path, MovieLensFormat.Csv, problems, (line, number) =>
        {
            if (header)
            {
                header = false;
                return line.TrimStart('\uFEFF') == MovieLensLayout.CsvMoviesHeader ? null
                    : throw new MovieLensDataException(path, number, $"expected the header '{MovieLensLayout.CsvMoviesHeader}', found '{line}'");
            }
            if (pending is null && string.IsNullOrWhiteSpace(line))
            {
                return null;
            }
            string record = pending is null ? line : pending + "\n" + line;
            long start = pending is null ? number : pendingStart;
            switch (Csv.Split(record, fields, out string? problem))
            {
                case Csv.RecordStatus.Incomplete:
                    (pending, pendingStart) = (record, start);
                    return null;
                case Csv.RecordStatus.Malformed:
                    pending = null;
                    return problem;
            }
            pending = null;
            return fields.Count != 3
                ? $"expected 3 comma-separated fields (movieId, title, genres), found {fields.Count}"
                : AddMovie(movies, firstLine, start, fields[0], fields[1], SplitGenres(fields[2]));
        }, skipBlank: false); // a blank line may belong to a quoted field
        if (pending is not null)
        {
            problems.Report(path, pendingStart, "a quoted field is not closed before the end of the file");
        }
        return movies;
    }

    private static string[] SplitGenres(string genres) =>
        genres.Length == 0 || genres == MovieLensLayout.NoGenres ? [] : genres.Split('|');

    /// <summary>u.item's release date (dd-MMM-yyyy, midnight UTC) as Unix seconds; empty means unknown.</summary>
    /// <summary>u.item's release date (01-Jan-1995; ml-100k also spells 4-Feb-1971) as Unix seconds; null when empty or unreadable.</summary>
    private static long? ReleaseDate(string text) =>
        DateTime.TryParseExact(text, ["dd-MMM-yyyy", "d-MMM-yyyy"], CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime date)
            ? new DateTimeOffset(date, TimeSpan.Zero).ToUnixTimeSeconds()
            : null;

    private static string? AddMovie(Dictionary<long, Item> movies, Dictionary<long, long> firstLine, long line,
        string id, string title, string[] genres, long? released = null)
    {
        if (!long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long raw))
        {
            return $"movie id '{id}' is not a whole number";
        }
        if (!firstLine.TryAdd(raw, line))
        {
            return $"movie id {raw} appears twice (first on line {firstLine[raw]})";
        }
        movies.Add(raw, new Item(ExternalId.Of(raw), title, genres, Timestamp: released));
        return null;
    }

    /// <summary>
    /// Decodes each line on its own so that an encoding error is reported with its line number; the handler returns
    /// what is wrong with the line, or null.
    /// </summary>
    private static void ForEachTextLine(string path, MovieLensFormat format, LineProblems problems,
        Func<string, long, string?> handle, bool skipBlank = true)
    {
        Encoding encoding = MovieLensLayout.MoviesEncoding(format);
        using var reader = new ByteLineReader(path, 1 << 16);
        while (reader.TryReadLine(out ReadOnlySpan<byte> bytes))
        {
            if (skipBlank && IsBlank(bytes))
            {
                continue;
            }
            string line;
            try
            {
                line = encoding.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                problems.Report(path, reader.LineNumber, $"not valid {encoding.WebName} text");
                continue;
            }
            string? problem = handle(line, reader.LineNumber);
            if (problem is not null)
            {
                problems.Report(path, reader.LineNumber, problem);
            }
        }
    }
}
