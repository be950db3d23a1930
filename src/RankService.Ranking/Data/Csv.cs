using System.Text;

namespace RankService.Ranking.Data;

/// <summary>RFC-4180 fields: quoted when they hold a comma, quote or line break; quotes inside are doubled.</summary>
internal static class Csv
{
    public enum RecordStatus { Complete, Incomplete, Malformed }

    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Splits one record into <paramref name="fields"/>. <see cref="RecordStatus.Incomplete"/> means a quoted field
    /// runs past the end of <paramref name="text"/>: append the next line (after a "\n") and call again.
    /// </summary>
    public static RecordStatus Split(string text, List<string> fields, out string? problem)
    {
        fields.Clear();
        problem = null;
        var quoted = new StringBuilder();
        int i = 0;
        while (true)
        {
            if (i < text.Length && text[i] == '"')
            {
                quoted.Clear();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        return RecordStatus.Incomplete;
                    }
                    char c = text[i++];
                    if (c != '"')
                    {
                        quoted.Append(c);
                    }
                    else if (i < text.Length && text[i] == '"')
                    {
                        quoted.Append('"');
                        i++;
                    }
                    else
                    {
                        break;
                    }
                }
                fields.Add(quoted.ToString());
                if (i == text.Length)
                {
                    return RecordStatus.Complete;
                }
                if (text[i] != ',')
                {
                    problem = $"unexpected '{text[i]}' after the closing quote of field {fields.Count}";
                    return RecordStatus.Malformed;
                }
                i++;
            }
            else
            {
                int comma = text.IndexOf(',', i);
                string field = text[i..(comma < 0 ? text.Length : comma)];
                if (field.Contains('"', StringComparison.Ordinal))
                {
                    problem = $"quote inside unquoted field {fields.Count + 1}";
                    return RecordStatus.Malformed;
                }
                fields.Add(field);
                if (comma < 0)
                {
                    return RecordStatus.Complete;
                }
                i = comma + 1;
            }
        }
    }
}
