using RankService.Ranking.Data;

namespace RankService.Ranking.Tests;

internal static class TestData
{
    /// <summary>A data set from (raw user, raw item, rating, timestamp) tuples.</summary>
    public static RatingDataset FromTuples(params (long User, long Item, float Rating, long Time)[] rows)
    {
        var users = new IdMap(rows.Select(r => r.User));
        var items = new IdMap(rows.Select(r => r.Item));
        Rating[] ratings = rows.Select(r => new Rating(users.ToIndex(r.User), items.ToIndex(r.Item), r.Rating, r.Time)).ToArray();
        Item[] movies = items.Ids.Select(id => new Item(id, $"Movie {id}", [])).ToArray();
        return new RatingDataset("test", MovieLensFormat.Csv, users, items, ratings, movies, "fingerprint");
    }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "rankservice-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
