using System.Text.Json;
using System.Text.Json.Serialization;

namespace RankService.Api.Serving;

/// <summary>
/// Writes a <see cref="RankedItem"/> field by field, as the serializer would (names by the options' naming policy,
/// <c>movieId</c> left out when null, a non-finite score as the named literal the options allow), without the
/// serializer's per-property machinery: every ranking answer holds k of them, and at 20,000 answers a second that
/// machinery is a measurable share of a ranking's cost (bench/RESULTS.md, "Plain ranking"). Ranked items are only
/// ever written; reading one is refused.
/// </summary>
public sealed class RankedItemJsonConverter : JsonConverter<RankedItem>
{
    private Names? _names;

    public override RankedItem Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Ranked items are answers of the service, never read from a request.");

    public override void Write(Utf8JsonWriter writer, RankedItem value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        Names names = _names is { } n && ReferenceEquals(n.Policy, options.PropertyNamingPolicy) ? n : _names = new Names(options.PropertyNamingPolicy);
        writer.WriteStartObject();
        writer.WriteNumber(names.Rank, value.Rank);
        writer.WriteString(names.ItemId, value.ItemId);
        if (value.MovieId is { } movieId)
        {
            writer.WriteNumber(names.MovieId, movieId);
        }
        writer.WriteString(names.Title, value.Title);
        if (float.IsFinite(value.Score))
        {
            writer.WriteNumber(names.Score, value.Score);
        }
        else
        {
            // What the serializer writes under JsonNumberHandling.AllowNamedFloatingPointLiterals (the service's options).
            writer.WritePropertyName(names.Score);
            JsonSerializer.Serialize(writer, value.Score, options);
        }
        writer.WriteEndObject();
    }

    /// <summary>The property names under one naming policy, encoded once.</summary>
    private sealed class Names(JsonNamingPolicy? policy)
    {
        public JsonNamingPolicy? Policy { get; } = policy;
        public JsonEncodedText Rank { get; } = Encode(policy, nameof(RankedItem.Rank));
        public JsonEncodedText ItemId { get; } = Encode(policy, nameof(RankedItem.ItemId));
        public JsonEncodedText MovieId { get; } = Encode(policy, nameof(RankedItem.MovieId));
        public JsonEncodedText Title { get; } = Encode(policy, nameof(RankedItem.Title));
        public JsonEncodedText Score { get; } = Encode(policy, nameof(RankedItem.Score));

        private static JsonEncodedText Encode(JsonNamingPolicy? policy, string name) => JsonEncodedText.Encode(policy?.ConvertName(name) ?? name);
    }
}
