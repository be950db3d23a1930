using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>The triplet loss's similarity: <c>dot</c> (u . v) or <c>distance</c> (-||u - v||^2).</summary>
    [JsonConverter(typeof(WireNameJsonConverter<TripletForm>))]
    public enum TripletForm
    {
        [JsonStringEnumMemberName("dot")] Dot,
        [JsonStringEnumMemberName("distance")] Distance,
    }

    /// <summary>How the triplet loss picks a negative per positive.</summary>
    [JsonConverter(typeof(WireNameJsonConverter<TripletMining>))]
    public enum TripletMining
    {
        [JsonStringEnumMemberName("random")] Random,
        [JsonStringEnumMemberName("hard")] Hard,
        [JsonStringEnumMemberName("semi-hard")] SemiHard,
    }

    /// <summary>
    /// Triplet margin loss on the tower embeddings: anchor = the user vector u, positive = an item of the list rated at
    /// or above <see cref="Threshold"/>, negative = an item of the list the user did not rate (label 0: the sampled
    /// pool). With sim(u, v) = u . v (<c>dot</c>) or -||u - v||^2 (<c>distance</c>):
    /// <code>
    ///   loss_(u,p) = max(0, margin - (sim(u, v_p) - sim(u, v_n)))      one negative n mined per positive p
    /// </code>
    /// (in distance form: max(0, margin + ||u - v_p||^2 - ||u - v_n||^2)). Averaged over a list's triplets, then over
    /// lists that have a positive and a negative. Mining picks n from the list's negatives by the same sim, without
    /// gradient through the choice:
    /// <list type="bullet">
    /// <item><c>random</c>: uniformly, independently for each positive.</item>
    /// <item><c>hard</c>: the highest-scoring negative of the list (the same for each of its positives).</item>
    /// <item><c>semi-hard</c>: among negatives scored below the positive but within the margin
    /// (sim_p - margin &lt; sim_n &lt; sim_p), the highest-scoring; when there is none, the lowest-scoring negative of
    /// the list (as TensorFlow's semi-hard triplet loss does), which gives 0 when every negative is easy and a gentle
    /// gradient otherwise.</item>
    /// </list>
    /// Shapes: user vectors [lists, d], item vectors [lists, n, d], sims [lists, n], mining [lists, n (positive), n
    /// (negative)]. Ties: a negative scored exactly like the positive is hard, not semi-hard; equal-scored candidates
    /// go to the lowest list position. The item bias takes no part, as the loss is on the towers.
    /// </summary>
    public sealed class TripletLoss : IRankingLoss
    {
        public const string RegistryName = "triplet";

        private static readonly Scalar PositiveInfinity = double.PositiveInfinity.ToScalar();
        private readonly Scalar _margin;
        private readonly Scalar _threshold;

        public TripletLoss(double margin = 1.0, TripletForm form = TripletForm.Dot, TripletMining mining = TripletMining.SemiHard, double threshold = 4)
        {
            if (!double.IsFinite(margin) || margin < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(margin), margin, "margin must be finite and at least 0.");
            }
            WireNames.ThrowIfUndefined(form, "triplet form", nameof(form));
            WireNames.ThrowIfUndefined(mining, "triplet mining", nameof(mining));
            if (!double.IsFinite(threshold) || threshold <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be finite and above 0 (label 0 marks the unrated negatives).");
            }
            Margin = margin;
            Form = form;
            Mining = mining;
            Threshold = threshold;
            _margin = margin.ToScalar();
            _threshold = threshold.ToScalar();
        }

        public double Margin { get; }
        public TripletForm Form { get; }
        public TripletMining Mining { get; }
        public double Threshold { get; }

        public string Name => RegistryName;

        public LossNeeds Needs => LossNeeds.Embeddings;

        /// <summary>Not defined on scores alone: the triplet loss is on the tower embeddings (see <see cref="Needs"/>).</summary>
        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null) =>
            throw new InvalidOperationException($"The {Name} loss works on the tower embeddings: call Compute(LossBatch) with UserVectors and ItemVectors.");

        public LossOutput Compute(LossBatch batch, Generator? generator = null)
        {
            ArgumentNullException.ThrowIfNull(batch);
            using var scope = NewDisposeScope();
            Tensor u = LossBatch.Require(batch.UserVectors, nameof(LossBatch.UserVectors), Name).unsqueeze(1); // [lists, 1, d]
            Tensor v = LossBatch.Require(batch.ItemVectors, nameof(LossBatch.ItemVectors), Name);               // [lists, n, d]
            Tensor sim = Form == TripletForm.Dot ? (v * u).sum(2) : (v - u).pow(Scalars.Two).sum(2).neg();                    // [lists, n]
            Tensor positive = batch.Labels.ge(_threshold).logical_and(batch.Mask);
            Tensor negative = batch.Labels.eq(Scalars.Zero).logical_and(batch.Mask);

            Tensor choice = MineNegatives(sim.detach(), negative, Mining, Margin, generator);                  // [lists, n]
            Tensor valid = positive.logical_and(negative.any(1, keepdim: true)).to_type(sim.dtype);
            Tensor perTriplet = (sim - sim.gather(1, choice)).neg().add(_margin, Scalars.One).relu() * valid;
            Tensor loss = PairwiseLogistic.MeanOverListsWithPairs(perTriplet, valid);
            return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
        }

        /// <summary>
        /// For each position p of each list (read as a positive), the position of the negative that
        /// <paramref name="mining"/> picks from <paramref name="negative"/> [lists, n] by <paramref name="sim"/> [lists, n].
        /// Shape [lists, n] (long); rows without a negative give 0, which the loss masks out.
        /// </summary>
        public static Tensor MineNegatives(Tensor sim, Tensor negative, TripletMining mining, double margin, Generator? generator = null)
        {
            ArgumentNullException.ThrowIfNull(sim);
            ArgumentNullException.ThrowIfNull(negative);
            using var scope = NewDisposeScope();
            long lists = sim.shape[0];
            long n = sim.shape[1];
            Tensor notNegative = negative.logical_not();
            Tensor choice;
            switch (mining)
            {
                case TripletMining.Random:
                    choice = rand(new[] { lists, n, n }, dtype: ScalarType.Float32, device: sim.device, generator: generator)
                        .masked_fill(notNegative.unsqueeze(1), Scalars.NegativeInfinity)
                        .argmax(2);
                    break;
                case TripletMining.Hard:
                    choice = sim.masked_fill(notNegative, Scalars.NegativeInfinity).argmax(1, keepdim: true).expand(lists, n);
                    break;
                case TripletMining.SemiHard:
                    using (var m = margin.ToScalar())
                    {
                        Tensor simN = sim.unsqueeze(1);                                   // [lists, 1, n]: candidate negatives
                        Tensor simP = sim.unsqueeze(2);                                   // [lists, n, 1]: positives
                        Tensor semiHard = simN.lt(simP).logical_and(simN.gt(simP.sub(m))).logical_and(negative.unsqueeze(1));
                        Tensor best = simN.expand(lists, n, n).masked_fill(semiHard.logical_not(), Scalars.NegativeInfinity).argmax(2);
                        Tensor easiest = sim.masked_fill(notNegative, PositiveInfinity).argmin(1, keepdim: true).expand(lists, n);
                        choice = where(semiHard.any(2), best, easiest);
                    }
                    break;
                default:
                    throw new ArgumentException($"Unknown triplet mining '{mining.Wire()}'. Use one of: {string.Join(", ", WireNames.Of<TripletMining>())}.", nameof(mining));
            }
            return choice.contiguous().MoveToOuterDisposeScope();
        }

        /// <summary>The loss as <paramref name="options"/> configure it (its margin is <see cref="TrainingOptions.Margin"/>).</summary>
        public static TripletLoss Create(TrainingOptions options) =>
            new(options.Margin, options.TripletForm, options.TripletMining, options.TripletThreshold);
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options TripletLoss reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("triplet similarity.", UsedBy = TripletLoss.RegistryName)]
        public TripletForm TripletForm { get; init; } = TripletForm.Dot;

        [TrainingOption("triplet negative mining.", UsedBy = TripletLoss.RegistryName)]
        public TripletMining TripletMining { get; init; } = TripletMining.SemiHard;

        [TrainingOption("triplet: lowest rating that makes an item a positive.", Min = 0.5, Max = 100, UsedBy = TripletLoss.RegistryName)]
        public double TripletThreshold { get; init; } = 4;
    }
}
