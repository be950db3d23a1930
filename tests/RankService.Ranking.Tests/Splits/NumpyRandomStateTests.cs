using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Splits;

/// <summary>Expected values printed by NumPy 1.24 (<c>numpy.random.RandomState</c>), the generator this one copies.</summary>
public class NumpyRandomStateTests
{
    [Fact]
    public void Raw_outputs_match_mt19937_and_numpy()
    {
        // 3499211612 is MT19937's first output for its default seed 5489; 4123659995 its 10,000th (C++ std::mt19937).
        var canonical = new NumpyRandomState(5489);
        Assert.Equal(3499211612u, canonical.NextUInt32());
        for (int i = 2; i < 10_000; i++)
        {
            canonical.NextUInt32();
        }
        Assert.Equal(4123659995u, canonical.NextUInt32());

        // numpy.random.RandomState(2020).randint(0, 2**32, size=5, dtype=np.uint64)
        var rng = new NumpyRandomState(2020);
        Assert.Equal([4236026720u, 639299976u, 3751189827u, 2669525622u, 2189340355u], Enumerable.Range(0, 5).Select(_ => rng.NextUInt32()));
    }

    [Fact]
    public void Permutations_match_numpy_random_state_permutation()
    {
        Assert.Equal([2, 4, 9, 1, 5, 7, 6, 3, 8, 0], new NumpyRandomState(2020).Permutation(10));
        Assert.Equal([18, 1, 19, 8, 10, 17, 6, 13, 4, 2, 5, 14, 9, 7, 16, 11, 3, 0, 15, 12], new NumpyRandomState(0).Permutation(20));

        // One generator drawing several permutations in a row, as the split does user after user.
        var rng = new NumpyRandomState(2020);
        Assert.Equal([5, 4, 1, 2, 3, 6, 0], rng.Permutation(7));
        Assert.Equal([0], rng.Permutation(1));
        Assert.Empty(rng.Permutation(0));
        Assert.Equal([5, 11, 6, 4, 3, 1, 2, 10, 9, 0, 8, 7], rng.Permutation(12));
    }

    [Fact]
    public void Interval_stays_within_its_bound()
    {
        var rng = new NumpyRandomState(3);
        Assert.Equal(0u, rng.Interval(0));
        Assert.All(Enumerable.Range(0, 2000).Select(i => (Max: (uint)(i % 37), Value: rng.Interval((uint)(i % 37)))), d => Assert.InRange(d.Value, 0u, d.Max));
    }
}
