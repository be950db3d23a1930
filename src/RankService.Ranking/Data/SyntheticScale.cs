using System.Globalization;
using System.Text;

namespace RankService.Ranking.Data;

/// <summary>Size and shape of a large synthetic release written by <see cref="SyntheticScale"/>.</summary>
public sealed record SyntheticScaleOptions
{
    /// <summary>ml-25m: 162,541 users, 59,047 rated movies, 25,000,095 ratings.</summary>
    public static readonly SyntheticScaleOptions Ml25m = new() { Users = 162_541, Items = 59_047, Ratings = 25_000_095 };

    /// <summary>
    /// A shop catalogue of a million items: 200,000 users, 20,000,000 interactions, popularity more long-tailed than
    /// MovieLens (σ 2.0 of log popularity instead of 1.5: a few items take a large share, most are seen a handful of
    /// times). Every item is still rated at least once (the 5 forced items per user), as the generator guarantees.
    /// </summary>
    public static readonly SyntheticScaleOptions Shop1m = new() { Users = 200_000, Items = 1_000_000, Ratings = 20_000_000, PopularitySkew = 2.0 };

    /// <summary>The named shapes: <c>ml-25m</c> and <c>shop-1m</c>.</summary>
    public static SyntheticScaleOptions Named(string shape) => shape switch
    {
        "ml-25m" => Ml25m,
        "shop-1m" => Shop1m,
        _ => throw new ArgumentException($"Unknown shape '{shape}'; known: ml-25m, shop-1m.", nameof(shape)),
    };

    public int Users { get; init; } = 1_000;
    public int Items { get; init; } = 500;

    /// <summary>Exact number of ratings written; at least MinRatingsPerUser × Users and at most Users × Items.</summary>
    public long Ratings { get; init; } = 50_000;

    /// <summary>As in the MovieLens releases, every user has rated at least this many movies.</summary>
    public int MinRatingsPerUser { get; init; } = 20;

    /// <summary>Spread (σ of log) of the per-user counts: MovieLens counts are heavy-tailed (ml-25m median 71, mean 154).</summary>
    public double CountSpread { get; init; } = 1.2;

    public int Dim { get; init; } = 8;
    public double PopularitySkew { get; init; } = 1.5;
    public double Affinity { get; init; } = 2.0;
    public double Noise { get; init; } = 0.5;
    public int Seed { get; init; } = 25;
}

/// <summary>
/// Writes a MovieLens CSV release (ratings.csv, movies.csv) of any size, streaming user by user in constant memory
/// beyond the item factors and one count per user, so an ml-25m-shaped set takes seconds, not the minutes and
/// gigabytes that materialising it through <see cref="SyntheticMovieLens.Generate"/> would.
/// <list type="bullet">
/// <item>Counts: n_u = MinRatingsPerUser + a log-normal draw, scaled so Σ n_u equals <c>Ratings</c> exactly
/// (capped at the catalogue size).</item>
/// <item>Watched set: the latent model of <see cref="SyntheticMovieLens"/> (utility = Affinity · u·v + b_i), but
/// Plackett-Luce is approximated for speed: about 3 n_u candidates are drawn by popularity (∝ exp b_i, alias table),
/// and the n_u distinct ones with the highest Affinity · u·v + Gumbel noise are kept. User u always watches the
/// items u, u + Users, u + 2 Users, ..., so every movie is rated at least once and the catalogue has exactly
/// <c>Items</c> movies (hence MinRatingsPerUser × Users ≥ Items).</item>
/// <item>Stars (half stars), times and titles as in <see cref="SyntheticMovieLens"/>; user and movie ids 1..N.</item>
/// </list>
/// </summary>
public static class SyntheticScale
{
    private const long WindowStart = 1_000_000_000;

    public static void Write(SyntheticScaleOptions options, string folder)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Users < 1 || options.Items < 1 || options.Dim < 1 || options.MinRatingsPerUser < 1
            || options.MinRatingsPerUser > options.Items || (long)options.MinRatingsPerUser * options.Users < options.Items
            || options.Ratings < (long)options.MinRatingsPerUser * options.Users
            || options.Ratings > (long)options.Users * options.Items)
        {
            throw new ArgumentException("Need Users, Items, Dim >= 1, MinRatingsPerUser <= Items <= MinRatingsPerUser × Users <= Ratings <= Users × Items.", nameof(options));
        }
        Directory.CreateDirectory(folder);
        var rng = new Random(options.Seed);
        int dim = options.Dim;
        double factorStd = Math.Pow(dim, -0.25);
        float[] itemFactors = Gaussians(rng, options.Items * dim, factorStd);
        double[] popularity = new double[options.Items];
        for (int i = 0; i < popularity.Length; i++)
        {
            popularity[i] = Math.Exp(SyntheticMovieLens.Gaussian(rng) * options.PopularitySkew);
        }
        var alias = new AliasTable(popularity);
        int[] counts = Counts(rng, options);

        WriteMovies(rng, options.Items, Path.Combine(folder, "movies.csv"));

        using var stream = new FileStream(Path.Combine(folder, "ratings.csv"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        writer.WriteLine(MovieLensLayout.CsvRatingsHeader);
        var user = new float[dim];
        var stamp = new int[options.Items];
        var candidates = new List<int>();
        var keys = new List<float>();
        Span<char> line = stackalloc char[64];
        for (int u = 0; u < options.Users; u++)
        {
            for (int d = 0; d < dim; d++)
            {
                user[d] = (float)(SyntheticMovieLens.Gaussian(rng) * factorStd);
            }
            int n = counts[u];
            int mark = u + 1;
            candidates.Clear();
            keys.Clear();
            for (int forced = u; forced < options.Items; forced += options.Users)
            {
                stamp[forced] = mark;
                candidates.Add(forced);
                keys.Add(float.PositiveInfinity); // always kept: every movie gets rated
            }
            // Candidates by popularity until there are ~3n distinct ones (all items when n is close to the catalogue).
            int want = (int)Math.Min(options.Items, 3L * n);
            for (int draws = 0; candidates.Count < want; draws++)
            {
                int item = draws < 20 * want ? alias.Next(rng) : rng.Next(options.Items);
                if (stamp[item] != mark)
                {
                    stamp[item] = mark;
                    candidates.Add(item);
                    keys.Add(options.Affinity is 0 ? 0 : (float)(options.Affinity * Dot(user, itemFactors, item, dim)) + SyntheticMovieLens.Gumbel(rng));
                }
            }
            int[] picked = candidates.ToArray();
            float[] pickedKeys = keys.ToArray();
            Array.Sort(pickedKeys, picked); // ascending: the best are at the end
            picked = picked[^n..];

            // Stars by within-user quantile of utility + noise; times in a shuffled order.
            double[] noisy = new double[n];
            for (int i = 0; i < n; i++)
            {
                noisy[i] = (options.Affinity * Dot(user, itemFactors, picked[i], dim)) + Math.Log(popularity[picked[i]]) + (options.Noise * SyntheticMovieLens.Gaussian(rng));
            }
            int[] byNoisy = new int[n];
            for (int i = 0; i < n; i++)
            {
                byNoisy[i] = i;
            }
            Array.Sort(noisy, byNoisy);
            float[] stars = new float[n];
            for (int rank = 0; rank < n; rank++)
            {
                stars[byNoisy[rank]] = SyntheticMovieLens.Stars((rank + 0.5) / n, halfStars: true);
            }
            rng.Shuffle(byNoisy); // reused as the watching order: a uniform shuffle, as in SyntheticMovieLens
            long time = WindowStart + (long)(rng.NextDouble() * 365 * 86400);
            foreach (int k in byNoisy)
            {
                time += 1 + (long)(-Math.Log(1 - rng.NextDouble()) * 6 * 3600);
                int item = picked[k];
                float value = stars[k];
                Format(line, u + 1, item + 1, value, time, out int length);
                writer.WriteLine(line[..length]);
            }
        }
    }

    private static void Format(Span<char> line, int user, int item, float value, long time, out int length)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        int n = 0;
        user.TryFormat(line, out int w, default, c);
        n += w;
        line[n++] = ',';
        item.TryFormat(line[n..], out w, default, c);
        n += w;
        line[n++] = ',';
        value.TryFormat(line[n..], out w, "0.0", c);
        n += w;
        line[n++] = ',';
        time.TryFormat(line[n..], out w, default, c);
        length = n + w;
    }

    private static double Dot(float[] user, float[] items, int item, int dim)
    {
        double sum = 0;
        int offset = item * dim;
        for (int d = 0; d < dim; d++)
        {
            sum += user[d] * items[offset + d];
        }
        return sum;
    }

    /// <summary>Per-user counts: minimum + log-normal, scaled and then nudged by ±1 so they sum to Ratings exactly.</summary>
    private static int[] Counts(Random rng, SyntheticScaleOptions o)
    {
        double[] raw = new double[o.Users];
        double total = 0;
        for (int u = 0; u < raw.Length; u++)
        {
            raw[u] = Math.Exp(o.CountSpread * SyntheticMovieLens.Gaussian(rng));
            total += raw[u];
        }
        long extra = o.Ratings - ((long)o.MinRatingsPerUser * o.Users);
        int[] counts = new int[o.Users];
        long sum = 0;
        for (int u = 0; u < counts.Length; u++)
        {
            counts[u] = (int)Math.Min(o.Items, o.MinRatingsPerUser + Math.Floor(raw[u] / total * extra));
            sum += counts[u];
        }
        for (int u = 0; sum != o.Ratings; u = (u + 1) % counts.Length)
        {
            int step = sum < o.Ratings ? 1 : -1;
            int next = counts[u] + step;
            if (next >= o.MinRatingsPerUser && next <= o.Items)
            {
                counts[u] = next;
                sum += step;
            }
        }
        return counts;
    }

    private static void WriteMovies(Random rng, int items, string path)
    {
        using var writer = new StreamWriter(path, append: false, MovieLensLayout.StrictUtf8, 1 << 16) { NewLine = "\n" };
        writer.WriteLine(MovieLensLayout.CsvMoviesHeader);
        for (int id = 1; id <= items; id++)
        {
            string[] genres = SyntheticMovieLens.DrawGenres(rng, id);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{id},{Csv.Quote(SyntheticMovieLens.Title(id))},{Csv.Quote(genres.Length == 0 ? MovieLensLayout.NoGenres : string.Join('|', genres))}"));
        }
    }

    private static float[] Gaussians(Random rng, int count, double std)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(SyntheticMovieLens.Gaussian(rng) * std);
        }
        return values;
    }

    /// <summary>Walker's alias method: O(1) draws from a fixed discrete distribution.</summary>
    private sealed class AliasTable
    {
        private readonly double[] _probability;
        private readonly int[] _alias;

        public AliasTable(double[] weights)
        {
            int n = weights.Length;
            _probability = new double[n];
            _alias = new int[n];
            double sum = weights.Sum();
            var small = new Stack<int>();
            var large = new Stack<int>();
            double[] scaled = weights.Select(w => w * n / sum).ToArray();
            for (int i = 0; i < n; i++)
            {
                (scaled[i] < 1 ? small : large).Push(i);
            }
            while (small.Count > 0 && large.Count > 0)
            {
                int s = small.Pop(), l = large.Pop();
                _probability[s] = scaled[s];
                _alias[s] = l;
                scaled[l] -= 1 - scaled[s];
                (scaled[l] < 1 ? small : large).Push(l);
            }
            foreach (int i in small.Concat(large))
            {
                _probability[i] = 1;
            }
        }

        public int Next(Random rng)
        {
            int i = rng.Next(_probability.Length);
            return rng.NextDouble() < _probability[i] ? i : _alias[i];
        }
    }
}
