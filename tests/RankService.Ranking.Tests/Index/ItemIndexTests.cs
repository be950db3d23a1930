using RankService.Ranking.Checkpoints;
using RankService.Ranking.Index;
using RankService.Ranking.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Index;

public class ItemIndexTests
{
    /// <summary>A dot model with random (non-zero) item biases, from its own generator.</summary>
    internal static TwoTowerModel DotModel(int users, int items, ulong seed, int dim = 8)
    {
        using var init = new Generator(seed, CPU);
        var model = new TwoTowerModel(users, items, new ModelOptions { Head = ScoringHead.Dot, EmbeddingDim = dim, ItemBias = true }, init: init);
        using (no_grad())
        {
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5, generator: init);
                }
            }
        }
        model.eval();
        return model;
    }

    private static int[] Exact(PrecomputedScorer scorer, int user, int k, ReadOnlySpan<int> excluded)
    {
        var scores = new float[scorer.ItemCount];
        var top = new int[k];
        scorer.ScoreUser(user, scores);
        int count = TopK.Select(scores, excluded, k, top);
        return top[..count];
    }

    [Fact]
    public void Index_path_returns_the_exact_rankings_items_in_order_on_a_catalogue_it_searches_exhaustively()
    {
        using TwoTowerModel model = DotModel(users: 12, items: 40, seed: 5);
        var scorer = new PrecomputedScorer(model);
        // 40 items, at least 64 candidates asked: every search covers the whole catalogue.
        using ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings { BuildThreads = 2 });
        Assert.Equal(40, index.ItemCount);
        Assert.Equal(scorer.Width + 1, index.Dimensions);
        var top = new int[10];
        var scores = new float[scorer.ItemCount];
        var exactScores = new float[scorer.ItemCount];
        for (int user = 0; user < 12; user++)
        {
            int count = index.TopK(scorer, user, 10, allowed: null, top, scores);
            Assert.Equal(10, count);
            Assert.Equal(Exact(scorer, user, 10, []), top);
            scorer.ScoreUser(user, exactScores);
            foreach (int item in top)
            {
                Assert.Equal(exactScores[item], scores[item], 1e-5);
            }
        }
    }

    [Fact]
    public void Bias_folded_in_as_an_extra_dimension_makes_the_index_rank_what_the_model_scores()
    {
        using TwoTowerModel model = DotModel(users: 3, items: 30, seed: 6);
        var scorer = new PrecomputedScorer(model);
        var scores = new float[30];
        var vector = new float[scorer.Width + 1];
        scorer.ScoreUser(1, scores);
        ReadOnlySpan<float> user = scorer.UserVector(1);
        for (int item = 0; item < 30; item++)
        {
            scorer.ItemVectorWithBias(item, vector);
            float dot = vector[scorer.Width];
            for (int k = 0; k < scorer.Width; k++)
            {
                dot += user[k] * vector[k];
            }
            Assert.Equal(scores[item], dot, 1e-5);
        }
    }

    [Fact]
    public void A_filter_that_removes_most_items_still_gives_k_qualifying_items()
    {
        using TwoTowerModel model = DotModel(users: 6, items: 3000, seed: 7);
        var scorer = new PrecomputedScorer(model);
        // Small first search, so only growing the candidate count can find enough allowed items.
        var settings = new ItemIndexSettings { MinCandidates = 16, MaxCandidates = 3000, BuildThreads = 2 };
        using ItemIndex index = ItemIndex.Build(scorer, settings);
        var top = new int[10];
        var scores = new float[scorer.ItemCount];
        for (int user = 0; user < 6; user++)
        {
            // 1 item in 50 allowed: 60 qualify.
            Func<int, bool> allowed = item => item % 50 == user;
            int count = index.TopK(scorer, user, 10, allowed, top, scores);
            if (count < 0)
            {
                count = FilteredTopK.Select(scorer, user, 10, allowed, top, scores);
            }
            Assert.Equal(10, count);
            Assert.All(top, item => Assert.True(allowed(item)));
            Assert.Equal(10, top.Distinct().Count());
        }
    }

    [Fact]
    public void An_exclusion_list_or_a_bitset_filters_exactly_as_the_equivalent_predicate()
    {
        using TwoTowerModel model = DotModel(users: 5, items: 1500, seed: 11);
        var scorer = new PrecomputedScorer(model);
        using ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings { MinCandidates = 16, MaxCandidates = 1500, BuildThreads = 2 });
        var scores = new float[scorer.ItemCount];
        for (int user = 0; user < 5; user++)
        {
            // Excluded: the user's 40 best items and every 7th one (sorted, as seen lists are), so the first search must grow.
            int[] excluded = [.. Exact(scorer, user, scorer.ItemCount, []).Take(40).Concat(Enumerable.Range(0, scorer.ItemCount).Where(i => i % 7 == user)).Distinct().Order()];
            ulong[] bits = new ulong[(scorer.ItemCount + 63) / 64];
            for (int item = 0; item < scorer.ItemCount; item++)
            {
                if (Array.BinarySearch(excluded, item) < 0)
                {
                    bits[item >> 6] |= 1UL << item;
                }
            }
            int[] byPredicate = new int[10], byList = new int[10], byBits = new int[10];
            int expected = index.TopK(scorer, user, 10, item => Array.BinarySearch(excluded, item) < 0, byPredicate, scores);
            Assert.Equal(10, expected);
            Assert.Equal(expected, index.TopKExcluding(scorer, user, 10, excluded, byList, scores));
            Assert.Equal(expected, index.TopKWithin(scorer, user, 10, bits, byBits, scores));
            Assert.Equal(byPredicate, byList);
            Assert.Equal(byPredicate, byBits);
            Assert.DoesNotContain(byList, item => Array.BinarySearch(excluded, item) >= 0);
        }
        // An empty exclusion list excludes nothing.
        int[] all = new int[10], none = new int[10];
        Assert.Equal(index.TopK(scorer, 0, 10, null, all, scores), index.TopKExcluding(scorer, 0, 10, [], none, scores));
        Assert.Equal(all, none);
    }

    [Fact]
    public void When_the_bound_is_reached_without_k_qualifying_items_the_index_hands_over_to_the_exact_pass()
    {
        using TwoTowerModel model = DotModel(users: 2, items: 2000, seed: 8);
        var scorer = new PrecomputedScorer(model);
        using ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings { MinCandidates = 16, MaxCandidates = 32, BuildThreads = 2 });
        var top = new int[5];
        var scores = new float[scorer.ItemCount];
        // Only the five items the user likes least qualify: far outside any 32 candidates.
        int[] worst = [.. Exact(scorer, 0, 2000, []).TakeLast(5)];
        Func<int, bool> allowed = item => Array.IndexOf(worst, item) >= 0;
        Assert.Equal(-1, index.TopK(scorer, 0, 5, allowed, top, scores));
        Assert.Equal(5, FilteredTopK.Select(scorer, 0, 5, allowed, top, scores));
        Assert.Equal(worst, top); // best first among them
    }

    [Fact]
    public void Fewer_than_k_qualifying_items_in_a_catalogue_searched_whole_give_all_of_them()
    {
        using TwoTowerModel model = DotModel(users: 2, items: 30, seed: 9);
        var scorer = new PrecomputedScorer(model);
        using ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings());
        var top = new int[10];
        var scores = new float[30];
        int count = index.TopK(scorer, 1, 10, item => item < 3, top, scores);
        Assert.Equal(3, count);
        Assert.Equal(new[] { 0, 1, 2 }, top[..3].Order());
    }

    [Fact]
    public void Recall_against_the_exact_ranking_is_one_where_the_index_is_exhaustive_and_excludes_seen_items()
    {
        using TwoTowerModel model = DotModel(users: 20, items: 50, seed: 10);
        var scorer = new PrecomputedScorer(model);
        using ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings());
        var seen = new SeenItems([.. Enumerable.Range(0, 20).Select(u => Enumerable.Range(0, 50).Where(i => (i + u) % 3 == 0).ToArray())]);
        IndexRecall recall = IndexRecall.Measure(scorer, index, seen, users: 1000);
        Assert.Equal(20, recall.Users); // fewer users than asked: all of them
        Assert.Equal(1.0, recall.RecallAt10);
        Assert.Equal(0, recall.Fallbacks);
    }

    [Fact]
    public void A_build_below_its_target_recall_widens_the_search_until_the_target_is_met()
    {
        using TwoTowerModel model = DotModel(users: 200, items: 2000, seed: 13, dim: 16);
        var scorer = new PrecomputedScorer(model);
        // A sparse graph searched narrowly misses some of the exact top 10 (one build thread: the same graph every run).
        var settings = new ItemIndexSettings { Connectivity = 4, ExpansionAdd = 8, ExpansionSearch = 1, MinCandidates = 10, TargetRecall = 1.0, MaxExpansionSearch = 512, BuildThreads = 1 };
        using ItemIndex index = ItemIndex.Build(scorer, settings);
        ExactTops exact = ExactTops.Compute(scorer, seen: null, users: 200);
        IndexRecall narrow = IndexRecall.Measure(index, exact);
        Assert.InRange(narrow.RecallAt10, 0, 0.999);

        IndexRecall met = ItemIndexFile.MeetTargetRecall(index, exact, settings);
        int chosen = index.Settings.ExpansionSearch;
        Assert.True(met.RecallAt10 >= settings.TargetRecall || chosen == settings.MaxExpansionSearch, $"stopped at {chosen} with recall {met.RecallAt10}");
        Assert.True(met.RecallAt10 > narrow.RecallAt10, $"recall {narrow.RecallAt10} at expansion 1, {met.RecallAt10} at {chosen}");
        Assert.InRange(chosen, 2, settings.MaxExpansionSearch);
        Assert.Equal(0, chosen & (chosen - 1)); // doubled from 1
        Assert.Equal(met, IndexRecall.Measure(index, exact) with { Seconds = met.Seconds }); // the index keeps the expansion it reported
    }

    [Fact]
    public void A_target_recall_of_zero_keeps_the_configured_search_expansion()
    {
        using TwoTowerModel model = DotModel(users: 20, items: 300, seed: 14);
        var scorer = new PrecomputedScorer(model);
        var settings = new ItemIndexSettings { ExpansionSearch = 3, TargetRecall = 0 };
        using ItemIndex index = ItemIndex.Build(scorer, settings);
        ItemIndexFile.MeetTargetRecall(index, ExactTops.Compute(scorer, seen: null), settings);
        Assert.Equal(3, index.Settings.ExpansionSearch);
    }

    [Fact]
    public void Automatic_settings_take_the_cheaper_graph_above_the_large_catalogue_size_and_explicit_ones_are_kept()
    {
        var automatic = new ItemIndexSettings { LargeCatalogueItems = 100 };
        Assert.Equal((32, 128), (automatic.ForCatalogue(100).Connectivity, automatic.ForCatalogue(100).ExpansionAdd));
        Assert.Equal((16, 32), (automatic.ForCatalogue(101).Connectivity, automatic.ForCatalogue(101).ExpansionAdd));
        var explicitOnes = new ItemIndexSettings { Connectivity = 8, ExpansionAdd = 40, LargeCatalogueItems = 100 };
        Assert.Equal((8, 40), (explicitOnes.ForCatalogue(5_000).Connectivity, explicitOnes.ForCatalogue(5_000).ExpansionAdd));

        // A built index holds (and its manifest saves) the settings resolved for its own catalogue.
        using TwoTowerModel model = DotModel(users: 4, items: 150, seed: 15);
        using ItemIndex index = ItemIndex.Build(new PrecomputedScorer(model), automatic);
        Assert.Equal((16, 32), (index.Settings.Connectivity, index.Settings.ExpansionAdd));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ItemIndexSettings { Connectivity = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ItemIndexSettings { ExpansionAdd = -1 }.Validate());
    }

    [Fact]
    public void A_disposed_index_answers_that_it_cannot_rank_so_the_caller_ranks_exactly()
    {
        using TwoTowerModel model = DotModel(users: 2, items: 30, seed: 11);
        var scorer = new PrecomputedScorer(model);
        ItemIndex index = ItemIndex.Build(scorer, new ItemIndexSettings());
        index.Dispose();
        index.Dispose();
        Assert.Equal(-1, index.TopK(scorer, 0, 5, null, new int[5], new float[30]));
    }

    [Fact]
    public void Concat_mlp_models_are_not_indexed()
    {
        using var init = new Generator(12, CPU);
        using var model = new TwoTowerModel(3, 20, new ModelOptions { Head = ScoringHead.ConcatMlp, EmbeddingDim = 8, HiddenSizes = [8] }, init: init);
        var scorer = new PrecomputedScorer(model);
        Assert.False(scorer.IsDotProduct);
        Assert.Throws<ArgumentException>(() => ItemIndex.Build(scorer, new ItemIndexSettings()));
    }
}
