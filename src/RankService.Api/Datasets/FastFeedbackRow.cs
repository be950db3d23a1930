using System.Globalization;

namespace RankService.Api.Datasets;

/// <summary>
/// The import's hot path for feedback CSV: a line without quotes whose every field is valid becomes its record
/// without a string per field; ids are kept once per import (an id seen before is valid, and is the same string, so the
/// store's key lookups hash one instance). Any line it is not sure of goes the general way, which gives the same record
/// or names its problems, so both paths accept and refuse exactly the same lines.
/// </summary>
internal sealed class FastFeedbackRow
{
    private readonly int _fields;
    private readonly int _user = -1, _item = -1, _type = -1, _value = -1, _timestamp = -1;
    private readonly string[] _types;
    private readonly string? _implied;
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _idLookup;
    private readonly Range[] _ranges;

    public FastFeedbackRow(string[] columns, LiveDatasetSettings settings)
    {
        _fields = columns.Length;
        _ranges = new Range[columns.Length + 1];
        for (int i = 0; i < columns.Length; i++)
        {
            switch (columns[i])
            {
                case "userId": _user = i; break;
                case "itemId": _item = i; break;
                case "type": _type = i; break;
                case "value": _value = i; break;
                case "timestamp": _timestamp = i; break;
            }
        }
        _types = [.. settings.Types.Keys];
        _implied = RecordParser.ImpliedType(settings);
        _idLookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public bool TryRead(ReadOnlySpan<char> line, out LiveFeedback? record)
    {
        record = null;
        if (_user < 0 || _item < 0 || line.Contains('"') || line.Split(_ranges, ',') != _fields)
        {
            return false;
        }
        if (Id(line[_ranges[_user]]) is not { } user || Id(line[_ranges[_item]]) is not { } item)
        {
            return false;
        }
        string? type = _implied;
        if (_type >= 0 && !line[_ranges[_type]].IsEmpty)
        {
            type = null;
            ReadOnlySpan<char> named = line[_ranges[_type]];
            foreach (string t in _types)
            {
                if (named.SequenceEqual(t))
                {
                    type = t;
                    break;
                }
            }
        }
        if (type is null)
        {
            return false;
        }
        double? value = null;
        if (_value >= 0 && !line[_ranges[_value]].IsEmpty)
        {
            if (!double.TryParse(line[_ranges[_value]], NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
            {
                return false;
            }
            value = d;
        }
        if (value is null && type == LiveDatasetSettings.RatingType)
        {
            return false;
        }
        long? timestamp = null;
        if (_timestamp >= 0 && !line[_ranges[_timestamp]].IsEmpty)
        {
            if (!long.TryParse(line[_ranges[_timestamp]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds)
                || seconds < MinSeconds || seconds > MaxSeconds)
            {
                return false;
            }
            timestamp = seconds;
        }
        record = new LiveFeedback(user, item, type, value, timestamp);
        return true;
    }

    private static readonly long MinSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>The id's one string for this import; null when it is not a valid id (the general path names why).</summary>
    private string? Id(ReadOnlySpan<char> id)
    {
        if (_idLookup.TryGetValue(id, out string? known))
        {
            return known;
        }
        string text = new(id);
        if (RecordParser.IdProblem(text, "id") is not null)
        {
            return null;
        }
        _ids[text] = text;
        return text;
    }
}
