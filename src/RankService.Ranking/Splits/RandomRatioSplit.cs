using RankService.Ranking.Data;

namespace RankService.Ranking.Splits;

/// <summary>
/// RecBole's default evaluation split (<c>eval_args: split RS [0.8, 0.1, 0.1], order RO, group_by user, mode full</c>):
/// every rating is a positive interaction (label 1, the rating value is dropped); for each user in ascending id
/// order, that user's interactions (in ratings-file order) are permuted with one seeded generator and cut into train,
/// validation and test. The generator is NumPy's <c>RandomState(seed)</c> (<see cref="NumpyRandomState"/>), so the
/// split is the one a Python script doing the same makes, and figures measured there compare one to one: on ml-100k
/// with seed 2020, EASE (lambda 400) scores NDCG@10 0.3351 here as in the NumPy reference (bench/RESULTS.md).
/// </summary>
public static class RandomRatioSplit
{
    /// <summary>RecBole's default <c>seed</c>.</summary>
    public const int DefaultSeed = 2020;

    /// <summary>
    /// Splits each user's interactions: validation and test each get <c>floor(0.1 n)</c>, train the rest, with
    /// RecBole's <c>_calcu_split_ids</c> rule for small users (a part whose share <c>0 &lt; ratio * n &lt; 1</c>
    /// takes one interaction from train while train keeps more than one, test first). The same data and seed
    /// always give the same split. <paramref name="seed"/> is NumPy's: 0 to 2^31 - 1 here.
    /// </summary>
    public static UserSplit Split(RatingDataset data, int seed = DefaultSeed, double validationRatio = 0.1, double testRatio = 0.1)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        if (!(validationRatio >= 0 && testRatio >= 0 && validationRatio + testRatio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationRatio), "Ratios must be non-negative and leave some train.");
        }
        var perUser = new List<int>[data.UserCount];
        for (int u = 0; u < perUser.Length; u++)
        {
            perUser[u] = [];
        }
        foreach (Rating r in data.Ratings)
        {
            perUser[r.User].Add(r.Item);
        }
        // A user rating one item twice (possible in some releases) counts once, where it first appears: a positive
        // is a (user, item) pair.
        var seen = new HashSet<int>();
        foreach (List<int> rated in perUser)
        {
            seen.Clear();
            rated.RemoveAll(item => !seen.Add(item));
        }

        // Dense user ids follow ascending raw ids (IdMap), so this loop visits users as the reference scripts do.
        var rng = new NumpyRandomState((uint)seed);
        var train = new int[data.UserCount][];
        var labels = new float[data.UserCount][];
        var validation = new int[data.UserCount][];
        var test = new int[data.UserCount][];
        for (int u = 0; u < perUser.Length; u++)
        {
            List<int> rated = perUser[u];
            int[] items = Array.ConvertAll(rng.Permutation(rated.Count), i => rated[i]);
            (int trainCount, int validationCount, int testCount) = Counts(items.Length, validationRatio, testRatio);
            train[u] = items[..trainCount];
            labels[u] = Enumerable.Repeat(1f, trainCount).ToArray();
            validation[u] = items[trainCount..(trainCount + validationCount)];
            test[u] = items[(trainCount + validationCount)..];
            System.Diagnostics.Debug.Assert(test[u].Length == testCount);
        }
        return new UserSplit(data.ItemCount, train, labels, validation, test);
    }

    /// <summary>
    /// RecBole's <c>_calcu_split_ids</c> for ratios [1 − v − t, v, t]: <c>cnt = [int(r * n)]</c>, train takes the
    /// rest, then from the last part backwards a part with <c>0 &lt; r * n &lt; 1</c> gets one from train while train has more than one.
    /// </summary>
    public static (int Train, int Validation, int Test) Counts(int n, double validationRatio = 0.1, double testRatio = 0.1)
    {
        int validation = (int)(validationRatio * n);
        int test = (int)(testRatio * n);
        int train = n - validation - test;
        if (train > 1 && testRatio * n is > 0 and < 1)
        {
            test++;
            train--;
        }
        if (train > 1 && validationRatio * n is > 0 and < 1)
        {
            validation++;
            train--;
        }
        return (train, validation, test);
    }
}
