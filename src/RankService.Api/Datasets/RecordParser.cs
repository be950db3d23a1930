using System.Globalization;
using System.Text.Json;

namespace RankService.Api.Datasets;

/// <summary>The first <see cref="Limit"/> problems of a write, and how many records had one.</summary>
public sealed class ProblemCollector
{
    public const int Limit = 100;
    private readonly List<RecordProblem> _first = [];
    private long _lastLine = long.MinValue;

    public IReadOnlyList<RecordProblem> First => _first;

    /// <summary>Records with at least one problem.</summary>
    public long Refused { get; private set; }

    public bool Any => Refused > 0;

    public void Add(long line, string field, string message)
    {
        if (line != _lastLine)
        {
            Refused++;
            _lastLine = line;
        }
        if (_first.Count < Limit)
        {
            _first.Add(new RecordProblem(line, field, message));
        }
    }

    public RecordsRefusedException Refusal(string what) =>
        new(_first, Refused, $"{Refused} {what} refused{(Refused > Limit ? $"; the first {Limit} problems are listed" : "")}; nothing was written.");
}

/// <summary>
/// The one validation of item and feedback records, whether they come as JSON objects (a batch, an NDJSON line) or
/// CSV rows: field names as the client wrote them, each problem with its line and field.
/// </summary>
internal static class RecordParser
{
    public const int MaxIdLength = 256;
    public const int MaxTitleLength = 1000;
    public const int MaxCategories = 100;
    public const int MaxLabelsLength = 16 * 1024;

    public static readonly string[] ItemFields = ["itemId", "title", "categories", "hidden", "timestamp", "labels"];
    public static readonly string[] FeedbackFields = ["userId", "itemId", "type", "value", "timestamp"];

    /// <summary>CSV header aliases, so MovieLens ratings.csv and movies.csv import as they are.</summary>
    public static string? CanonicalColumn(RecordKind kind, string header)
    {
        string h = header.Trim();
        string[] fields = kind == RecordKind.Items ? ItemFields : FeedbackFields;
        foreach (string f in fields)
        {
            if (string.Equals(f, h, StringComparison.OrdinalIgnoreCase))
            {
                return f;
            }
        }
        return h.ToUpperInvariant() switch
        {
            "MOVIEID" => "itemId",
            "RATING" when kind == RecordKind.Feedback => "value",
            "GENRES" when kind == RecordKind.Items => "categories",
            _ => null,
        };
    }

    /// <summary>The type of a record that names none: the data set's only type, when it has exactly one.</summary>
    public static string? ImpliedType(LiveDatasetSettings settings) => settings.Types.Count == 1 ? settings.Types.Keys.First() : null;

    public static LiveFeedback? Feedback(JsonElement e, long line, LiveDatasetSettings settings, ProblemCollector problems)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            problems.Add(line, "", $"A feedback record is a JSON object with {string.Join(", ", FeedbackFields)}; got a {Kind(e)}.");
            return null;
        }
        long before = problems.Refused;
        string? user = null, item = null, type = null;
        double? value = null;
        long? timestamp = null;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "userId":
                    user = Id(JsonText(p, line, problems), line, "userId", problems);
                    break;
                case "itemId":
                    item = Id(JsonText(p, line, problems), line, "itemId", problems);
                    break;
                case "type":
                    type = JsonText(p, line, problems);
                    break;
                case "value":
                    value = p.Value.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.Number when p.Value.TryGetDouble(out double d) && double.IsFinite(d) => d,
                        _ => Fail<double?>(problems, line, "value", $"value takes a finite number; got a {Kind(p.Value)}."),
                    };
                    break;
                case "timestamp":
                    timestamp = JsonTimestamp(p.Value, line, problems);
                    break;
                default:
                    problems.Add(line, Apis.Echo.Of(p.Name), $"Unknown field; a feedback record has {string.Join(", ", FeedbackFields)}.");
                    break;
            }
        }
        return Complete(user, item, type, value, timestamp, line, settings, problems, before);
    }

    public static LiveFeedback? Feedback(IReadOnlyDictionary<string, string> row, long line, LiveDatasetSettings settings, ProblemCollector problems)
    {
        long before = problems.Refused;
        string? user = row.TryGetValue("userId", out string? u) ? Id(u, line, "userId", problems) : null;
        string? item = row.TryGetValue("itemId", out string? i) ? Id(i, line, "itemId", problems) : null;
        string? type = row.TryGetValue("type", out string? t) && t.Length > 0 ? t : null;
        double? value = null;
        if (row.TryGetValue("value", out string? v) && v.Length > 0)
        {
            value = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                ? d
                : Fail<double?>(problems, line, "value", $"value takes a finite number; got '{Apis.Echo.Of(v)}'.");
        }
        long? timestamp = row.TryGetValue("timestamp", out string? ts) && ts.Length > 0 ? TextTimestamp(ts, line, problems) : null;
        return Complete(user, item, type, value, timestamp, line, settings, problems, before);
    }

    private static LiveFeedback? Complete(string? user, string? item, string? type, double? value, long? timestamp,
        long line, LiveDatasetSettings settings, ProblemCollector problems, long before)
    {
        if (user is null && problems.Refused == before)
        {
            problems.Add(line, "userId", "userId is required.");
        }
        if (item is null && problems.Refused == before)
        {
            problems.Add(line, "itemId", "itemId is required.");
        }
        type ??= ImpliedType(settings);
        if (type is null)
        {
            problems.Add(line, "type", $"type is required: the data set declares {string.Join(", ", settings.Types.Keys)}.");
        }
        else if (!settings.Types.ContainsKey(type))
        {
            problems.Add(line, "type", $"Unknown feedback type '{Apis.Echo.Of(type)}'; the data set declares {string.Join(", ", settings.Types.Keys)} (PUT /datasets/{{name}} adds types).");
        }
        else if (type == LiveDatasetSettings.RatingType && value is null && problems.Refused == before)
        {
            problems.Add(line, "value", "A rating needs its value.");
        }
        return problems.Refused == before ? new LiveFeedback(user!, item!, type!, value, timestamp) : null;
    }

    public static LiveItem? Item(JsonElement e, long line, ProblemCollector problems)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            problems.Add(line, "", $"An item is a JSON object with {string.Join(", ", ItemFields)}; got a {Kind(e)}.");
            return null;
        }
        long before = problems.Refused;
        string? id = null, title = null;
        List<string> categories = [];
        bool hidden = false;
        long? timestamp = null;
        JsonElement? labels = null;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "itemId":
                    id = Id(JsonText(p, line, problems), line, "itemId", problems);
                    break;
                case "title":
                    title = p.Value.ValueKind == JsonValueKind.Null ? null : Title(JsonText(p, line, problems), line, problems);
                    break;
                case "categories":
                    if (p.Value.ValueKind == JsonValueKind.Array)
                    {
                        foreach (JsonElement c in p.Value.EnumerateArray())
                        {
                            if (c.ValueKind != JsonValueKind.String)
                            {
                                problems.Add(line, "categories", $"categories holds strings; got a {Kind(c)}.");
                            }
                            else
                            {
                                categories.Add(c.GetString()!);
                            }
                        }
                        Categories(categories, line, problems);
                    }
                    else if (p.Value.ValueKind != JsonValueKind.Null)
                    {
                        problems.Add(line, "categories", $"categories takes an array of strings; got a {Kind(p.Value)}.");
                    }
                    break;
                case "hidden":
                    hidden = p.Value.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False or JsonValueKind.Null => false,
                        _ => Fail<bool>(problems, line, "hidden", $"hidden takes true or false; got a {Kind(p.Value)}."),
                    };
                    break;
                case "timestamp":
                    timestamp = JsonTimestamp(p.Value, line, problems);
                    break;
                case "labels":
                    labels = Labels(p.Value, line, problems);
                    break;
                default:
                    problems.Add(line, Apis.Echo.Of(p.Name), $"Unknown field; an item has {string.Join(", ", ItemFields)}.");
                    break;
            }
        }
        if (id is null && problems.Refused == before)
        {
            problems.Add(line, "itemId", "itemId is required.");
        }
        return problems.Refused == before ? new LiveItem(id!, title, categories, hidden, timestamp, labels) : null;
    }

    public static LiveItem? Item(IReadOnlyDictionary<string, string> row, long line, ProblemCollector problems)
    {
        long before = problems.Refused;
        string? id = row.TryGetValue("itemId", out string? i) ? Id(i, line, "itemId", problems) : null;
        string? title = row.TryGetValue("title", out string? t) && t.Length > 0 ? Title(t, line, problems) : null;
        List<string> categories = [];
        // MovieLens writes "(no genres listed)" for none.
        if (row.TryGetValue("categories", out string? c) && c.Length > 0 && c != "(no genres listed)")
        {
            categories.AddRange(c.Split('|'));
            Categories(categories, line, problems);
        }
        bool hidden = false;
        if (row.TryGetValue("hidden", out string? h) && h.Length > 0)
        {
            hidden = h.ToUpperInvariant() switch
            {
                "TRUE" or "1" => true,
                "FALSE" or "0" => false,
                _ => Fail<bool>(problems, line, "hidden", $"hidden takes true, false, 1 or 0; got '{Apis.Echo.Of(h)}'."),
            };
        }
        long? timestamp = row.TryGetValue("timestamp", out string? ts) && ts.Length > 0 ? TextTimestamp(ts, line, problems) : null;
        JsonElement? labels = null;
        if (row.TryGetValue("labels", out string? l) && l.Length > 0)
        {
            try
            {
                using var doc = JsonDocument.Parse(l);
                labels = Labels(doc.RootElement.Clone(), line, problems);
            }
            catch (JsonException)
            {
                problems.Add(line, "labels", "labels takes a JSON object; the text is not JSON.");
            }
        }
        if (id is null && problems.Refused == before)
        {
            problems.Add(line, "itemId", "itemId is required.");
        }
        return problems.Refused == before ? new LiveItem(id!, title, categories, hidden, timestamp, labels) : null;
    }

    /// <summary>The id when valid; else null with the problem added.</summary>
    public static string? Id(string? id, long line, string field, ProblemCollector problems)
    {
        if (id is null)
        {
            return null;
        }
        string? problem = IdProblem(id, field);
        if (problem is not null)
        {
            problems.Add(line, field, problem);
            return null;
        }
        return id;
    }

    /// <summary>Why <paramref name="id"/> is no valid id; null when it is one.</summary>
    public static string? IdProblem(string id, string field) =>
        id.Length is 0 or > MaxIdLength ? $"{field} is 1 to {MaxIdLength} characters; got {id.Length}."
        : id.Any(char.IsControl) ? $"{field} may not hold control characters."
        : id.Contains('/', StringComparison.Ordinal) ? $"{field} may not hold '/'."
        : null;

    private static string? Title(string? title, long line, ProblemCollector problems)
    {
        if (title is null)
        {
            return null;
        }
        if (title.Length > MaxTitleLength)
        {
            problems.Add(line, "title", $"title is at most {MaxTitleLength} characters; got {title.Length}.");
        }
        else if (title.Any(char.IsControl))
        {
            problems.Add(line, "title", "title may not hold control characters.");
        }
        return title;
    }

    private static void Categories(List<string> categories, long line, ProblemCollector problems)
    {
        if (categories.Count > MaxCategories)
        {
            problems.Add(line, "categories", $"At most {MaxCategories} categories; got {categories.Count}.");
            return;
        }
        foreach (string c in categories)
        {
            if (c.Length is 0 or > MaxIdLength || c.Any(char.IsControl))
            {
                problems.Add(line, "categories", $"A category is 1 to {MaxIdLength} characters without control characters; got '{Apis.Echo.Of(c)}'.");
                return;
            }
        }
    }

    private static JsonElement? Labels(JsonElement value, long line, ProblemCollector problems)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add(line, "labels", $"labels takes a JSON object; got a {Kind(value)}.");
            return null;
        }
        if (value.GetRawText().Length > MaxLabelsLength)
        {
            problems.Add(line, "labels", $"labels is at most {MaxLabelsLength} characters of JSON.");
            return null;
        }
        return value.Clone();
    }

    private static string? JsonText(JsonProperty p, long line, ProblemCollector problems)
    {
        if (p.Value.ValueKind == JsonValueKind.String)
        {
            return p.Value.GetString();
        }
        if (p.Value.ValueKind != JsonValueKind.Null)
        {
            problems.Add(line, p.Name, $"{p.Name} takes a string; got a {Kind(p.Value)}.");
        }
        return null;
    }

    private static long? JsonTimestamp(JsonElement value, long line, ProblemCollector problems) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetInt64(out long s) => Seconds(s, line, problems),
        JsonValueKind.String => TextTimestamp(value.GetString()!, line, problems),
        _ => Fail<long?>(problems, line, "timestamp", $"timestamp takes Unix seconds (a whole number) or an ISO 8601 text; got {(value.ValueKind == JsonValueKind.Number ? "a fraction" : "a " + Kind(value))}."),
    };

    /// <summary>Unix seconds ("881250949") or ISO 8601 ("2024-05-01T12:00:00Z"; no zone means UTC).</summary>
    public static long? TextTimestamp(string text, long line, ProblemCollector problems)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds))
        {
            return Seconds(seconds, line, problems);
        }
        if (text.Length >= 10 && text[4] == '-' && text[7] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
        {
            return at.ToUnixTimeSeconds();
        }
        problems.Add(line, "timestamp", $"timestamp takes Unix seconds or an ISO 8601 time such as 2024-05-01T12:00:00Z; got '{Apis.Echo.Of(text)}'.");
        return null;
    }

    private static long? Seconds(long seconds, long line, ProblemCollector problems)
    {
        if (seconds < DateTimeOffset.MinValue.ToUnixTimeSeconds() || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            problems.Add(line, "timestamp", $"timestamp {seconds} is outside the years 1 to 9999.");
            return null;
        }
        return seconds;
    }

    private static T Fail<T>(ProblemCollector problems, long line, string field, string message)
    {
        problems.Add(line, field, message);
        return default!;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
