using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>
    /// Pairwise logistic loss (RankNet), the two-item case of Plackett-Luce: for every pair with y_i &gt; y_j,
    /// <code>
    ///   loss_pair = softplus(-(s_i - s_j)) = log(1 + exp(s_j - s_i)) = -log P_PL(i before j)
    /// </code>
    /// averaged over the valid pairs of a list, then over lists that have at least one such pair.
    /// With <see cref="PairsPerList"/> = null every pair is used ([lists, n, n], fine for short lists); otherwise
    /// that many position pairs are drawn uniformly per list and the ones with unequal labels are kept, oriented
    /// so the higher label comes first. Ties (equal labels) never form a pair.
    /// </summary>
    public sealed class PairwiseLogistic : IRankingLoss
    {
        public const string RegistryName = "pairwise-logistic";

        public PairwiseLogistic(int? pairsPerList = 1024) => PairsPerList = pairsPerList;

        public int? PairsPerList { get; }

        public string Name => RegistryName;

        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            (Tensor diff, Tensor valid) = PairsPerList is int pairs && pairs < scores.shape[1] * scores.shape[1]
                ? SampledPairs(scores, labels, mask, pairs, generator)
                : AllPairs(scores, labels, mask);
            Tensor perPair = Softplus(diff.neg()) * valid;
            Tensor loss = MeanOverListsWithPairs(perPair, valid);
            return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>
        /// Every pair: diff[b, i, j] = s_i - s_j, valid where both are real items and y_i &gt; y_j. Flattened to
        /// [lists, n*n].
        /// </summary>
        internal static (Tensor Diff, Tensor Valid) AllPairs(Tensor scores, Tensor labels, Tensor mask)
        {
            long lists = scores.shape[0];
            Tensor diff = (scores.unsqueeze(2) - scores.unsqueeze(1)).reshape(lists, -1);
            Tensor both = mask.unsqueeze(2).logical_and(mask.unsqueeze(1));
            Tensor valid = labels.unsqueeze(2).gt(labels.unsqueeze(1)).logical_and(both).reshape(lists, -1).to_type(scores.dtype);
            return (diff, valid);
        }

        /// <summary>
        /// <paramref name="pairs"/> uniform position pairs per list among its real items, oriented higher label first;
        /// pairs of equal labels are invalid. Shapes [lists, pairs].
        /// </summary>
        internal static (Tensor Diff, Tensor Valid) SampledPairs(Tensor scores, Tensor labels, Tensor mask, int pairs, Generator? generator)
        {
            long lists = scores.shape[0];
            // Real items first so a uniform index below each list's length picks a real item.
            (Tensor _, Tensor realFirst) = mask.to_type(ScalarType.Int32).sort(1, descending: true, stable: true);
            Tensor s = scores.gather(1, realFirst);
            Tensor y = labels.gather(1, realFirst);
            Tensor length = mask.sum(1, keepdim: true, type: ScalarType.Float32);
            Tensor i = (rand(new long[] { lists, pairs }, device: scores.device, generator: generator) * length).floor().to_type(ScalarType.Int64);
            Tensor j = (rand(new long[] { lists, pairs }, device: scores.device, generator: generator) * length).floor().to_type(ScalarType.Int64);
            // rand() lies in [0, 1), so floor(u * length) < length; an empty list gives i = j = 0: an invalid pair.
            Tensor yi = y.gather(1, i);
            Tensor yj = y.gather(1, j);
            Tensor sign = (yi - yj).sign().to_type(scores.dtype);
            Tensor diff = (s.gather(1, i) - s.gather(1, j)) * sign;
            Tensor valid = sign.abs();
            return (diff, valid);
        }

        /// <summary>softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): stable for any x, and free of C# scalars.</summary>
        internal static Tensor Softplus(Tensor x) => x.relu().add(x.abs().neg().exp().log1p(), Scalars.One);

        /// <summary>Mean of per-pair losses within each list, then over the lists that have a valid pair.</summary>
        internal static Tensor MeanOverListsWithPairs(Tensor perPair, Tensor valid)
        {
            Tensor count = valid.sum(1);
            Tensor hasPairs = count.gt(Scalars.Zero).to_type(perPair.dtype);
            Tensor perList = perPair.sum(1) / count.clamp_min(Scalars.One);
            return (perList * hasPairs).sum() / hasPairs.sum().clamp_min(Scalars.One);
        }

        /// <summary>The loss as <paramref name="options"/> configure it.</summary>
        public static PairwiseLogistic Create(TrainingOptions options) =>
            new(options.PairsPerList > 0 ? options.PairsPerList : null);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options PairwiseLogistic reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("Pairs sampled per list by the pairwise losses; 0 = all pairs.", Min = 0, Max = 1_000_000, UsedBy = PairwiseLogistic.RegistryName + ", " + PairwiseHinge.RegistryName)]
        public int PairsPerList { get; init; } = 1024;
    }
}
