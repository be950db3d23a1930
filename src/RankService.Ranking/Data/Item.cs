namespace RankService.Ranking.Data;

/// <summary>
/// One catalogue entry. MovieLens genres are its categories and ml-100k's release date its timestamp.
/// </summary>
/// <param name="Id">The item id as the data set spells it (a MovieLens id's decimal string).</param>
/// <param name="Title">Empty when the data set has none.</param>
/// <param name="Categories">Genres for MovieLens; any strings for live data sets.</param>
/// <param name="Hidden">Never recommended (still trained on and scored).</param>
/// <param name="Timestamp">Published, Unix seconds; null when unknown.</param>
/// <param name="Labels">Free JSON object text, stored and returned, not used by training; null when none.</param>
public sealed record Item(string Id, string Title, IReadOnlyList<string> Categories, bool Hidden = false,
    long? Timestamp = null, string? Labels = null)
{
    /// <summary>An item the data set names but says nothing about.</summary>
    public static Item Bare(string id) => new(id, "", []);
}
