using TorchSharp;
using static TorchSharp.torch;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses
{
    /// <summary>
    /// Weighted sum of two named losses, the seed's hybrid generalised:
    /// <code>
    ///   loss = alpha * first + (1 - alpha) * second        (default: alpha * ListMLE + (1 - alpha) * pairwise logistic)
    /// </code>
    /// Any two registered losses may be combined (<c>hybridFirst</c>, <c>hybridSecond</c>), except a hybrid inside a
    /// hybrid. The hybrid needs the union of its parts' inputs. Each part is reported under its own name, unweighted, so
    /// the curves stay comparable with single-loss runs (two parts of the same name are reported as <c>name</c> and
    /// <c>name#2</c>).
    /// </summary>
    public sealed class HybridLoss : IRankingLoss
    {
        public const string RegistryName = "hybrid";

        public HybridLoss(IRankingLoss first, IRankingLoss second, double alpha)
        {
            ArgumentNullException.ThrowIfNull(first);
            ArgumentNullException.ThrowIfNull(second);
            if (first is HybridLoss || second is HybridLoss)
            {
                throw new ArgumentException("A hybrid loss cannot contain another hybrid.");
            }
            if (alpha is < 0 or > 1 || double.IsNaN(alpha))
            {
                throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie in [0, 1].");
            }
            First = first;
            Second = second;
            Alpha = alpha;
            _alpha = alpha.ToScalar();
            _oneMinusAlpha = (1 - alpha).ToScalar();
        }

        // Held for the loss's lifetime: see Scalars for why no C# number goes straight into a tensor op.
        private readonly Scalar _alpha;
        private readonly Scalar _oneMinusAlpha;

        public IRankingLoss First { get; }
        public IRankingLoss Second { get; }
        public double Alpha { get; }

        public string Name => RegistryName;

        public LossNeeds Needs => First.Needs | Second.Needs;

        public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null) =>
            Compute(new LossBatch(scores, labels, mask), generator);

        public LossOutput Compute(LossBatch batch, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            LossOutput a = First.Compute(batch, generator);
            LossOutput b = Second.Compute(batch, generator);
            Tensor total = a.Total.mul(_alpha).add(b.Total.mul(_oneMinusAlpha), Scalars.One);
            var parts = new Dictionary<string, Tensor>
            {
                [First.Name] = a.Total.detach().MoveToOuterDisposeScope(),
                [Second.Name == First.Name ? Second.Name + "#2" : Second.Name] = b.Total.detach().MoveToOuterDisposeScope(),
            };
            return new LossOutput(total.MoveToOuterDisposeScope(), parts);
        }

        /// <summary>The hybrid of <see cref="TrainingOptions.HybridFirst"/> and <see cref="TrainingOptions.HybridSecond"/>, each configured by <paramref name="options"/>.</summary>
        public static HybridLoss Create(TrainingOptions options)
        {
            ArgumentNullException.ThrowIfNull(options);
            if (options.HybridFirst == LossKind.Hybrid || options.HybridSecond == LossKind.Hybrid)
            {
                throw new ArgumentException("A hybrid loss cannot contain another hybrid.", nameof(options));
            }
            return new HybridLoss(LossRegistry.Create(options.HybridFirst, options), LossRegistry.Create(options.HybridSecond, options), options.Alpha);
        }
    }
}

namespace RankService.Ranking.Training
{
    /// <summary>The options HybridLoss reads, described here once (see <see cref="TrainingOptionCatalog"/>).</summary>
    public sealed partial record TrainingOptions
    {
        [TrainingOption("Hybrid weight: alpha * hybridFirst + (1 - alpha) * hybridSecond.", Min = 0, Max = 1, UsedBy = HybridLoss.RegistryName)]
        public double Alpha { get; init; } = 0.5;

        [TrainingOption("Hybrid's first loss, any loss but hybrid.", UsedBy = HybridLoss.RegistryName, ChoicesFrom = typeof(LossRegistry), ChoicesMember = nameof(LossRegistry.PartKinds))]
        public LossKind HybridFirst { get; init; } = LossKind.ListMle;

        [TrainingOption("Hybrid's second loss, any loss but hybrid.", UsedBy = HybridLoss.RegistryName, ChoicesFrom = typeof(LossRegistry), ChoicesMember = nameof(LossRegistry.PartKinds))]
        public LossKind HybridSecond { get; init; } = LossKind.PairwiseLogistic;
    }
}
