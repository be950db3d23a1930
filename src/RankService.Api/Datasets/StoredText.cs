using System.Text.Json;

namespace RankService.Api.Datasets;

/// <summary>How settings, categories and labels are kept in a text column (the same in both stores).</summary>
internal static class StoredText
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Settings(LiveDatasetSettings settings) =>
        JsonSerializer.Serialize(new LiveDatasetSettings(settings.Types, settings.CreatesItems), Json);

    public static LiveDatasetSettings Settings(string text) =>
        JsonSerializer.Deserialize<LiveDatasetSettings>(text, Json) ?? LiveDatasetSettings.Default;

    public static string? Categories(IReadOnlyList<string> categories) =>
        categories.Count == 0 ? null : JsonSerializer.Serialize(categories, Json);

    public static IReadOnlyList<string> Categories(string? text) =>
        text is null ? [] : JsonSerializer.Deserialize<string[]>(text, Json) ?? [];

    public static string? Labels(JsonElement? labels) => labels?.GetRawText();

    public static JsonElement? Labels(string? text)
    {
        if (text is null)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
