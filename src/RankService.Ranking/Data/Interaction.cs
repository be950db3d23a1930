namespace RankService.Ranking.Data;

/// <summary>One (user, item) training label with string ids: a rating, or the summed weight of a pair's feedback.</summary>
public readonly record struct Interaction(string User, string Item, float Value, long Timestamp);
