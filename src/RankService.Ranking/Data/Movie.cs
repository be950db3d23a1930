namespace RankService.Ranking.Data;

/// <summary>Catalogue entry: the raw MovieLens id, its title (empty when the movies file lacks it) and genres.</summary>
public sealed record Movie(long RawId, string Title, IReadOnlyList<string> Genres);
