using TorchSharp;
using TorchSharp.Modules;
using RankService.Ranking.Training;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RankService.Ranking.Model;

/// <summary>
/// Two-tower recommender. Each side is an ID embedding followed by zero or more MLP layers.
/// <list type="bullet">
/// <item><c>dot</c>: score(u, i) = f(u) . g(i) + b_i, where f and g are the user and item towers.</item>
/// <item><c>concat-mlp</c>: score(u, i) = MLP([e_u ; e_i]) + b_i. The first layer W [e_u ; e_i] is computed as
/// W_u e_u + W_i e_i, so the item half can be computed once per distinct item (and once per model for serving).</item>
/// </list>
/// Forward: users [lists] (long), items [lists, positions] (long) to scores [lists, positions].
/// Field names are state-dict keys: renaming one breaks every saved checkpoint.
/// Every random draw (initialisation, dropout masks) comes from generators the caller owns, never from libtorch's
/// process-global generator, so two models trained side by side in one process do not change each other.
/// </summary>
public sealed class TwoTowerModel : Module<Tensor, Tensor, Tensor>
{

    private readonly Embedding user_embedding;
    private readonly Embedding item_embedding;
    private readonly Sequential user_tower;
    private readonly Sequential item_tower;
    private readonly LinearLayer? head_user;
    private readonly LinearLayer? head_item;
    private readonly Sequential? head_rest;
    private readonly Embedding? item_bias;

    /// <param name="userCount">Rows of the user embedding table.</param>
    /// <param name="itemCount">Rows of the item embedding table.</param>
    /// <param name="options">Head, dimensions, towers.</param>
    /// <param name="sparseGradients">
    /// Embedding tables (and item biases) get sparse gradients holding only the rows a batch used, for lazy optimiser
    /// updates on large catalogues (<see cref="Training.TrainingOptions.EmbeddingUpdates"/>); the maths is unchanged.
    /// </param>
    /// <param name="init">
    /// Draws the initial weights (a CPU generator; the trainer seeds it from the run's seed). Without one, a generator
    /// seeded with 0: for a model whose weights are about to be loaded, or a test.
    /// </param>
    public TwoTowerModel(int userCount, int itemCount, ModelOptions options, bool sparseGradients = false, Generator? init = null) : base(nameof(TwoTowerModel))
    {
        WireNames.ThrowIfUndefined(options.Head, "head", nameof(options));
        Options = options;
        UserCount = userCount;
        ItemCount = itemCount;
        int dim = options.EmbeddingDim;
        SparseGradients = sparseGradients;
        using Generator? fallback = init is null ? new Generator(0, CPU) : null;
        Generator generator = init ?? fallback!;
        // Small initial vectors: N(0, 1) embeddings give dot products of size ~dim and saturate every loss.
        user_embedding = Table(empty(userCount, dim).normal_(0, 0.1, generator), sparseGradients);
        item_embedding = Table(empty(itemCount, dim).normal_(0, 0.1, generator), sparseGradients);

        bool dot = options.Head == ScoringHead.Dot;
        user_tower = Tower(dim, dot ? options.HiddenSizes : [], options.Dropout, generator);
        item_tower = Tower(dim, dot ? options.HiddenSizes : [], options.Dropout, generator);
        if (!dot)
        {
            int hidden = options.HiddenSizes.Count > 0 ? options.HiddenSizes[0] : dim;
            head_user = new LinearLayer(dim, hidden, generator);
            head_item = new LinearLayer(dim, hidden, generator, hasBias: false);
            var rest = new List<Module<Tensor, Tensor>> { ReLU() };
            if (options.Dropout > 0)
            {
                rest.Add(new GeneratorDropout(options.Dropout));
            }
            int width = hidden;
            foreach (int size in options.HiddenSizes.Skip(1))
            {
                rest.Add(new LinearLayer(width, size, generator));
                rest.Add(ReLU());
                width = size;
            }
            rest.Add(new LinearLayer(width, 1, generator));
            head_rest = Sequential(rest);
        }
        if (options.ItemBias)
        {
            item_bias = Table(zeros(itemCount, 1), sparseGradients);
        }
        RegisterComponents();
    }

    /// <summary>
    /// Draws every dropout mask in training from <paramref name="generator"/> (the trainer's per-epoch generator, on
    /// the model's device); not owned. Training with dropout and no generator throws. Null clears it.
    /// </summary>
    public void UseDropoutGenerator(Generator? generator)
    {
        foreach (GeneratorDropout dropout in modules().OfType<GeneratorDropout>())
        {
            dropout.Generator = generator;
        }
    }

    public ModelOptions Options { get; }

    /// <summary>Whether the embedding tables produce sparse gradients (see the constructor).</summary>
    public bool SparseGradients { get; }
    public int UserCount { get; }
    public int ItemCount { get; }

    /// <summary>User-side representation: the tower output (dot) or W_u e_u + b (concat-mlp). Shape [users, d].</summary>
    public Tensor UserVectors(Tensor users)
    {
        Tensor tower = user_tower.forward(user_embedding.forward(users));
        return head_user is null ? tower : head_user.forward(tower);
    }

    /// <summary>Item-side representation: the tower output (dot) or W_i e_i (concat-mlp). Shape [..., d].</summary>
    public Tensor ItemVectors(Tensor items)
    {
        Tensor tower = item_tower.forward(item_embedding.forward(items));
        return head_item is null ? tower : head_item.forward(tower);
    }

    /// <summary>Per-item bias, shape like <paramref name="items"/>; zeros when the model has none.</summary>
    public Tensor ItemBiases(Tensor items) =>
        item_bias is null ? zeros(items.shape, device: items.device) : item_bias.forward(items).squeeze(-1);

    /// <summary>
    /// Scores from precomputed sides. <paramref name="user"/> [lists, d], <paramref name="item"/> [lists, n, d] or
    /// [n, d] (shared by every list, e.g. the full catalogue); <paramref name="bias"/> broadcastable to [lists, n].
    /// </summary>
    public Tensor Combine(Tensor user, Tensor item, Tensor bias)
    {
        Tensor scores;
        if (head_rest is null)
        {
            scores = item.dim() == 2 ? user.matmul(item.t()) : item.bmm(user.unsqueeze(2)).squeeze(2);
        }
        else
        {
            Tensor first = item.dim() == 2 ? user.unsqueeze(1).add(item.unsqueeze(0), Losses.Scalars.One) : user.unsqueeze(1).add(item, Losses.Scalars.One);
            scores = head_rest.forward(first).squeeze(-1);
        }
        // Tensor + Tensor passes an implicit alpha Scalar that only the finalizer frees (a rare native crash
        // mid-run, seen in long sweeps); a cached one stays alive.
        return scores.add(bias, Losses.Scalars.One);
    }

    /// <summary>
    /// The concat-mlp head after its first layer, as plain arrays for the serving fast path: each layer's weight
    /// [out, in] row-major and bias [out]. Applied as h = relu(first); then h = relu(W h + b) for every layer but
    /// the last, and score = W h + b (out = 1) for the last. Empty for the dot head. Dropout is the identity in eval.
    /// </summary>
    public IReadOnlyList<(float[] Weight, float[] Bias, int Inputs, int Outputs)> HeadLayers()
    {
        if (head_rest is null)
        {
            return [];
        }
        var layers = new List<(float[], float[], int, int)>();
        // Keeps detach()'s and to()'s intermediates reachable until copied out (see AdamOptimizer.Save).
        using var scope = NewDisposeScope();
        foreach (Module<Tensor, Tensor> module in head_rest.children().OfType<Module<Tensor, Tensor>>())
        {
            if (module is LinearLayer linear)
            {
                Tensor w = linear.Weight.detach().to(CPU).contiguous();
                Tensor b = linear.Bias!.detach().to(CPU).contiguous();
                layers.Add((w.data<float>().ToArray(), b.data<float>().ToArray(), (int)w.shape[1], (int)w.shape[0]));
            }
        }
        return layers;
    }

    /// <summary>
    /// The user side after the embedding as plain arrays, for folding in new users (<see cref="UserFoldIn"/>): each
    /// affine layer's weight [out, in] row-major, bias [out] (zeros when it has none) and whether a ReLU follows it.
    /// <see cref="UserVectors"/> is these layers applied in order to the embedding; empty when it is the embedding itself.
    /// </summary>
    public IReadOnlyList<(float[] Weight, float[] Bias, int Inputs, int Outputs, bool Relu)> UserSideLayers()
    {
        var linears = user_tower.children().OfType<LinearLayer>().ToList();
        if (head_user is not null)
        {
            linears.Add(head_user);
        }
        int towerLayers = linears.Count - (head_user is null ? 0 : 1);
        var layers = new List<(float[], float[], int, int, bool)>();
        using var scope = NewDisposeScope();
        for (int i = 0; i < linears.Count; i++)
        {
            Tensor w = linears[i].Weight.detach().to(CPU).contiguous();
            int outputs = (int)w.shape[0];
            float[] bias = linears[i].Bias is { } b ? b.detach().to(CPU).contiguous().data<float>().ToArray() : new float[outputs];
            // The tower puts a ReLU between its own layers only (see Tower); the head's user half is affine.
            layers.Add((w.data<float>().ToArray(), bias, (int)w.shape[1], outputs, i < towerLayers - 1));
        }
        return layers;
    }

    /// <summary>The user embedding table [users, d] as a row-major array.</summary>
    public float[] UserEmbeddings()
    {
        using var scope = NewDisposeScope();
        return user_embedding.weight!.detach().to(CPU).contiguous().data<float>().ToArray();
    }

    public override Tensor forward(Tensor users, Tensor items)
    {
        if (head_item is null && Options.HiddenSizes.Count == 0)
        {
            return Combine(UserVectors(users), ItemVectors(items), ItemBiases(items));
        }
        // Each distinct item in the batch goes through the item tower once, then is gathered into the lists.
        (Tensor unique, Tensor? inverse, Tensor? _) = items.unique(sorted: false, return_inverse: true);
        // index_select, not t[inverse]: the backward of advanced indexing is index_put_ with accumulate, which libtorch
        // runs on CPU with parallel atomic float adds above 32768 elements, so the sums (and the model's last bits)
        // changed from run to run. index_select's backward, index_add_, adds in a fixed order.
        Tensor flat = inverse!.flatten();
        Tensor itemSide = ItemVectors(unique).index_select(0, flat).view([.. items.shape, -1]);
        Tensor bias = ItemBiases(unique).index_select(0, flat).view(items.shape);
        return Combine(UserVectors(users), itemSide, bias);
    }

    /// <summary>
    /// An embedding table holding <paramref name="weights"/>. TorchSharp's Embedding initialises its table from the
    /// global generator; an empty one draws nothing, and the weights replace it (same state-dict key, <c>weight</c>).
    /// </summary>
    private static Embedding Table(Tensor weights, bool sparseGradients)
    {
        Embedding table = Embedding(0, weights.shape[1], sparse: sparseGradients);
        table.weight = new Parameter(weights);
        return table;
    }

    private static Sequential Tower(int dim, IReadOnlyList<int> hidden, double dropout, Generator generator)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int width = dim;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(new LinearLayer(width, hidden[i], generator));
            width = hidden[i];
            if (i < hidden.Count - 1)
            {
                layers.Add(ReLU());
                if (dropout > 0)
                {
                    layers.Add(new GeneratorDropout(dropout));
                }
            }
        }
        if (layers.Count == 0)
        {
            layers.Add(Identity());
        }
        return Sequential(layers);
    }
}
