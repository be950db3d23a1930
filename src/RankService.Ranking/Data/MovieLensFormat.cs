namespace RankService.Ranking.Data;

/// <summary>The on-disk layouts of the MovieLens releases.</summary>
public enum MovieLensFormat
{
    /// <summary>ml-100k: <c>u.data</c> (tab-separated), <c>u.item</c> (<c>|</c>-separated, Latin-1), <c>u.user</c>.</summary>
    Ml100k,

    /// <summary>ml-1m (and ml-10m): <c>ratings.dat</c> and <c>movies.dat</c> with <c>::</c> separators.</summary>
    Ml1m,

    /// <summary>ml-latest-small, ml-20m, ml-25m, ml-32m: <c>ratings.csv</c> and <c>movies.csv</c> with headers.</summary>
    Csv,
}
