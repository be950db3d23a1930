using System.Text.Json.Serialization;
using RankService.Api.Serving;

namespace RankService.Api.Tests.Serving;

public sealed class RankedItemJsonConverterTests
{
    private static readonly RankedItem[] Items =
    [
        new(1, "405", 405, "Mission: Impossible (1996)", 0.19739854f),
        new(2, "sku-ä/\"quoted\"", null, "Title with <script>&'\u00e9\u4e2d\u0001\ud83d\ude00", -0f),
        new(3, "", long.MinValue, "", float.Epsilon),
        new(4, "x", 0, "t", float.MaxValue),
        new(5, "nan", 7, "t", float.NaN),
        new(6, "inf", 8, "t", float.PositiveInfinity),
        new(7, "-inf", null, "t", float.NegativeInfinity),
    ];

    /// <summary>The service's settings that shape a ranked item on the wire (web names, named literals for non-finite numbers).</summary>
    private static JsonSerializerOptions Options(bool withConverter)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        if (withConverter)
        {
            options.Converters.Add(new RankedItemJsonConverter());
        }
        return options;
    }

    [Fact]
    public void Writes_every_item_exactly_as_the_serializer_would()
    {
        JsonSerializerOptions plain = Options(withConverter: false), fast = Options(withConverter: true);
        foreach (RankedItem item in Items)
        {
            Assert.Equal(JsonSerializer.Serialize(item, plain), JsonSerializer.Serialize(item, fast));
        }
        // In a list and inside an answer, as the endpoints write them.
        Assert.Equal(JsonSerializer.Serialize(Items, plain), JsonSerializer.Serialize(Items, fast));
        var answer = new RankingResponse("7", "ml-100k", "job", 7, false, Items, Offset: 3, Source: "popular", Approximate: true);
        Assert.Equal(JsonSerializer.Serialize(answer, plain), JsonSerializer.Serialize(answer, fast));
        Assert.DoesNotContain("movieId", JsonSerializer.Serialize(Items[1], fast), StringComparison.Ordinal);
    }

    private static readonly JsonSerializerOptions Pascal = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private static readonly JsonSerializerOptions PascalFast = new(Pascal) { Converters = { new RankedItemJsonConverter() } };

    [Fact]
    public void Follows_the_naming_policy_of_the_options_it_writes_with()
    {
        JsonSerializerOptions pascal = Pascal, pascalFast = PascalFast;
        Assert.Equal(JsonSerializer.Serialize(Items[0], pascal), JsonSerializer.Serialize(Items[0], pascalFast));
        Assert.StartsWith("{\"Rank\":1,\"ItemId\":\"405\"", JsonSerializer.Serialize(Items[0], pascalFast), StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_to_read_an_item()
    {
        JsonSerializerOptions fast = Options(withConverter: true);
        Assert.Throws<NotSupportedException>(() => JsonSerializer.Deserialize<RankedItem>("{\"rank\":1}", fast));
    }
}
