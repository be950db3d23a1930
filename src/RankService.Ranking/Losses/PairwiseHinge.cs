using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>
    /// Pairwise hinge (RankSVM; the seed's <c>pairwise_hinge_loss</c>): for every pair with y_i &gt; y_j,
    /// <code>
    ///   loss_pair = max(0, margin - (s_i - s_j))
    /// </code>
    /// averaged over the valid pairs of a list, then over lists that have at least one such pair. Pairs are all pairs
    /// or <see cref="PairsPerList"/> sampled position pairs, exactly as in <see cref="PairwiseLogistic"/>. Shapes:
    /// scores, labels, mask [lists, positions]; pair tensors [lists, pairs]. Ties (equal labels) never form a pair; a
    /// list without a pair contributes nothing. At the kink (s_i - s_j = margin) the gradient is 0.
    /// </summary>
    public sealed class PairwiseHinge : IRankingLoss
    {
        public const string RegistryName = "pairwise-hinge";

        private readonly Scalar _margin;

        public PairwiseHinge(double margin = 1.0, int? pairsPerList = 1024)
        {
            if (!double.IsFinite(margin) || margin < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(margin), margin, "margin must be finite and at least 0.");
            }
            Margin = margin;
            PairsPerList = pairsPerList;
            _margin = margin.ToScalar();
        }

        public double Margin { get; }
        public int? PairsPerList { get; }

        public string Name => RegistryName;

        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            (Tensor diff, Tensor valid) = PairsPerList is int pairs && pairs < scores.shape[1] * scores.shape[1]
                ? PairwiseLogistic.SampledPairs(scores, labels, mask, pairs, generator)
                : PairwiseLogistic.AllPairs(scores, labels, mask);
            Tensor perPair = diff.neg().add(_margin, Scalars.One).relu() * valid;
            Tensor loss = PairwiseLogistic.MeanOverListsWithPairs(perPair, valid);
            return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>The loss as <paramref name="options"/> configure it (its pairs are <see cref="TrainingOptions.PairsPerList"/>).</summary>
        public static PairwiseHinge Create(TrainingOptions options) =>
            new(options.Margin, options.PairsPerList > 0 ? options.PairsPerList : null);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options PairwiseHinge reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("Margin of pairwise-hinge and triplet.", Min = 0, Max = 100, UsedBy = PairwiseHinge.RegistryName + ", " + TripletLoss.RegistryName)]
        public double Margin { get; init; } = 1.0;
    }
}
