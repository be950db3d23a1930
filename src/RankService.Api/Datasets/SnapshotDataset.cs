using System.Globalization;
using RankService.Ranking.Data;

namespace RankService.Api.Datasets;

/// <summary>
/// The one adapter from a live data set's snapshot to what training reads: each positive pair becomes an interaction
/// (its label as the value, its latest feedback time as the timestamp) in first-insertion order, so a MovieLens
/// ratings.csv imported as it is gives the same ratings, id maps and fingerprint as the same file read as a file data
/// set. Items carry their metadata; negative pairs become the users' never-recommend items.
/// </summary>
internal static class SnapshotDataset
{
    public static RatingDataset ToRatingDataset(LiveSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Pairs.Length == 0)
        {
            throw new MovieLensDataException(
                $"Live data set '{snapshot.Name}' has no positive feedback at version {snapshot.Version}: nothing to train on. POST /datasets/{snapshot.Name}/feedback adds some.");
        }
        var interactions = new Interaction[snapshot.Pairs.Length];
        for (int i = 0; i < interactions.Length; i++)
        {
            SnapshotPair p = snapshot.Pairs[i];
            interactions[i] = new Interaction(snapshot.Users[p.User], snapshot.Items[p.Item].ItemId, p.Label, p.Timestamp ?? 0);
        }
        IEnumerable<Item> records = snapshot.Items.Select(i => new Item(i.ItemId, i.Title ?? "", i.Categories, i.Hidden, i.Timestamp, StoredText.Labels(i.Labels)));
        IEnumerable<(string, string)> never = snapshot.NeverRecommend.Select(p => (snapshot.Users[p.User], snapshot.Items[p.Item].ItemId));
        return RatingDataset.FromInteractions(snapshot.Name, interactions, records, never, snapshot.Version.ToString(CultureInfo.InvariantCulture));
    }
}
