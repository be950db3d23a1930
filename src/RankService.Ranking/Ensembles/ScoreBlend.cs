using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RankService.Ranking.Ensembles;

/// <summary>
/// An ensemble of scorers: a weighted sum of each scorer's per-user standardised scores,
/// <code>
///   s(u, i) = sum_m w_m * (s_m(u, i) - mu_m(u)) / sigma_m(u)
/// </code>
/// with mu_m(u) and sigma_m(u) the mean and (population) standard deviation of scorer m's scores over the whole
/// catalogue for user u (a row with sigma = 0 contributes nothing). Standardising puts models on different scales
/// (a two-tower model's logits, EASE's regression outputs) on one footing, and a per-user shift or scale never
/// changes a user's ranking, so each model alone ranks as before. <see cref="TuneWeight"/> picks the mix on
/// validation NDCG@10 (the one-standard-error rule, leaning to the second part).
/// </summary>
public sealed class ScoreBlend : IItemScorer
{
    /// <summary>
    /// Weights of the first scorer <see cref="TuneWeight"/> tries by default (the second gets 1 - w); the ends are
    /// either model alone (scored raw, see <see cref="Score"/>), so the blend chosen is never below the second part
    /// on validation NDCG@10, and at most one standard error below the best weight.
    /// </summary>
    public static readonly IReadOnlyList<double> DefaultWeights = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

    private readonly IItemScorer[] _scorers;
    private readonly float[] _weights;
    private float[] _buffer = [];

    public ScoreBlend(IReadOnlyList<IItemScorer> scorers, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(scorers);
        ArgumentNullException.ThrowIfNull(weights);
        if (scorers.Count == 0 || scorers.Count != weights.Count)
        {
            throw new ArgumentException("Give one weight per scorer, and at least one scorer.", nameof(weights));
        }
        if (scorers.Any(s => s.ItemCount != scorers[0].ItemCount))
        {
            throw new ArgumentException("Every scorer must score the same catalogue.", nameof(scorers));
        }
        if (weights.Any(w => !double.IsFinite(w)))
        {
            throw new ArgumentException("Weights must be finite numbers.", nameof(weights));
        }
        _scorers = [.. scorers];
        _weights = weights.Select(w => (float)w).ToArray();
        ItemCount = scorers[0].ItemCount;
    }

    public int ItemCount { get; }

    public IReadOnlyList<float> Weights => _weights;

    /// <summary>
    /// The blend's scores; when one scorer has weight 1 and the rest 0, that scorer's raw scores: the same ranking as
    /// its standardised ones in exact arithmetic, without the float rounding of standardising, which can tie scores
    /// that differ only in their last bits and so rank differently from the model alone.
    /// </summary>
    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        int n = ItemCount;
        int size = users.Length * n;
        if (scores.Length < size)
        {
            throw new ArgumentException("Need users.Length * ItemCount scores.", nameof(scores));
        }
        if (Alone() is { } alone)
        {
            _scorers[alone].Score(users, scores[..size]);
            return;
        }
        if (_buffer.Length < size)
        {
            _buffer = new float[size];
        }
        scores[..size].Clear();
        for (int m = 0; m < _scorers.Length; m++)
        {
            _scorers[m].Score(users, _buffer.AsSpan(0, size));
            for (int r = 0; r < users.Length; r++)
            {
                AddStandardised(_buffer.AsSpan(r * n, n), _weights[m], scores.Slice(r * n, n));
            }
        }
    }

    /// <summary>The scorer that has weight 1 while every other has 0, if one does.</summary>
    private int? Alone()
    {
        int one = Array.IndexOf(_weights, 1f);
        return one >= 0 && _weights.Where((w, m) => m != one).All(w => w == 0) ? one : null;
    }

    /// <summary>
    /// Tries <c>w * first + (1 - w) * second</c> for each w in <paramref name="weights"/> and returns the smallest w
    /// (the most weight on <paramref name="second"/>, the anchor) whose validation NDCG@10 is within one standard error
    /// of the best w's, with its validation metrics at <paramref name="ks"/>. The standard error is that of the paired
    /// per-user difference, <c>se(w) = sd_u(ndcg_u(w) - ndcg_u(best)) / sqrt(n)</c> over the n validation users: the
    /// one-standard-error rule of model selection. Eleven weights tuned on one validation split pick up noise; a blend
    /// whose edge over the anchor is within that noise is not served in its place (on a generated MovieLens release
    /// under the temporal protocol the plain arg-max blend scored below EASE alone on test). The chosen blend is never
    /// below the anchor alone on validation (the anchor is w = 0 when <paramref name="weights"/> holds 0) and at most one
    /// standard error below the best.
    /// </summary>
    public static (double Weight, IReadOnlyDictionary<string, double> Validation) TuneWeight(
        IItemScorer first, IItemScorer second, UserSplit split, IReadOnlyList<int> ks, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        IReadOnlyList<int> cutoffs = ks.Contains(10) ? ks : [.. ks, 10];
        var tried = new List<Trial>();
        foreach (double w in weights ?? DefaultWeights)
        {
            var blend = new ScoreBlend([first, second], [w, 1 - w]);
            var byUser = new List<double>();
            IReadOnlyDictionary<string, double> validation = FullCatalogueEvaluator.Evaluate(blend, split, EvaluationTarget.Validation, cutoffs, ndcg10ByUser: byUser).Metrics;
            tried.Add(new Trial(w, validation, [.. byUser]));
        }
        if (tried.Count == 0)
        {
            throw new ArgumentException("Give at least one weight.", nameof(weights));
        }
        // The arg-max (the first of equals), then the smallest weight within one paired standard error of it.
        Trial best = tried[0];
        foreach (Trial t in tried)
        {
            if (t.Validation[MetricNames.Ndcg10] > best.Validation[MetricNames.Ndcg10])
            {
                best = t;
            }
        }
        Trial chosen = best;
        foreach (Trial t in tried)
        {
            if (t.Weight < chosen.Weight && t.Validation[MetricNames.Ndcg10] >= best.Validation[MetricNames.Ndcg10] - PairedStandardError(t.ByUser, best.ByUser))
            {
                chosen = t;
            }
        }
        return (chosen.Weight, chosen.Validation);
    }

    private readonly record struct Trial(double Weight, IReadOnlyDictionary<string, double> Validation, double[] ByUser);

    /// <summary>The standard error of the mean of <c>a_u - b_u</c> (sample standard deviation over sqrt(n)); 0 for fewer than two users.</summary>
    public static double PairedStandardError(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException("Both lists need one value per user.", nameof(b));
        }
        int n = a.Count;
        if (n < 2)
        {
            return 0;
        }
        double mean = 0;
        for (int u = 0; u < n; u++)
        {
            mean += a[u] - b[u];
        }
        mean /= n;
        double squares = 0;
        for (int u = 0; u < n; u++)
        {
            double d = a[u] - b[u] - mean;
            squares += d * d;
        }
        return Math.Sqrt(squares / (n - 1) / n);
    }

    /// <summary>
    /// One row of the two-scorer blend: <c>target = w * z(first) + (1 - w) * z(second)</c>, z standardising a row as
    /// <see cref="Score"/> does (a constant row adds nothing; w = 1 or 0 is that row raw), so a served blend scores
    /// exactly as the tuned one.
    /// </summary>
    public static void Combine(ReadOnlySpan<float> first, ReadOnlySpan<float> second, double weight, Span<float> target)
    {
        if (first.Length != second.Length || target.Length < first.Length)
        {
            throw new ArgumentException("Both rows and the target need the same length.", nameof(target));
        }
        Span<float> t = target[..first.Length];
        if ((float)weight is 1f or 0f)
        {
            // Either part alone, raw, as Score serves it.
            ((float)weight == 1f ? first : second).CopyTo(t);
            return;
        }
        t.Clear();
        // Weights through float, as the constructor keeps them: the served blend is the tuned one to the last bit.
        AddStandardised(first, (float)weight, t);
        AddStandardised(second, (float)(1 - weight), t);
    }

    /// <summary>target += w * (row - mean) / std; nothing for a constant row.</summary>
    private static void AddStandardised(ReadOnlySpan<float> row, double w, Span<float> target)
    {
        (double mean, double std) = Moments(row);
        if (std > 0)
        {
            TensorPrimitives.MultiplyAdd(row, (float)(w / std), target, target);
            TensorPrimitives.Add(target, (float)(-w * mean / std), target);
        }
    }

    private static (double Mean, double Std) Moments(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (float x in row)
        {
            sum += x;
        }
        double mean = sum / row.Length;
        double squares = 0;
        foreach (float x in row)
        {
            double d = x - mean;
            squares += d * d;
        }
        return (mean, Math.Sqrt(squares / row.Length));
    }
}
