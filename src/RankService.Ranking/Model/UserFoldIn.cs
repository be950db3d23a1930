using RankService.Ranking.Losses;
using TorchSharp;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RankService.Ranking.Model;

/// <summary>
/// Folds in a user the model never saw, from the items they interacted with: with the item side frozen, finds the user
/// embedding e minimising the run's loss on the user's list plus λ/2 ||e||² (<see cref="FoldInSettings.FromTraining"/>
/// says why λ is wd × lists), then returns the user-side vector <see cref="PrecomputedScorer.ScoreVector"/> ranks with.
/// <list type="bullet">
/// <item>Objective: the user side is the embedding e through the user tower (dot; ReLU between its layers) or the first
/// head layer's user half W_u e + c (concat-mlp), u = T(e); scores s_i = u · v_i + b_i (dot) or MLP(relu(u + v_i)) + b_i
/// (concat-mlp) with the item side v, b precomputed as serving does.</item>
/// <item>Losses: <c>softmax</c> over the full catalogue (mean or sum reduction, as trained; a model trained with sampled
/// softmax is folded in with the full normaliser its samples estimate), <c>listmle</c> and <c>listnet</c> over
/// <see cref="FoldInSettings.SampledLists"/> lists drawn once per call (the user's most recent <c>MaxListSize</c> items
/// plus <c>NegativesPerList</c> uniform non-interacted items, ties in random order), all in plain C# with their
/// gradients in closed form. Every other loss goes through the general path: the loss's own TorchSharp code computes
/// ∂L/∂scores (and ∂L/∂u where it reads tower outputs) on the same lists, and the chain rule to e stays in C#.</item>
/// <item>Solver: L-BFGS (8 pairs, Armijo backtracking) from the mean trained user embedding. Softmax with the dot head
/// is convex in e without hidden layers, so it converges to the unique optimum.</item>
/// </list>
/// Immutable after construction and independent of the model (its arrays are copied), so any number of threads may fold
/// in at once: each call owns its scratch, its random draws (<see cref="FoldInSettings.Seed"/>) and, on the general path,
/// its tensors and generator; libtorch's global generator is never used. The same items and settings give the same vector.
/// </summary>
public sealed class UserFoldIn
{
    private const int History = 8;

    private readonly float[] _itemRows;   // [items, width]
    private readonly float[]? _itemColumns; // [width, items], dot only
    private readonly float[] _bias;
    private readonly (float[] Weight, float[] Bias, int Inputs, int Outputs, bool Relu)[] _userLayers;
    private readonly (float[] Weight, float[] Bias, int Inputs, int Outputs)[] _head;
    private readonly double[] _start;
    private readonly bool _general;
    private readonly bool _needsCatalogue;
    private readonly bool _needsEmbeddings;

    /// <summary>Copies what folding in needs from <paramref name="model"/> (on any device); the model may be disposed after.</summary>
    public UserFoldIn(TwoTowerModel model, FoldInSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.L2, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxIterations, 1, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.SampledLists, 1, nameof(settings));
        Settings = settings;
        bool training = model.training;
        model.eval(); // no dropout in the stored item side
        try
        {
            using var mode = inference_mode();
            using var scope = NewDisposeScope();
            Device device = model.parameters().First().device;
            using Scalar itemCount = model.ItemCount.ToScalar();
            Tensor all = arange(Scalars.IntZero, itemCount, Scalars.IntOne, dtype: ScalarType.Int64, device: device);
            Tensor items = model.ItemVectors(all).to(CPU).contiguous();
            _itemRows = items.data<float>().ToArray();
            Width = (int)items.shape[1];
            _bias = model.ItemBiases(all).to(CPU).contiguous().data<float>().ToArray();
        }
        finally
        {
            model.train(training);
        }
        ItemCount = model.ItemCount;
        EmbeddingDim = model.Options.EmbeddingDim;
        _userLayers = [.. model.UserSideLayers()];
        _head = [.. model.HeadLayers()];
        if (_head.Length == 0)
        {
            _itemColumns = new float[_itemRows.Length];
            for (int i = 0; i < ItemCount; i++)
            {
                for (int k = 0; k < Width; k++)
                {
                    _itemColumns[(k * ItemCount) + i] = _itemRows[(i * Width) + k];
                }
            }
        }
        float[] users = model.UserEmbeddings();
        _start = new double[EmbeddingDim];
        int userCount = Math.Max(1, users.Length / EmbeddingDim);
        for (int u = 0; u < users.Length / EmbeddingDim; u++)
        {
            for (int k = 0; k < EmbeddingDim; k++)
            {
                _start[k] += users[(u * EmbeddingDim) + k] / (double)userCount;
            }
        }
        _general = settings.GeneralPath || settings.Loss is not (LossKind.Softmax or LossKind.ListMle or LossKind.ListNet);
        LossNeeds needs = LossRegistry.Create(settings.Loss, settings.Training).Needs;
        _needsCatalogue = needs.HasFlag(LossNeeds.Catalogue);
        _needsEmbeddings = needs.HasFlag(LossNeeds.Embeddings);
    }

    /// <summary>The fold-in a trained run implies: its loss and options, λ = wd × lists (see <see cref="FoldInSettings.FromTraining"/>).</summary>
    public static UserFoldIn FromTraining(TwoTowerModel model, Training.TrainingOptions training, int? trainingLists = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new UserFoldIn(model, FoldInSettings.FromTraining(training, model.UserCount, model.ItemCount, trainingLists));
    }

    public FoldInSettings Settings { get; }

    public int ItemCount { get; }

    /// <summary>Length of <see cref="FoldInResult.UserVector"/> (the scorer's <see cref="PrecomputedScorer.Width"/>).</summary>
    public int Width { get; }

    /// <summary>Length of <see cref="FoldInResult.Embedding"/>.</summary>
    public int EmbeddingDim { get; }

    /// <summary>
    /// The user vector the trained loss prefers for these interactions (dense item indices, any order, the last ones the
    /// most recent; a repeated item counts once, with its last value). Thread-safe.
    /// </summary>
    /// <exception cref="ArgumentException">No items, or a value that is not a finite number.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An item index outside the catalogue.</exception>
    public FoldInResult Fold(IReadOnlyList<FoldInItem> items)
    {
        FoldInProblem problem = Prepare(items);
        var work = new Workspace(this, problem);
        double[] x = (double[])_start.Clone();
        (double objective, int iterations, bool converged) = Minimise(problem, work, x);
        float[] embedding = Array.ConvertAll(x, v => (float)v);
        ForwardUser(x, work); // the last evaluation may have been a rejected trial step
        return new FoldInResult([.. work.User], embedding, objective, iterations, converged);
    }

    /// <summary>The lists and targets of one call (internal for tests: they evaluate the same objective).</summary>
    internal FoldInProblem Prepare(IReadOnlyList<FoldInItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            throw new ArgumentException("Folding in needs at least one item.", nameof(items));
        }
        // Last occurrence wins; order = order of last occurrence (the most recent last, as a train history).
        var last = new Dictionary<int, int>();
        for (int n = 0; n < items.Count; n++)
        {
            FoldInItem it = items[n];
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)it.Item, (uint)ItemCount, nameof(items));
            if (it.Value is { } v && !float.IsFinite(v))
            {
                throw new ArgumentException($"The value of item {it.Item} is not a finite number.", nameof(items));
            }
            last[it.Item] = n;
        }
        int[] order = [.. last.Values.Order()];
        int[] given = [.. order.Select(n => items[n].Item)];
        float[] labels = [.. order.Select(n => Math.Max(0f, items[n].Value ?? 1f))];
        int keep = Math.Min(given.Length, Math.Max(1, Settings.Training.MaxListSize));
        int[] listItems = given[^keep..];
        float[] listLabels = labels[^keep..];

        var positives = new List<int>();
        for (int i = 0; i < listItems.Length; i++)
        {
            if (listLabels[i] > 0)
            {
                positives.Add(listItems[i]);
            }
        }
        double weight = Settings.Training.SoftmaxReduction == SoftmaxReduction.Sum || positives.Count == 0 ? 1 : 1.0 / positives.Count;

        int[][] lists = [];
        float[][] listTargets = [];
        if (Settings.Loss != LossKind.Softmax || _general)
        {
            var rng = new Random(Settings.Seed);
            var seen = new HashSet<int>(given);
            int negatives = seen.Count >= ItemCount ? 0 : Math.Min(Settings.Training.NegativesPerList, ItemCount);
            lists = new int[Settings.SampledLists][];
            listTargets = new float[Settings.SampledLists][];
            for (int r = 0; r < lists.Length; r++)
            {
                var entries = new (int Item, float Label, double Tie)[keep + negatives];
                for (int i = 0; i < keep; i++)
                {
                    entries[i] = (listItems[i], listLabels[i], rng.NextDouble());
                }
                for (int i = 0; i < negatives; i++)
                {
                    int item;
                    do
                    {
                        item = rng.Next(ItemCount);
                    }
                    while (seen.Contains(item));
                    entries[keep + i] = (item, 0f, rng.NextDouble());
                }
                // Label order with random ties: the Plackett-Luce order ListMLE scores (the others ignore the order).
                Array.Sort(entries, static (a, b) => a.Label != b.Label ? b.Label.CompareTo(a.Label) : a.Tie.CompareTo(b.Tie));
                lists[r] = [.. entries.Select(e => e.Item)];
                listTargets[r] = [.. entries.Select(e => e.Label)];
            }
        }
        bool[]? needed = null;
        if (_head.Length > 0 && !_needsCatalogue)
        {
            needed = new bool[ItemCount];
            foreach (int[] list in lists)
            {
                foreach (int item in list)
                {
                    needed[item] = true;
                }
            }
        }
        return new FoldInProblem([.. positives], weight, lists, listTargets, needed);
    }

    /// <summary>
    /// The objective at embedding <paramref name="e"/> (loss + λ/2 ||e||²) and, when <paramref name="gradient"/> is
    /// given, its gradient. Internal for tests.
    /// </summary>
    internal double Objective(FoldInProblem problem, ReadOnlySpan<double> e, double[]? gradient) =>
        Evaluate(problem, e, gradient, new Workspace(this, problem), valueOnly: gradient is null);

    private double Evaluate(FoldInProblem p, ReadOnlySpan<double> e, double[]? gradient, Workspace w, bool valueOnly)
    {
        ForwardUser(e, w);
        ScoreItems(p, w);
        Array.Clear(w.Coefficients);
        Array.Clear(w.UserGradient);
        double loss = _general ? GeneralLoss(p, w) : Settings.Loss switch
        {
            LossKind.Softmax => SoftmaxObjective(p, w),
            LossKind.ListMle => ListMleObjective(p, w),
            _ => ListNetObjective(p, w),
        };
        double penalty = 0;
        foreach (double v in e)
        {
            penalty += v * v;
        }
        double value = loss + (0.5 * Settings.L2 * penalty);
        if (valueOnly || gradient is null)
        {
            return value;
        }
        UserGradientFromScores(p, w);
        BackwardUser(w, gradient);
        for (int k = 0; k < e.Length; k++)
        {
            gradient[k] += Settings.L2 * e[k];
        }
        return value;
    }

    private void ForwardUser(ReadOnlySpan<double> e, Workspace w)
    {
        double[] x = w.Input;
        e.CopyTo(x);
        for (int l = 0; l < _userLayers.Length; l++)
        {
            (float[] weight, float[] bias, int inputs, int outputs, bool relu) = _userLayers[l];
            double[] z = w.Layer[l];
            double[] a = w.Activation[l];
            double[] input = l == 0 ? x : w.Activation[l - 1];
            for (int o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                int row = o * inputs;
                for (int i = 0; i < inputs; i++)
                {
                    sum += weight[row + i] * input[i];
                }
                z[o] = sum;
                a[o] = relu ? Math.Max(0, sum) : sum;
            }
        }
        double[] top = _userLayers.Length == 0 ? x : w.Activation[^1];
        for (int k = 0; k < Width; k++)
        {
            w.User[k] = (float)top[k];
        }
    }

    private void BackwardUser(Workspace w, double[] gradient)
    {
        double[] delta = w.UserGradient;
        for (int l = _userLayers.Length - 1; l >= 0; l--)
        {
            (float[] weight, _, int inputs, int outputs, bool relu) = _userLayers[l];
            double[] below = w.Delta[l];
            Array.Clear(below);
            for (int o = 0; o < outputs; o++)
            {
                double d = relu && w.Layer[l][o] <= 0 ? 0 : delta[o];
                if (d == 0)
                {
                    continue;
                }
                int row = o * inputs;
                for (int i = 0; i < inputs; i++)
                {
                    below[i] += weight[row + i] * d;
                }
            }
            delta = below;
        }
        Array.Copy(delta, gradient, EmbeddingDim);
    }

    private void ScoreItems(FoldInProblem p, Workspace w)
    {
        Span<float> s = w.Scores;
        if (_itemColumns is not null)
        {
            _bias.CopyTo(s);
            for (int k = 0; k < Width; k++)
            {
                TensorPrimitives.MultiplyAdd(_itemColumns.AsSpan(k * ItemCount, ItemCount), w.User[k], s, s);
            }
            return;
        }
        for (int i = 0; i < ItemCount; i++)
        {
            if (p.Needed is null || p.Needed[i])
            {
                s[i] = HeadForward(i, w) + _bias[i];
            }
        }
    }

    /// <summary>The concat-mlp head for item i; keeps every layer's pre-activation in the workspace for the backward pass.</summary>
    private float HeadForward(int item, Workspace w)
    {
        Span<float> h = w.HeadInput;
        TensorPrimitives.Add(w.User, _itemRows.AsSpan(item * Width, Width), h);
        ReadOnlySpan<float> a = w.HeadRelu;
        TensorPrimitives.Max(h, 0f, w.HeadRelu);
        for (int l = 0; l < _head.Length; l++)
        {
            (float[] weight, float[] bias, int inputs, int outputs) = _head[l];
            float[] z = w.HeadLayer[l];
            for (int o = 0; o < outputs; o++)
            {
                z[o] = TensorPrimitives.Dot(weight.AsSpan(o * inputs, inputs), a) + bias[o];
            }
            if (l < _head.Length - 1)
            {
                float[] next = w.HeadActivation[l];
                TensorPrimitives.Max(z, 0f, next);
                a = next;
            }
        }
        return w.HeadLayer[^1][0];
    }

    /// <summary>∂J/∂u = Σ_i c_i ∂s_i/∂u (+ any direct part already in UserGradient), c = ∂L/∂s in Coefficients.</summary>
    private void UserGradientFromScores(FoldInProblem p, Workspace w)
    {
        double[] gu = w.UserGradient;
        if (_itemColumns is not null)
        {
            for (int k = 0; k < Width; k++)
            {
                gu[k] += TensorPrimitives.Dot(_itemColumns.AsSpan(k * ItemCount, ItemCount), w.Coefficients);
            }
            return;
        }
        Span<float> acc = w.HeadAccumulator;
        acc.Clear();
        for (int i = 0; i < ItemCount; i++)
        {
            float c = w.Coefficients[i];
            if (c == 0 || (p.Needed is not null && !p.Needed[i]))
            {
                continue;
            }
            HeadForward(i, w);
            // Back through the head: δ at the last layer's output is c; each layer maps δ to its input, then the ReLU
            // in front of it masks it (the first layer's input is relu(u + v_i)).
            float[] delta = w.HeadDeltaA;
            float[] below = w.HeadDeltaB;
            delta[0] = c;
            for (int l = _head.Length - 1; l >= 0; l--)
            {
                (float[] weight, _, int inputs, int outputs) = _head[l];
                Span<float> into = below.AsSpan(0, inputs);
                into.Clear();
                for (int o = 0; o < outputs; o++)
                {
                    if (delta[o] != 0)
                    {
                        TensorPrimitives.MultiplyAdd(weight.AsSpan(o * inputs, inputs), delta[o], into, into);
                    }
                }
                float[] pre = l == 0 ? w.HeadInput : w.HeadLayer[l - 1];
                for (int j = 0; j < inputs; j++)
                {
                    if (pre[j] <= 0)
                    {
                        into[j] = 0;
                    }
                }
                (delta, below) = (below, delta);
            }
            TensorPrimitives.Add(acc, delta.AsSpan(0, Width), acc);
        }
        for (int k = 0; k < Width; k++)
        {
            gu[k] += acc[k];
        }
    }

    /// <summary>Σ_P w (LSE(s) − s_i) over the catalogue; c_j = W p_j − w [j ∈ P].</summary>
    private static double SoftmaxObjective(FoldInProblem p, Workspace w)
    {
        if (p.Positives.Length == 0)
        {
            return 0;
        }
        ReadOnlySpan<float> s = w.Scores;
        Span<float> c = w.Coefficients;
        // One SIMD pass each: exp(s − max), its sum, then c = W p (the catalogue's softmax times the positives' weight).
        float max = TensorPrimitives.Max(s);
        TensorPrimitives.Subtract(s, max, c);
        TensorPrimitives.Exp(c, c);
        double sum = TensorPrimitives.Sum<float>(c);
        double lse = max + Math.Log(sum);
        double total = p.Weight * p.Positives.Length;
        TensorPrimitives.Multiply(c, (float)(total / sum), c);
        double loss = 0;
        foreach (int i in p.Positives)
        {
            loss += p.Weight * (lse - s[i]);
            w.Coefficients[i] -= (float)p.Weight;
        }
        return loss;
    }

    /// <summary>
    /// Plackett-Luce: Σ_i (LSE_{j≥i} s_j − s_i) per list in label order, averaged over the lists. With L_i the suffix
    /// log-sum-exps, ∂/∂s_j = Σ_{i≤j} exp(s_j − L_i) − 1 = exp(s_j − L_j) B_j − 1, B_j = B_{j−1} exp(L_j − L_{j−1}) + 1.
    /// </summary>
    private static double ListMleObjective(FoldInProblem p, Workspace w)
    {
        double loss = 0;
        double scale = 1.0 / p.Lists.Length;
        foreach (int[] list in p.Lists)
        {
            int n = list.Length;
            double[] suffix = w.ListScratch;
            double next = double.NegativeInfinity;
            for (int i = n - 1; i >= 0; i--)
            {
                double s = w.Scores[list[i]];
                next = LogAddExp(s, next);
                suffix[i] = next;
                loss += scale * (next - s);
            }
            double b = 0;
            for (int j = 0; j < n; j++)
            {
                b = j == 0 ? 1 : (b * Math.Exp(suffix[j] - suffix[j - 1])) + 1;
                double grad = (Math.Exp(w.Scores[list[j]] - suffix[j]) * b) - 1;
                w.Coefficients[list[j]] += (float)(scale * grad);
            }
        }
        return loss;
    }

    /// <summary>−Σ t_i log softmax(s)_i per list, t = softmax(labels); ∂/∂s_i = p_i − t_i; averaged over the lists.</summary>
    private static double ListNetObjective(FoldInProblem p, Workspace w)
    {
        double loss = 0;
        double scale = 1.0 / p.Lists.Length;
        for (int r = 0; r < p.Lists.Length; r++)
        {
            int[] list = p.Lists[r];
            float[] labels = p.ListLabels[r];
            double scoreLse = double.NegativeInfinity;
            double labelLse = double.NegativeInfinity;
            for (int i = 0; i < list.Length; i++)
            {
                scoreLse = LogAddExp(scoreLse, w.Scores[list[i]]);
                labelLse = LogAddExp(labelLse, labels[i]);
            }
            for (int i = 0; i < list.Length; i++)
            {
                double target = Math.Exp(labels[i] - labelLse);
                double logP = w.Scores[list[i]] - scoreLse;
                loss -= scale * target * logP;
                w.Coefficients[list[i]] += (float)(scale * (Math.Exp(logP) - target));
            }
        }
        return loss;
    }

    /// <summary>
    /// Any registered loss through its own TorchSharp code on the sampled lists (one batch of R lists of the same user):
    /// list scores, the catalogue's scores and the user vector are leaves, so backward gives ∂L/∂s and ∂L/∂u directly.
    /// Everything here is created and disposed in this call, with a generator seeded per call, so it is deterministic.
    /// </summary>
    private double GeneralLoss(FoldInProblem p, Workspace w)
    {
        IRankingLoss loss = w.Loss ??= LossRegistry.Create(Settings.Loss, Settings.Training);
        int rows = p.Lists.Length;
        int n = p.Lists[0].Length;
        var listScores = new float[rows * n];
        var labels = new float[rows * n];
        var items = new long[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++)
            {
                int item = p.Lists[r][i];
                listScores[(r * n) + i] = w.Scores[item];
                labels[(r * n) + i] = p.ListLabels[r][i];
                items[(r * n) + i] = item;
            }
        }
        using var noInference = inference_mode(false);
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        Tensor scores = tensor(listScores, [rows, n]).requires_grad_(true);
        Tensor itemIndex = tensor(items, [rows, n]);
        var batch = new LossBatch(scores, tensor(labels, [rows, n]), ones([rows, n], ScalarType.Bool)) { Items = itemIndex };
        Tensor? catalogue = null;
        Tensor? user = null;
        if (_needsCatalogue)
        {
            Tensor all = tensor(w.Scores, [1, ItemCount]).requires_grad_(true);
            catalogue = all;
            batch = batch with
            {
                ScoreItems = c => (c is null ? all : all.index_select(1, c)).expand(rows, -1),
                ItemCounts = ones(ItemCount),
            };
        }
        if (_needsEmbeddings)
        {
            user = tensor(w.User, [1, Width]).requires_grad_(true);
            var itemVectors = new float[rows * n * Width];
            for (int j = 0; j < rows * n; j++)
            {
                _itemRows.AsSpan((int)items[j] * Width, Width).CopyTo(itemVectors.AsSpan(j * Width, Width));
            }
            batch = batch with { UserVectors = user.expand(rows, -1), ItemVectors = tensor(itemVectors, [rows, n, Width]) };
        }
        using var generator = new Generator(unchecked((ulong)Settings.Seed), CPU);
        LossOutput output = loss.Compute(batch, generator);
        double value = output.Total.item<float>();
        output.Total.backward();
        // A leaf the loss did not read (triplet reads only the tower outputs) has no gradient.
        if (scores.grad is { } listGrad)
        {
            float[] scoreGrad = listGrad.data<float>().ToArray();
            for (int j = 0; j < scoreGrad.Length; j++)
            {
                w.Coefficients[(int)items[j]] += scoreGrad[j];
            }
        }
        if (catalogue?.grad is { } catalogueGrad)
        {
            TensorPrimitives.Add(w.Coefficients, catalogueGrad.data<float>().ToArray(), w.Coefficients);
        }
        if (user?.grad is { } userGrad)
        {
            float[] direct = userGrad.data<float>().ToArray();
            for (int k = 0; k < Width; k++)
            {
                w.UserGradient[k] += direct[k];
            }
        }
        return value;
    }

    /// <summary>L-BFGS with Armijo backtracking; <paramref name="x"/> holds the start and receives the minimiser.</summary>
    private (double Value, int Iterations, bool Converged) Minimise(FoldInProblem p, Workspace w, double[] x)
    {
        int d = x.Length;
        var g = new double[d];
        var gNew = new double[d];
        var xNew = new double[d];
        var direction = new double[d];
        var s = new double[History][];
        var y = new double[History][];
        var rho = new double[History];
        var alpha = new double[History];
        for (int m = 0; m < History; m++)
        {
            s[m] = new double[d];
            y[m] = new double[d];
        }
        int stored = 0;
        int newest = -1;
        double f = Evaluate(p, x, g, w, valueOnly: false);
        for (int iteration = 0; iteration < Settings.MaxIterations; iteration++)
        {
            if (MaxAbs(g) <= Settings.GradientTolerance * Math.Max(1, MaxAbs(x)))
            {
                return (f, iteration, true);
            }
            // Two-loop recursion: direction = −H g.
            Array.Copy(g, direction, d);
            for (int m = 0; m < stored; m++)
            {
                int k = (newest - m + History) % History;
                alpha[k] = rho[k] * Dot(s[k], direction);
                Axpy(-alpha[k], y[k], direction);
            }
            double gamma = stored > 0 ? Dot(s[newest], y[newest]) / Dot(y[newest], y[newest]) : 1 / Math.Max(1, Norm(g));
            for (int k = 0; k < d; k++)
            {
                direction[k] *= gamma;
            }
            for (int m = stored - 1; m >= 0; m--)
            {
                int k = (newest - m + History) % History;
                double beta = rho[k] * Dot(y[k], direction);
                Axpy(alpha[k] - beta, s[k], direction);
            }
            for (int k = 0; k < d; k++)
            {
                direction[k] = -direction[k];
            }
            double slope = Dot(g, direction);
            if (!(slope < 0))
            {
                // Not a descent direction (curvature lost at a kink): restart from steepest descent.
                stored = 0;
                for (int k = 0; k < d; k++)
                {
                    direction[k] = -g[k] / Math.Max(1, Norm(g));
                }
                slope = Dot(g, direction);
            }
            double step = 1;
            double fNew = double.NaN;
            bool accepted = false;
            for (int tries = 0; tries < 40; tries++)
            {
                for (int k = 0; k < d; k++)
                {
                    xNew[k] = x[k] + (step * direction[k]);
                }
                fNew = Evaluate(p, xNew, gNew, w, valueOnly: false);
                if (double.IsFinite(fNew) && fNew <= f + (1e-4 * step * slope))
                {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (!accepted)
            {
                return (f, iteration, false); // no decrease along a descent direction: at float precision's floor
            }
            newest = (newest + 1) % History;
            for (int k = 0; k < d; k++)
            {
                s[newest][k] = xNew[k] - x[k];
                y[newest][k] = gNew[k] - g[k];
            }
            double sy = Dot(s[newest], y[newest]);
            if (sy > 1e-12)
            {
                rho[newest] = 1 / sy;
                stored = Math.Min(stored + 1, History);
            }
            else
            {
                newest = (newest - 1 + History) % History; // keep the history positive definite
            }
            Array.Copy(xNew, x, d);
            Array.Copy(gNew, g, d);
            double previous = f;
            f = fNew;
            if (previous - f <= 1e-12 * Math.Max(1, Math.Abs(f)))
            {
                return (f, iteration + 1, true);
            }
        }
        return (f, Settings.MaxIterations, false);
    }

    private static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }
        if (double.IsNegativeInfinity(b))
        {
            return a;
        }
        double max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }

    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));

    private static double MaxAbs(double[] a)
    {
        double max = 0;
        foreach (double v in a)
        {
            max = Math.Max(max, Math.Abs(v));
        }
        return max;
    }

    /// <summary>Scratch of one call: nothing here is shared between calls.</summary>
    private sealed class Workspace
    {
        public Workspace(UserFoldIn owner, FoldInProblem problem)
        {
            Input = new double[owner.EmbeddingDim];
            Layer = [.. owner._userLayers.Select(l => new double[l.Outputs])];
            Activation = [.. owner._userLayers.Select(l => new double[l.Outputs])];
            Delta = [.. owner._userLayers.Select(l => new double[l.Inputs])];
            User = new float[owner.Width];
            UserGradient = new double[owner.Width];
            Scores = new float[owner.ItemCount];
            Coefficients = new float[owner.ItemCount];
            ListScratch = new double[problem.Lists.Length == 0 ? 1 : problem.Lists.Max(l => l.Length)];
            HeadInput = new float[owner.Width];
            HeadRelu = new float[owner.Width];
            HeadLayer = [.. owner._head.Select(l => new float[l.Outputs])];
            HeadActivation = [.. owner._head.Select(l => new float[l.Outputs])];
            int widest = owner._head.Length == 0 ? 1 : Math.Max(owner.Width, owner._head.Max(l => Math.Max(l.Inputs, l.Outputs)));
            HeadDeltaA = new float[widest];
            HeadDeltaB = new float[widest];
            HeadAccumulator = new float[owner.Width];
        }

        public double[] Input { get; }
        public double[][] Layer { get; }
        public double[][] Activation { get; }
        public double[][] Delta { get; }
        public float[] User { get; }
        public double[] UserGradient { get; }
        public float[] Scores { get; }
        public float[] Coefficients { get; }
        public double[] ListScratch { get; }
        public float[] HeadInput { get; }
        public float[] HeadRelu { get; }
        public float[][] HeadLayer { get; }
        public float[][] HeadActivation { get; }
        public float[] HeadDeltaA { get; }
        public float[] HeadDeltaB { get; }
        public float[] HeadAccumulator { get; }
        public IRankingLoss? Loss { get; set; }
    }
}

/// <summary>
/// The fixed targets of one fold-in: softmax's positives and their weight, and the sampled lists (item order and labels,
/// label order with random ties) of the other losses; <see cref="Needed"/> marks the items a concat-mlp head must score.
/// </summary>
internal sealed record FoldInProblem(int[] Positives, double Weight, int[][] Lists, float[][] ListLabels, bool[]? Needed);
