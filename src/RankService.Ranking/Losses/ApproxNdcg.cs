using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>
    /// ApproxNDCG (Qin et al., 2010; Bruch et al., 2019): NDCG with each item's rank replaced by a smooth
    /// approximation, so the metric itself can be minimised:
    /// <code>
    ///   rank_i     = 1 + sum_{j != i} sigmoid((s_j - s_i) / temperature)       (j over the list's real items)
    ///   ApproxDCG  = sum_i (2^{y_i} - 1) / log2(1 + rank_i)
    ///   loss       = 1 - ApproxDCG / IdealDCG
    /// </code>
    /// Averaged over lists with a relevant item (IdealDCG &gt; 0); lists without one contribute nothing, and a batch
    /// without any gives 0. Smaller temperatures approach the true ranks but give sparser gradients. Shapes: scores,
    /// labels, mask [lists, positions]; the pairwise sigmoids [lists, positions, positions]. Ties: tied scores each
    /// count half a rank above the other, the same for either order, so no tie order is preferred. The sigmoid
    /// saturates without overflow for any score gap.
    /// </summary>
    public sealed class ApproxNdcg : IRankingLoss
    {
        public const string RegistryName = "approx-ndcg";

        private readonly Scalar _inverseTemperature;

        public ApproxNdcg(double temperature = 1.0)
        {
            if (!double.IsFinite(temperature) || temperature <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be finite and above 0.");
            }
            Temperature = temperature;
            _inverseTemperature = (1 / temperature).ToScalar();
        }

        public double Temperature { get; }

        public string Name => RegistryName;

        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            // dimensions: scores [lists, n]; pairs [lists, i, j] = s_j - s_i
            long n = scores.shape[1];
            Tensor real = mask.to_type(scores.dtype);
            Tensor others = real.unsqueeze(1) * (ones(n, n, dtype: scores.dtype, device: scores.device) - eye(n, dtype: scores.dtype, device: scores.device));
            Tensor above = (scores.unsqueeze(1) - scores.unsqueeze(2)).mul(_inverseTemperature).sigmoid() * others;
            Tensor rank = above.sum(2).add(Scalars.One, Scalars.One);
            Tensor gains = NdcgTerms.Gains(labels, mask, scores.dtype);
            Tensor dcg = (gains / rank.add(Scalars.One, Scalars.One).log2()).sum(1);
            Tensor ideal = NdcgTerms.IdealDcg(gains);
            Tensor hasRelevant = ideal.gt(Scalars.Zero).to_type(scores.dtype);
            Tensor perList = (dcg / ideal.clamp_min(Scalars.Tiny)).neg().add(Scalars.One, Scalars.One) * hasRelevant;
            Tensor loss = perList.sum() / hasRelevant.sum().clamp_min(Scalars.One);
            return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>The loss as <paramref name="options"/> configure it.</summary>
        public static ApproxNdcg Create(TrainingOptions options) =>
            new(options.Temperature);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options ApproxNdcg reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("approx-ndcg sigmoid temperature.", Min = 1e-4, Max = 100, UsedBy = ApproxNdcg.RegistryName)]
        public double Temperature { get; init; } = 1.0;
    }
}
