using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>The softmax loss's reduction over a list's rated items.</summary>
    [JsonConverter(typeof(WireNameJsonConverter<SoftmaxReduction>))]
    public enum SoftmaxReduction
    {
        [JsonStringEnumMemberName("mean")] Mean,
        [JsonStringEnumMemberName("sum")] Sum,
    }

    /// <summary>
    /// Softmax (multinomial) cross entropy of each user's rated items against the whole catalogue, as in Mult-VAE and
    /// RecBole's CE loss. With P_b the list's rated items (label &gt; 0, each weighted equally) and C the catalogue:
    /// <code>
    ///   full:     loss_b = -1/|P_b| * sum_{i in P_b} ( s_bi - log sum_{j in C} exp(s_bj) )
    ///   sampled:  M candidates j_1..j_M drawn with replacement from q (q_j proportional to train count + 1);
    ///             for each i in P_b, the rest of the catalogue's sum estimated by importance sampling (log-q correction):
    ///             loss_bi = -( s_bi - log( exp(s_bi) + sum_{m: j_m not in P_b} exp(s_{b,j_m} - log(M q_{j_m})) ) )
    /// </code>
    /// With <see cref="Reduction"/> <c>mean</c> (above) every list weighs the same; with <c>sum</c> a list's loss is the sum
    /// over its rated items instead of the mean, loss_b = -sum_{i in P_b} log p_bi: the multinomial log-likelihood of the
    /// user's rated items (Mult-VAE's objective), so users weigh by how many items they rated and every rated item weighs
    /// the same. Either way averaged over lists with a rated item. The full form scores every item for the batch's users (user vectors
    /// [lists, d] times item vectors [items, d] transposed, the item side once per batch); the sampled form
    /// (<see cref="Samples"/> &gt; 0, for large catalogues) scores M shared candidates [lists, M] and removes
    /// accidental hits (candidates the user rated) so a positive never sits in its own normaliser twice. As M grows the
    /// sampled normaliser tends to exp(s_bi) plus the sum over the unrated catalogue: for one rated item, the full loss.
    /// Without catalogue scores (the three-tensor <see cref="Compute(Tensor, Tensor, Tensor, Generator?)"/>), the
    /// normaliser is the list's own real items. Shapes: scores, labels, mask, items [lists, n]. Stable: log-sum-exp
    /// throughout, padding and removed candidates filled with a very negative finite value. Ties: labels only decide
    /// membership of P_b, so tied labels are equal targets.
    /// </summary>
    public sealed class SoftmaxLoss : IRankingLoss
    {
        public const string RegistryName = "softmax";

        private readonly Scalar _logSamples;
        private readonly bool _sum;

        public SoftmaxLoss(int samples = 0, SoftmaxReduction reduction = SoftmaxReduction.Mean)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(samples);
            WireNames.ThrowIfUndefined(reduction, "softmax reduction", nameof(reduction));
            Samples = samples;
            Reduction = reduction;
            _sum = reduction == SoftmaxReduction.Sum;
            _logSamples = Math.Log(Math.Max(1, samples)).ToScalar();
        }

        /// <summary>Candidates sampled per batch; 0 = the full catalogue.</summary>
        public int Samples { get; }

        /// <summary>Mean or sum over a list's rated items.</summary>
        public SoftmaxReduction Reduction { get; }

        public string Name => RegistryName;

        public LossNeeds Needs => LossNeeds.Catalogue;

        /// <summary>The list-only form: each rated item against the list's real items.</summary>
        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            Tensor logZ = scores.masked_fill(mask.logical_not(), Scalars.Padding).logsumexp(1, keepdim: true);
            return new LossOutput(Reduce(scores - logZ, labels, mask).MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        public LossOutput Compute(LossBatch batch, Generator? generator = null)
        {
            ArgumentNullException.ThrowIfNull(batch);
            if (batch.ScoreItems is not { } scoreItems)
            {
                throw new InvalidOperationException($"The {Name} loss needs LossBatch.ScoreItems; the trainer supplies it for losses that need the catalogue.");
            }
            using var scope = NewDisposeScope();
            Tensor logP;
            if (Samples == 0)
            {
                Tensor catalogue = scoreItems(null);                       // [lists, items]
                logP = batch.Scores - catalogue.logsumexp(1, keepdim: true);
            }
            else
            {
                Tensor items = LossBatch.Require(batch.Items, nameof(LossBatch.Items), Name);            // [lists, n], for accidental hits
                Tensor counts = LossBatch.Require(batch.ItemCounts, nameof(LossBatch.ItemCounts), Name); // [items]
                Tensor smoothed = counts.to_type(ScalarType.Float64).add(Scalars.One, Scalars.One);
                Tensor logQ = (smoothed / smoothed.sum()).log().to_type(batch.Scores.dtype);
                Tensor candidates = multinomial(smoothed, Samples, replacement: true, generator: generator); // [M]
                Tensor candidateScores = scoreItems(candidates);                                            // [lists, M]
                Tensor negatives = candidateScores - logQ.index_select(0, candidates).add(_logSamples, Scalars.One).unsqueeze(0);
                Tensor positive = batch.Labels.gt(Scalars.Zero).logical_and(batch.Mask);
                Tensor hit = AccidentalHits(items, positive, candidates);                                   // [lists, M]
                Tensor negativeLse = negatives.masked_fill(hit, Scalars.Padding).logsumexp(1, keepdim: true);         // [lists, 1]
                Tensor own = batch.Scores;                                                                              // [lists, n]
                Tensor logZ = stack(new[] { own, negativeLse.expand_as(own) }, 2).logsumexp(2);
                logP = own - logZ;
            }
            return new LossOutput(Reduce(logP, batch.Labels, batch.Mask).MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>
        /// [lists, M]: whether candidate m is one of list b's rated items. Each list's rated item ids are sorted (the
        /// others set to -1, below every id) and each candidate looked up by binary search: lists × M × log n work and
        /// [lists, M] memory, where comparing every item with every candidate took a [lists, n, M] tensor (256 × 400 ×
        /// 8,192 bytes, twice, per batch at the default sizes).
        /// </summary>
        internal static Tensor AccidentalHits(Tensor items, Tensor positive, Tensor candidates)
        {
            using var scope = NewDisposeScope();
            long lists = items.shape[0], n = items.shape[1];
            Tensor rated = items.to_type(ScalarType.Int64).masked_fill(positive.logical_not(), Scalars.IntMinusOne).sort(1).Values.contiguous();
            Tensor query = candidates.to_type(ScalarType.Int64).unsqueeze(0).expand(lists, -1).contiguous();
            using Scalar last = (n - 1).ToScalar();
            Tensor at = searchsorted(rated, query).clamp_max(last); // past the end: the last slot, whose id is then smaller
            return rated.gather(1, at).eq(query).MoveToOuterDisposeScope();
        }

        /// <summary>-mean (or -sum) of log P over each list's rated items, averaged over lists that have one.</summary>
        private Tensor Reduce(Tensor logP, Tensor labels, Tensor mask)
        {
            Tensor positive = labels.gt(Scalars.Zero).logical_and(mask).to_type(logP.dtype);
            // Padding and unrated positions may hold -1e30-sized values: zero them by selection, not by multiplication.
            Tensor picked = where(positive.to_type(ScalarType.Bool), logP, zeros_like(logP));
            if (!_sum)
            {
                return PairwiseLogistic.MeanOverListsWithPairs(picked.neg(), positive);
            }
            Tensor hasRated = positive.sum(1).gt(Scalars.Zero).to_type(logP.dtype);
            return (picked.neg().sum(1) * hasRated).sum() / hasRated.sum().clamp_min(Scalars.One);
        }

        /// <summary>The loss as <paramref name="options"/> configure it.</summary>
        public static SoftmaxLoss Create(TrainingOptions options) =>
            new(options.SoftmaxSamples, options.SoftmaxReduction);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options SoftmaxLoss reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("softmax: candidates sampled per batch with log-q correction; 0 = the full catalogue.", Min = 0, Max = 1_000_000, UsedBy = SoftmaxLoss.RegistryName)]
        public int SoftmaxSamples { get; init; }

        [TrainingOption("softmax reduction over a list's rated items: mean (every user weighs the same) or sum (every rated item weighs the same).",
            UsedBy = SoftmaxLoss.RegistryName)]
        public SoftmaxReduction SoftmaxReduction { get; init; } = SoftmaxReduction.Mean;
    }
}
