namespace RankService.Ranking.Data;

/// <summary>One rating with dense user and item indices (see <see cref="IdMap"/>), value on the release's scale, Unix seconds.</summary>
public readonly record struct Rating(int User, int Item, float Value, long Timestamp);
