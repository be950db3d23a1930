using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>lambda-loss weighting scheme, spelled on the wire as <c>ndcg-loss2++</c> or <c>lambdarank</c>.</summary>
    [JsonConverter(typeof(WireNameJsonConverter<LambdaWeighting>))]
    public enum LambdaWeighting
    {
        [JsonStringEnumMemberName("ndcg-loss2++")] NdcgLoss2PlusPlus,
        [JsonStringEnumMemberName("lambdarank")] LambdaRank,
    }

    /// <summary>
    /// LambdaLoss (Wang et al., 2018): a pairwise logistic loss whose pairs are weighted by how much swapping them moves
    /// NDCG under the current predicted ranking. With items at 1-based predicted positions p_i (scores sorted
    /// descending), G_i = (2^{y_i} - 1) / IdealDCG and D(p) = log2(1 + p):
    /// <code>
    ///   loss = sum_{y_i &gt; y_j} w_ij * log(1 + exp(-(s_i - s_j)))
    ///   NDCG-Loss2++ (default):  w_ij = |G_i - G_j| * ( |1/D(p_i) - 1/D(p_j)| + mu * delta_ij )
    ///                            delta_ij = |1/D(|p_i - p_j|) - 1/D(|p_i - p_j| + 1)|
    ///   lambdarank (variant):    w_ij = |G_i - G_j| * |1/D(p_i) - 1/D(p_j)|  =  |delta NDCG_ij|
    /// </code>
    /// The weights are constants of the labels and the predicted positions (no gradient flows through the sort).
    /// Truncation at k: IdealDCG is over the top k, only pairs with at least one item in the predicted top k count,
    /// and 1/D(p) is 0 beyond k in the LambdaRank term, so the weights are |delta NDCG@k|. Natural log (the paper's
    /// log2 differs by a constant factor). Summed over a list's pairs and averaged over lists that have a pair.
    /// Shapes: scores, labels, mask [lists, n]; pair tensors [lists, n, n] in predicted order. Ties: equal labels
    /// never form a pair; tied scores take predicted positions in list order (a stable sort). Padding is sorted last
    /// and excluded from pairs and from the ideal DCG.
    /// </summary>
    public sealed class LambdaLoss : IRankingLoss
    {
        public const string RegistryName = "lambda-loss";

        private readonly Scalar _mu;

        public LambdaLoss(LambdaWeighting weighting = LambdaWeighting.NdcgLoss2PlusPlus, double mu = 10, int? k = null)
        {
            WireNames.ThrowIfUndefined(weighting, "LambdaLoss weighting", nameof(weighting));
            if (!double.IsFinite(mu) || mu < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(mu), mu, "mu must be finite and at least 0.");
            }
            if (k is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1 (or null for no truncation).");
            }
            Weighting = weighting;
            Mu = mu;
            K = k;
            _mu = mu.ToScalar();
        }

        public LambdaWeighting Weighting { get; }
        public double Mu { get; }
        public int? K { get; }

        public string Name => RegistryName;

        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            ScalarType dtype = scores.dtype;
            Device device = scores.device;
            int n = (int)scores.shape[1];
            int k = K is int top ? Math.Min(top, n) : n;

            // Predicted order, padding last.
            (Tensor _, Tensor order) = scores.detach().masked_fill(mask.logical_not(), Scalars.NegativeInfinity).sort(1, descending: true, stable: true);
            Tensor s = scores.gather(1, order);
            Tensor y = labels.gather(1, order);
            Tensor m = mask.gather(1, order);

            Tensor gains = NdcgTerms.Gains(y, m, dtype);
            Tensor g = gains / NdcgTerms.IdealDcg(gains, k).clamp_min(Scalars.Tiny).unsqueeze(1);
            Tensor gainGap = (g.unsqueeze(2) - g.unsqueeze(1)).abs();

            // Position terms [n, n] from 1-D tables over positions and gaps (built in C#, so no scalar crosses into
            // native code): rho = |1/D(p_i) - 1/D(p_j)| with 1/D = 0 beyond k; delta = |1/D(gap) - 1/D(gap + 1)|.
            Tensor inverseD = tensor(Enumerable.Range(1, n).Select(p => p <= k ? 1.0 / Math.Log2(1 + p) : 0).ToArray(), dtype: dtype, device: device);
            Tensor position = (inverseD.unsqueeze(1) - inverseD.unsqueeze(0)).abs();
            if (Weighting == LambdaWeighting.NdcgLoss2PlusPlus)
            {
                Tensor deltaByGap = tensor(Enumerable.Range(0, n).Select(d => d == 0 ? 0 : Math.Abs((1.0 / Math.Log2(1 + d)) - (1.0 / Math.Log2(2 + d)))).ToArray(), dtype: dtype, device: device);
                Tensor index = tensor(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), device: device);
                Tensor gap = (index.unsqueeze(1) - index.unsqueeze(0)).abs();
                position = position.add(deltaByGap.index_select(0, gap.flatten()).view(n, n).mul(_mu), Scalars.One);
            }
            Tensor topK = tensor(Enumerable.Range(0, n).Select(i => i < k).ToArray(), device: device);
            Tensor inTopK = topK.unsqueeze(1).logical_or(topK.unsqueeze(0));
            Tensor weights = gainGap * position;

            Tensor valid = y.unsqueeze(2).gt(y.unsqueeze(1))
                .logical_and(m.unsqueeze(2).logical_and(m.unsqueeze(1)))
                .logical_and(inTopK)
                .to_type(dtype);
            Tensor perPair = PairwiseLogistic.Softplus((s.unsqueeze(2) - s.unsqueeze(1)).neg()) * weights * valid;
            Tensor hasPairs = valid.sum(new long[] { 1, 2 }).gt(Scalars.Zero).to_type(dtype);
            Tensor loss = perPair.sum(new long[] { 1, 2 }).mul(hasPairs).sum() / hasPairs.sum().clamp_min(Scalars.One);
            return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>The loss as <paramref name="options"/> configure it.</summary>
        public static LambdaLoss Create(TrainingOptions options) =>
            new(options.LambdaWeighting, options.LambdaMu, options.LambdaK > 0 ? options.LambdaK : null);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options LambdaLoss reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("lambda-loss weighting.", UsedBy = LambdaLoss.RegistryName)]
        public LambdaWeighting LambdaWeighting { get; init; } = LambdaWeighting.NdcgLoss2PlusPlus;

        [TrainingOption("lambda-loss mu: weight of the NDCG-Loss2 term in NDCG-Loss2++.", Min = 0, Max = 1000, UsedBy = LambdaLoss.RegistryName)]
        public double LambdaMu { get; init; } = 10;

        [TrainingOption("lambda-loss truncation at k; 0 = the whole list.", Min = 0, Max = 100_000, UsedBy = LambdaLoss.RegistryName)]
        public int LambdaK { get; init; }
    }
}
