using System.Globalization;

namespace RankService.Ranking.Data;

public sealed record SyntheticOptions
{
    public int Users { get; init; } = 200;
    public int Items { get; init; } = 300;
    public int Dim { get; init; } = 8;
    public int MinRatingsPerUser { get; init; } = 20;
    public int MaxRatingsPerUser { get; init; } = 60;

    /// <summary>Standard deviation of the item bias: how much popularity alone decides what is watched.</summary>
    public double PopularitySkew { get; init; } = 1.0;

    /// <summary>
    /// Scale of the personal term u·v; at 1 it has unit variance, like the bias at skew 1. The default 2 makes
    /// personal taste matter more than popularity, so a model that learns it beats the popularity baseline clearly.
    /// </summary>
    public double Affinity { get; init; } = 2.0;

    /// <summary>Standard deviation of Gaussian noise added to the utility before it is turned into stars.</summary>
    public double Noise { get; init; } = 0.5;

    /// <summary>Half stars 0.5..5 as in ml-latest; false gives whole stars 1..5, which every format can hold.</summary>
    public bool HalfStars { get; init; }

    public int Seed { get; init; } = 42;
}

/// <summary>
/// The true model behind a synthetic dataset, indexed like it (dense user and item indices). Items that nobody
/// happened to watch are not in the catalogue and so not here either.
/// </summary>
public sealed class SyntheticModel
{
    internal SyntheticModel(float[][] userFactors, float[][] itemFactors, float[] itemBias, float affinity)
    {
        UserFactors = userFactors;
        ItemFactors = itemFactors;
        ItemBias = itemBias;
        Affinity = affinity;
    }

    /// <summary>[user][dim].</summary>
    public float[][] UserFactors { get; }

    /// <summary>[item][dim].</summary>
    public float[][] ItemFactors { get; }

    public float[] ItemBias { get; }
    public float Affinity { get; }

    /// <summary>utility = affinity · (u·v) + b; watching is Plackett-Luce in exp(utility).</summary>
    public float Utility(int user, int item)
    {
        float dot = 0;
        for (int d = 0; d < UserFactors[user].Length; d++)
        {
            dot += UserFactors[user][d] * ItemFactors[item][d];
        }
        return Affinity * dot + ItemBias[item];
    }

    /// <summary>The oracle ranking: every catalogue item by true utility for <paramref name="user"/>, best first.</summary>
    public int[] Ranking(int user)
    {
        int[] items = Enumerable.Range(0, ItemFactors.Length).ToArray();
        float[] keys = items.Select(i => -Utility(user, i)).ToArray();
        Array.Sort(keys, items);
        return items;
    }
}

public sealed record SyntheticData(RatingDataset Dataset, SyntheticModel Model);

/// <summary>
/// MovieLens-shaped data drawn from a known latent-factor Plackett-Luce model, so tests can check that training
/// recovers it.
/// <list type="bullet">
/// <item>Factors: each component of user and item vectors is N(0, 1/sqrt(dim)) (variance), so u·v has unit
/// variance; item bias b ~ N(0, PopularitySkew²); utility = Affinity · u·v + b.</item>
/// <item>Watched set: n_u ~ U[Min, Max] items drawn by Plackett-Luce without replacement, i.e. the top n_u of
/// utility + Gumbel(0, 1) noise.</item>
/// <item>Stars: the watched items are ranked by utility + N(0, Noise²); the quantile of each within the user's set is
/// mapped to stars so the shares follow ml-100k (6% 1, 11% 2, 27% 3, 34% 4, 21% 5), half stars splitting each band.</item>
/// <item>Time: each user starts at a uniform moment in the 150 days after 881250949 (ml-100k's first rating) and
/// rates at strictly increasing times with exponential gaps (mean 6 hours). The order of watching is a uniform
/// shuffle of the Plackett-Luce draw, so a user's latest item is a random member of the set, not the least liked.</item>
/// <item>Ids start at 1 as in MovieLens; ratings are listed user by user, oldest first.</item>
/// </list>
/// Titles mix plain ASCII, Latin-1 letters ("Café", "Niño"), commas and quotes so writers and loaders are exercised.
/// </summary>
public static class SyntheticMovieLens
{
    private const long WindowStart = 881250949;
    private const double StartSpreadSeconds = 150 * 86400;
    private const double MeanGapSeconds = 6 * 3600;

    /// <summary>Cumulative shares of 1..5 stars in ml-100k.</summary>
    private static readonly double[] StarQuantiles = [0.0611, 0.1748, 0.4463, 0.7880, 1.0];

    public static RatingDataset Generate(SyntheticOptions options) => GenerateWithModel(options).Dataset;

    public static SyntheticData GenerateWithModel(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Users < 1 || options.Items < 1 || options.Dim < 1
            || options.MinRatingsPerUser < 1 || options.MinRatingsPerUser > options.MaxRatingsPerUser
            || options.MaxRatingsPerUser > options.Items)
        {
            throw new ArgumentException("Need Users, Items, Dim >= 1 and 1 <= MinRatingsPerUser <= MaxRatingsPerUser <= Items.", nameof(options));
        }
        var rng = new Random(options.Seed);
        double factorStd = Math.Pow(options.Dim, -0.25);
        float[][] itemFactors = Matrix(rng, options.Items, options.Dim, factorStd);
        float[] itemBias = Enumerable.Range(0, options.Items).Select(_ => (float)(Gaussian(rng) * options.PopularitySkew)).ToArray();
        float[][] userFactors = Matrix(rng, options.Users, options.Dim, factorStd);
        var all = new SyntheticModel(userFactors, itemFactors, itemBias, (float)options.Affinity);

        // Ratings with generator indices (user u has raw id u + 1, item i raw id i + 1); renumbered below.
        var ratings = new List<Rating>(options.Users * (options.MinRatingsPerUser + options.MaxRatingsPerUser) / 2);
        float[] keys = new float[options.Items];
        int[] order = new int[options.Items];
        for (int u = 0; u < options.Users; u++)
        {
            int n = rng.Next(options.MinRatingsPerUser, options.MaxRatingsPerUser + 1);
            for (int i = 0; i < options.Items; i++)
            {
                keys[i] = -(all.Utility(u, i) + Gumbel(rng)); // ascending sort puts the Plackett-Luce draw first
                order[i] = i;
            }
            Array.Sort(keys, order);
            int[] watched = order[..n];

            double[] noisy = watched.Select(i => all.Utility(u, i) + options.Noise * Gaussian(rng)).ToArray();
            int[] byNoisy = Enumerable.Range(0, n).ToArray();
            Array.Sort(noisy.ToArray(), byNoisy);
            float[] stars = new float[n];
            for (int rank = 0; rank < n; rank++)
            {
                stars[byNoisy[rank]] = Stars((rank + 0.5) / n, options.HalfStars);
            }

            int[] chronological = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(chronological);
            long time = WindowStart + (long)(rng.NextDouble() * StartSpreadSeconds);
            foreach (int k in chronological)
            {
                time += 1 + (long)(-Math.Log(1 - rng.NextDouble()) * MeanGapSeconds);
                ratings.Add(new Rating(u, watched[k], stars[k], time));
            }
        }

        var movieGenres = new string[options.Items][]; // drawn for every item, watched or not, to keep the stream simple
        for (int i = 0; i < options.Items; i++)
        {
            movieGenres[i] = DrawGenres(rng, i + 1);
        }

        var users = new IdMap(Enumerable.Range(1, options.Users).Select(u => (long)u));
        var items = new IdMap(ratings.Select(r => (long)r.Item + 1));
        Rating[] dense = ratings.Select(r => r with { Item = items.ToIndex(r.Item + 1) }).ToArray();
        int[] source = items.Integers!.Select(raw => (int)raw - 1).ToArray();
        Item[] movies = source.Select(i => new Item(ExternalId.Of(i + 1), Title(i + 1), movieGenres[i])).ToArray();
        var model = new SyntheticModel(userFactors, source.Select(i => itemFactors[i]).ToArray(),
            source.Select(i => itemBias[i]).ToArray(), (float)options.Affinity);
        string fingerprint = RatingFingerprint.Of(dense, users, items);
        return new SyntheticData(new RatingDataset("synthetic", MovieLensFormat.Csv, users, items, dense, movies, fingerprint), model);
    }

    /// <summary>
    /// Writes <paramref name="data"/> (synthetic or loaded) in the file layout of a real release of that format:
    /// u.data, u.item (Latin-1, 24 fields), u.genre, u.user, u.info; ratings.dat, movies.dat, users.dat (Latin-1);
    /// ratings.csv, movies.csv (UTF-8, headers, RFC-4180 quoting). Demographics are made up from the user id.
    /// Throws <see cref="ArgumentException"/> for what the format cannot hold, e.g. half stars in u.data.
    /// </summary>
    public static void Write(RatingDataset data, string folder, MovieLensFormat format) =>
        MovieLensWriter.Write(data, folder, format);

    /// <summary>Maps a quantile in (0, 1) to stars, continuous within each band so half stars split it.</summary>
    internal static float Stars(double quantile, bool halfStars)
    {
        int band = 0;
        while (quantile >= StarQuantiles[band] && band < StarQuantiles.Length - 1)
        {
            band++;
        }
        if (!halfStars)
        {
            return band + 1;
        }
        double low = band == 0 ? 0 : StarQuantiles[band - 1];
        double position = band + (quantile - low) / (StarQuantiles[band] - low); // in [0, 5)
        return (float)(0.5 * (Math.Floor(2 * position) + 1));
    }

    internal static string Title(int id)
    {
        int year = 1930 + id * 37 % 69;
        return (id % 10) switch
        {
            3 => $"Café Synthétique {id} ({year})",
            5 => $"Synthetic Movie {id}, The ({year})",
            7 => $"Niño {id}, El ({year})",
            9 when id % 20 == 9 => $"\"Quoted\" Synthetic Movie {id} ({year})",
            _ => $"Synthetic Movie {id} ({year})",
        };
    }

    /// <summary>One to three ml-100k genres in column order; every 50th movie has none.</summary>
    internal static string[] DrawGenres(Random rng, int id)
    {
        int count = rng.Next(1, 4);
        var picked = new SortedSet<int>();
        while (picked.Count < count)
        {
            picked.Add(rng.Next(1, MovieLensLayout.Ml100kGenres.Length)); // 0 is "unknown"
        }
        return id % 50 == 0 ? [] : picked.Select(g => MovieLensLayout.Ml100kGenres[g]).ToArray();
    }

    private static float[][] Matrix(Random rng, int rows, int cols, double std) =>
        Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, cols).Select(_ => (float)(Gaussian(rng) * std)).ToArray()).ToArray();

    internal static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    internal static float Gumbel(Random rng) => (float)-Math.Log(-Math.Log(Math.Max(rng.NextDouble(), double.Epsilon)));
}
