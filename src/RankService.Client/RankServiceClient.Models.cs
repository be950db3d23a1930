using System.Text.Json.Nodes;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary><c>GET /models</c>: finished jobs with a checkpoint, newest first, and which one serves each data set.</summary>
    public Task<IReadOnlyList<Model>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<Model>>("models", cancellationToken);

    /// <summary><c>GET /models/{id}</c>: the model with its best checkpoint's manifest.</summary>
    public Task<ModelDetails> GetModelAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<ModelDetails>($"models/{Segment(id)}", cancellationToken);

    /// <summary><c>POST /models/{id}/activate</c> (needs a key): serve this model for its data set.</summary>
    public Task<Model> ActivateModelAsync(string id, CancellationToken cancellationToken = default) =>
        PostAsync<Model>($"models/{Segment(id)}/activate", body: null, cancellationToken);

    /// <summary><c>GET /models/{id}/embeddings</c>: the model's user or item vectors as CSV or NumPy bytes.</summary>
    public async Task<EmbeddingFile> GetEmbeddingsAsync(string id, EmbeddingSide side = EmbeddingSide.Users, EmbeddingFormat format = EmbeddingFormat.Csv,
        CancellationToken cancellationToken = default)
    {
        string sideText = side switch
        {
            EmbeddingSide.Users => "users",
            EmbeddingSide.Items => "items",
            _ => throw new ArgumentOutOfRangeException(nameof(side), side, null),
        };
        string formatText = format switch
        {
            EmbeddingFormat.Csv => "csv",
            EmbeddingFormat.Npy => "npy",
            EmbeddingFormat.IdsNpy => "ids-npy",
            EmbeddingFormat.BiasNpy => "bias-npy",
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
        using HttpResponseMessage response = await SendRawAsync(
            new HttpRequestMessage(HttpMethod.Get, Relative($"models/{Segment(id)}/embeddings?side={sideText}&format={formatText}")), cancellationToken).ConfigureAwait(false);
        byte[] content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddingFile(content, response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream",
            response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }
}

/// <summary>A trained model as <c>GET /models</c> lists it.</summary>
/// <param name="JobId">The job that trained it (also the model's id).</param>
/// <param name="Serving">True when it answers rankings for its data set.</param>
public sealed record Model(
    string JobId,
    string Dataset,
    JobState State,
    bool Serving,
    int BestEpoch,
    IReadOnlyDictionary<string, double>? Validation,
    IReadOnlyDictionary<string, double>? Test,
    IReadOnlyDictionary<string, double>? PopularityTest,
    DateTimeOffset? FinishedAt,
    string Checkpoint);

/// <summary>A model with its best checkpoint's manifest (training config under <c>training</c>, metrics, data fingerprint, file hashes).</summary>
public sealed record ModelDetails(Model Model, IReadOnlyDictionary<string, double>? PopularityValidation, JsonObject Manifest)
{
    /// <summary>The manifest's training config: post it back as <see cref="JobSubmission.Training"/> to retrain.</summary>
    public JsonObject? Training => Manifest["training"] as JsonObject;
}

public enum EmbeddingSide
{
    Users,
    Items,
}

/// <summary>csv (header id,v0,...), npy (float32 n x d), ids-npy (int64 raw ids), bias-npy (float32 item biases).</summary>
public enum EmbeddingFormat
{
    Csv,
    Npy,
    IdsNpy,
    BiasNpy,
}

/// <summary>An exported file: its bytes, content type and suggested file name.</summary>
public sealed record EmbeddingFile(byte[] Content, string ContentType, string? FileName);
