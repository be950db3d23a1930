using System.Text;
using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public sealed class MovieLensLoaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly string[] Ml100kRatings =
    [
        "196\t242\t3\t881250949",
        "186\t302\t3\t891717742",
        "22\t377\t1\t878887116",
        "196\t377\t5\t881250950",
    ];

    /// <summary>A u.item line with the given genre columns set (0 = unknown, 5 = Comedy, ...).</summary>
    private static string UItem(long id, string title, params int[] genres) =>
        $"{id}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|" +
        string.Join('|', Enumerable.Range(0, 19).Select(g => genres.Contains(g) ? "1" : "0"));

    private string WriteMl100k(string[]? ratings = null, string newline = "\n")
    {
        string folder = _temp.Sub("ml-100k");
        TempFolder.Write(folder, "u.data", ratings ?? Ml100kRatings, Encoding.ASCII, newline);
        TempFolder.Write(folder, "u.item",
        [
            UItem(242, "Café (1994)", 5, 8),
            UItem(302, "L.A. Confidential (1997)", 6, 10, 13, 16),
            UItem(377, "Heavyweights (1994)", 4, 5),
            UItem(999, "Never Rated (1990)", 8),
        ], Encoding.Latin1, newline);
        return folder;
    }

    [Fact]
    public void Ml100k_loader_reads_ratings_titles_and_genres()
    {
        RatingDataset data = MovieLensLoader.Load(WriteMl100k());

        Assert.Equal("ml-100k", data.Name);
        Assert.Equal(MovieLensFormat.Ml100k, data.Format);
        Assert.Equal(["22", "186", "196"], data.Users.Ids);
        Assert.Equal(["242", "302", "377"], data.Items.Ids); // 999 has no rating, so it is not in the catalogue
        Assert.Equal(
            [new Rating(2, 0, 3, 881250949), new Rating(1, 1, 3, 891717742), new Rating(0, 2, 1, 878887116), new Rating(2, 2, 5, 881250950)],
            data.Ratings);
        Assert.Equal(["Café (1994)", "L.A. Confidential (1997)", "Heavyweights (1994)"], data.Catalogue.Select(m => m.Title));
        Assert.Equal(["Crime", "Film-Noir", "Mystery", "Thriller"], data.Catalogue[1].Categories);
        Assert.Equal(["Children's", "Comedy"], data.Catalogue[2].Categories);
        Assert.Equal(0, data.SkippedLines);
        Assert.Matches("^[0-9a-f]{64}$", data.Fingerprint);
    }

    [Fact]
    public void Ml100k_titles_are_read_as_latin1_bytes()
    {
        string folder = WriteMl100k();
        byte[] bytes = File.ReadAllBytes(Path.Combine(folder, "u.item"));
        Assert.Contains((byte)0xE9, bytes); // é as one Latin-1 byte, not UTF-8's C3 A9

        Assert.Equal("Café (1994)", MovieLensLoader.Load(folder).Catalogue[0].Title);
    }

    [Fact]
    public void Ml100k_genre_names_come_from_u_genre_when_present()
    {
        string folder = _temp.Sub("ml-100k");
        TempFolder.Write(folder, "u.data", ["1\t10\t4\t100"]);
        TempFolder.Write(folder, "u.genre", ["none|0", "Noir|1", "Space|2", ""]);
        TempFolder.Write(folder, "u.item", ["10|Three Genres (2001)|01-Jan-2001||url|0|1|1"]);

        Assert.Equal(["Noir", "Space"], MovieLensLoader.Load(folder).Catalogue[0].Categories);
    }

    [Fact]
    public void Ml1m_loader_reads_double_colon_files_in_latin1()
    {
        string folder = _temp.Sub("ml-1m");
        TempFolder.Write(folder, "ratings.dat", ["1::1193::5::978300760", "1::661::3::978302109", "2::1193::4::978298413"]);
        TempFolder.Write(folder, "movies.dat",
            ["661::James and the Giant Peach (1996)::Animation|Children's|Musical", "1193::Niño, El (1975)::Drama"], Encoding.Latin1);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(MovieLensFormat.Ml1m, data.Format);
        Assert.Equal(["1", "2"], data.Users.Ids);
        Assert.Equal(["661", "1193"], data.Items.Ids);
        Assert.Equal([new Rating(0, 1, 5, 978300760), new Rating(0, 0, 3, 978302109), new Rating(1, 1, 4, 978298413)], data.Ratings);
        Assert.Equal("Niño, El (1975)", data.Catalogue[1].Title);
        Assert.Equal(["Animation", "Children's", "Musical"], data.Catalogue[0].Categories);
        Assert.Equal(["Drama"], data.Catalogue[1].Categories);
    }

    [Fact]
    public void Csv_loader_reads_quoted_titles_with_commas_and_doubled_quotes()
    {
        string folder = _temp.Sub("ml-latest-small");
        TempFolder.Write(folder, "ratings.csv",
            ["userId,movieId,rating,timestamp", "1,1,4.0,964982703", "1,3,3.5,964981247", "2,3,0.5,964982224", "2,7,5.0,964983815"]);
        TempFolder.Write(folder, "movies.csv",
        [
            "movieId,title,genres",
            "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy",
            "3,\"Grumpier Old Men, The (1995)\",Comedy|Romance",
            "7,\"\"\"Great Performances\"\" Cats, The (1998)\",(no genres listed)",
        ]);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(MovieLensFormat.Csv, data.Format);
        Assert.Equal([4f, 3.5f, 0.5f, 5f], data.Ratings.Select(r => r.Value));
        Assert.Equal("Grumpier Old Men, The (1995)", data.Catalogue[1].Title);
        Assert.Equal(["Comedy", "Romance"], data.Catalogue[1].Categories);
        Assert.Equal("\"Great Performances\" Cats, The (1998)", data.Catalogue[2].Title);
        Assert.Empty(data.Catalogue[2].Categories);
    }

    [Fact]
    public void Csv_loader_accepts_a_byte_order_mark_crlf_endings_and_a_quoted_line_break()
    {
        string folder = _temp.Sub("csv");
        TempFolder.Write(folder, "ratings.csv", ["userId,movieId,rating,timestamp", "5,9,2.5,1000"], new UTF8Encoding(true), "\r\n");
        TempFolder.Write(folder, "movies.csv", ["movieId,title,genres", "9,\"Two\nLines (2000)\",Drama"], new UTF8Encoding(true), "\r\n");

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal([new Rating(0, 0, 2.5f, 1000)], data.Ratings);
        Assert.Equal("Two\nLines (2000)", data.Catalogue[0].Title);
    }

    [Fact]
    public void Missing_movies_file_leaves_titles_empty()
    {
        string folder = _temp.Sub("bare");
        TempFolder.Write(folder, "ratings.dat", ["3::8::4::1", "3::5::2::2"]);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(["5", "8"], data.Catalogue.Select(m => m.Id));
        Assert.All(data.Catalogue, m => Assert.Equal("", m.Title));
        Assert.All(data.Catalogue, m => Assert.Empty(m.Categories));
    }

    [Fact]
    public void Id_maps_round_trip_raw_and_dense_ids_in_ascending_raw_order()
    {
        string folder = _temp.Sub("ids");
        TempFolder.Write(folder, "u.data", ["10\t500\t4\t1", "3\t20\t5\t2", "7\t500\t1\t3", "3\t7000\t2\t4"]);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(0, data.Users.ToIndex(3));
        Assert.Equal(1, data.Users.ToIndex(7));
        Assert.Equal(2, data.Users.ToIndex(10));
        Assert.Equal(["20", "500", "7000"], data.Items.Ids);
        foreach (long raw in new long[] { 3, 7, 10 })
        {
            Assert.Equal(raw, data.Users.Integers![data.Users.ToIndex(raw)]);
        }
        Assert.Equal([(10L, 500L), (3, 20), (7, 500), (3, 7000)],
            data.Ratings.Select(r => (data.Users.Integers![r.User], data.Items.Integers![r.Item])));
        Assert.False(data.Items.TryGetIndex(21, out _));
        Assert.Throws<KeyNotFoundException>(() => data.Items.ToIndex(21));
    }

    [Fact]
    public void Fingerprint_depends_on_content_not_line_endings_or_format()
    {
        string unix = WriteMl100k();
        string unixFingerprint = MovieLensLoader.Load(unix).Fingerprint;
        Directory.Delete(unix, recursive: true);
        string windows = WriteMl100k(newline: "\r\n");
        Assert.Equal(unixFingerprint, MovieLensLoader.Load(windows).Fingerprint);

        string csv = _temp.Sub("same-as-csv");
        TempFolder.Write(csv, "ratings.csv",
            ["userId,movieId,rating,timestamp", "196,242,3.0,881250949", "186,302,3.0,891717742", "22,377,1.0,878887116", "196,377,5.0,881250950"]);
        Assert.Equal(unixFingerprint, MovieLensLoader.Load(csv).Fingerprint);

        string changed = _temp.Sub("changed");
        TempFolder.Write(changed, "u.data", [.. Ml100kRatings[..3], "196\t377\t4\t881250950"]);
        Assert.NotEqual(unixFingerprint, MovieLensLoader.Load(changed).Fingerprint);

        string reordered = _temp.Sub("reordered");
        TempFolder.Write(reordered, "u.data", [.. Ml100kRatings.Reverse()]);
        Assert.NotEqual(unixFingerprint, MovieLensLoader.Load(reordered).Fingerprint);
    }

    [Theory]
    [InlineData("u.data", "1\t2\t3\t4", MovieLensFormat.Ml100k)]
    [InlineData("ratings.dat", "1::2::3::4", MovieLensFormat.Ml1m)]
    [InlineData("ratings.csv", "userId,movieId,rating,timestamp\n1,2,3.0,4", MovieLensFormat.Csv)]
    public void Format_is_detected_from_the_ratings_file(string file, string content, MovieLensFormat expected)
    {
        string folder = _temp.Sub("detect");
        File.WriteAllText(Path.Combine(folder, file), content);

        Assert.Equal(expected, MovieLensLoader.DetectFormat(folder));
        Assert.Equal(expected, MovieLensLoader.Load(folder).Format);
    }

    [Fact]
    public void Missing_folder_is_reported_with_its_path()
    {
        string missing = Path.Combine(_temp.Path, "nowhere");

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(missing));

        Assert.Equal($"MovieLens folder '{missing}' does not exist.", e.Message);
    }

    [Fact]
    public void Folder_of_unknown_layout_names_the_files_expected_there()
    {
        string folder = _temp.Sub("odd");
        TempFolder.Write(folder, "movies.csv", ["movieId,title,genres"]);

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(folder));

        Assert.Null(MovieLensLoader.DetectFormat(folder));
        Assert.StartsWith($"'{folder}' holds no MovieLens ratings file: expected u.data (ml-100k), ratings.dat (ml-1m, ml-10m) or ratings.csv", e.Message);
    }

    [Theory]
    [InlineData("22\t377\t1", "expected 4 tab-separated fields (user, item, rating, timestamp), found 3")]
    [InlineData("22\t377\t1\t878887116\t9", "expected 4 tab-separated fields (user, item, rating, timestamp), found 5")]
    [InlineData("22 377 1 878887116", "expected 4 tab-separated fields (user, item, rating, timestamp), found 1")]
    [InlineData("22\t377\tabc\t878887116", "rating 'abc' is not a number")]
    [InlineData("22\t377\t\t878887116", "rating '' is not a number")]
    [InlineData("22\t377\t7\t878887116", "rating '7' is outside 0.5..5")]
    [InlineData("22\t377\t0\t878887116", "rating '0' is outside 0.5..5")]
    [InlineData("22\t377\t3.3\t878887116", "rating '3.3' is not a whole or half star")]
    [InlineData("u22\t377\t1\t878887116", "user id 'u22' is not a whole number")]
    [InlineData("22\t37.7\t1\t878887116", "item id '37.7' is not a whole number")]
    [InlineData("22\t377\t1\t2020-01-01", "timestamp '2020-01-01' is not a whole number")]
    public void Malformed_ml100k_line_names_file_line_and_problem(string badLine, string problem)
    {
        string folder = WriteMl100k([Ml100kRatings[0], Ml100kRatings[1], badLine, Ml100kRatings[3]]);
        string path = Path.Combine(folder, "u.data");

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(folder));

        Assert.Equal($"{path} line 3: {problem}", e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(3, e.LineNumber);
    }

    [Theory]
    [InlineData("ratings.dat", "1::2::3::4\n1::2::3::4::5", "ratings.dat line 2: expected 4 '::'-separated fields (user, item, rating, timestamp), found 5")]
    [InlineData("ratings.dat", "1::2::3::4\n\n1:2:3:4", "ratings.dat line 3: expected 4 '::'-separated fields (user, item, rating, timestamp), found 1")]
    [InlineData("ratings.csv", "userId,movieId,rating,timestamp\n1,2,3.5", "ratings.csv line 2: expected 4 comma-separated fields (user, item, rating, timestamp), found 3")]
    [InlineData("ratings.csv", "userId,movieId,rating,timestamp\n1,2,5.5,9", "ratings.csv line 2: rating '5.5' is outside 0.5..5")]
    [InlineData("ratings.csv", "user,movie,rating,timestamp\n1,2,3.5,9", "ratings.csv line 1: expected the header 'userId,movieId,rating,timestamp', found 'user,movie,rating,timestamp'")]
    public void Malformed_ml1m_and_csv_lines_name_file_line_and_problem(string file, string content, string message)
    {
        string folder = _temp.Sub("bad");
        File.WriteAllText(Path.Combine(folder, file), content);

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(folder));

        Assert.Equal(Path.Combine(folder, message), e.Message);
    }

    [Theory]
    [InlineData("movies.csv", "movieId,title,genres\n1,\"Unclosed, (1999),Drama", "movies.csv line 2: a quoted field is not closed before the end of the file")]
    [InlineData("movies.csv", "movieId,title,genres\n1,Toy Story (1995)", "movies.csv line 2: expected 3 comma-separated fields (movieId, title, genres), found 2")]
    [InlineData("movies.csv", "movieId,title,genres\n1,Toy \"Story\" (1995),Drama", "movies.csv line 2: quote inside unquoted field 2")]
    [InlineData("movies.csv", "movieId,title,genres\n1,A (1995),Drama\n\n1,B (1996),Drama", "movies.csv line 4: movie id 1 appears twice (first on line 2)")]
    [InlineData("movies.csv", "movieId,title,genres\n1,Caf\u00E9 (1994),Drama", "movies.csv line 2: not valid utf-8 text")]
    public void Malformed_movie_lines_name_file_line_and_problem(string file, string content, string message)
    {
        string folder = _temp.Sub("bad-movies");
        TempFolder.Write(folder, "ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,9"]);
        File.WriteAllText(Path.Combine(folder, file), content, Encoding.Latin1); // é becomes the lone byte E9: not UTF-8

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(folder));

        Assert.Equal(Path.Combine(folder, message), e.Message);
    }

    [Fact]
    public void Skip_mode_counts_malformed_lines_and_keeps_the_rest()
    {
        string folder = WriteMl100k([Ml100kRatings[0], "22\t377\tabc\t878887116", Ml100kRatings[1], "22\t377", Ml100kRatings[2]]);
        File.AppendAllText(Path.Combine(folder, "u.item"), "1000|Too Few Fields|\n", Encoding.Latin1);

        RatingDataset data = MovieLensLoader.Load(folder, new MovieLensLoadOptions { SkipMalformedLines = true });

        Assert.Equal(3, data.SkippedLines);
        Assert.Equal([3f, 3f, 1f], data.Ratings.Select(r => r.Value));
        Assert.Equal(["22", "186", "196"], data.Users.Ids);
        Assert.Equal("Café (1994)", data.Catalogue[0].Title);
    }

    [Fact]
    public void Blank_trailing_lines_are_not_errors()
    {
        string folder = WriteMl100k([.. Ml100kRatings, "", "  ", ""]);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(4, data.Ratings.Length);
        Assert.Equal(0, data.SkippedLines);
    }

    [Fact]
    public void Ratings_file_without_ratings_is_an_error()
    {
        string folder = _temp.Sub("empty");
        TempFolder.Write(folder, "ratings.csv", ["userId,movieId,rating,timestamp"]);

        var e = Assert.Throws<MovieLensDataException>(() => MovieLensLoader.Load(folder));

        Assert.Equal($"{Path.Combine(folder, "ratings.csv")} holds no ratings.", e.Message);
    }
}
