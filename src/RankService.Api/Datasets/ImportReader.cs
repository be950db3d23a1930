using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace RankService.Api.Datasets;

/// <summary>Reads a clean CSV line straight into its record; false sends the line the general way (which names its problems).</summary>
internal delegate bool FastRow<T>(ReadOnlySpan<char> line, out T? record) where T : class;

/// <summary>The two import formats.</summary>
public enum ImportFormat
{
    Csv,
    NdJson,
}

/// <summary>The body went over the import limit while it was read (413).</summary>
public sealed class ImportTooLargeException(long limit) : Exception($"The import body is over {limit} bytes (Data:MaxImportBytes).")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Streams an import body (CSV with a header row, or NDJSON) line by line into validated records: the body is never
/// held whole, a line is at most <see cref="MaxLineBytes"/>, and reading past <c>limit</c> bytes throws
/// <see cref="ImportTooLargeException"/>. Bad lines go to the <see cref="ProblemCollector"/> (the store refuses the
/// whole import when it holds any); a header that cannot be used refuses the import at once.
/// </summary>
internal static class ImportReader
{
    public const int MaxLineBytes = 1 << 20;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IAsyncEnumerable<(long Line, LiveFeedback Record)> Feedback(Stream body, ImportFormat format, LiveDatasetSettings settings,
        ProblemCollector problems, long limit, CancellationToken cancellationToken) =>
        Records(body, format, RecordKind.Feedback, problems, limit,
            (e, line) => RecordParser.Feedback(e, line, settings, problems),
            (row, line) => RecordParser.Feedback(row, line, settings, problems),
            header =>
            {
                if (!header.Contains("type") && RecordParser.ImpliedType(settings) is null)
                {
                    return $"The header has no type column and the data set declares several types ({string.Join(", ", settings.Types.Keys)}); add a type column.";
                }
                return header.Contains("userId") && header.Contains("itemId") ? null : "The header needs userId and itemId (or movieId) columns.";
            },
            columns => new FastFeedbackRow(columns, settings).TryRead, cancellationToken);

    /// <summary>Items; an item id given twice in one import is refused (the catalogue fits in memory, feedback need not).</summary>
    public static async IAsyncEnumerable<(long Line, LiveItem Record)> Items(Stream body, ImportFormat format, ProblemCollector problems, long limit,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach ((long line, LiveItem item) in Records(body, format, RecordKind.Items, problems, limit,
            (e, line) => RecordParser.Item(e, line, problems),
            (row, line) => RecordParser.Item(row, line, problems),
            header => header.Contains("itemId") ? null : "The header needs an itemId (or movieId) column.",
            fast: null, cancellationToken))
        {
            if (!seen.TryAdd(item.ItemId, line))
            {
                problems.Add(line, "itemId", $"itemId '{Apis.Echo.Of(item.ItemId)}' is given again (first on line {seen[item.ItemId]}).");
                continue;
            }
            yield return (line, item);
        }
    }

    private static async IAsyncEnumerable<(long Line, T Record)> Records<T>(Stream body, ImportFormat format, RecordKind kind,
        ProblemCollector problems, long limit, Func<JsonElement, long, T?> fromJson, Func<IReadOnlyDictionary<string, string>, long, T?> fromCsv,
        Func<HashSet<string>, string?> headerProblem, Func<string[], FastRow<T>>? fast, [EnumeratorCancellation] CancellationToken cancellationToken) where T : class
    {
        var reader = new LineReader(body, limit);
        string[]? columns = null;
        FastRow<T>? fastRow = null;
        var row = new Dictionary<string, string>(StringComparer.Ordinal);
        char[] chars = new char[1024];
        long line = 0;
        while (await reader.NextAsync(cancellationToken) is { } bytes)
        {
            line++;
            int length;
            try
            {
                // Decoded into one reused buffer: a clean CSV line never becomes a string of its own.
                if (StrictUtf8.GetMaxCharCount(bytes.Length) > chars.Length)
                {
                    chars = new char[StrictUtf8.GetMaxCharCount(bytes.Length)];
                }
                length = StrictUtf8.GetChars(bytes.Span, chars);
            }
            catch (DecoderFallbackException)
            {
                problems.Add(line, "", "The line is not valid UTF-8.");
                continue;
            }
            int start = line == 1 && length > 0 && chars[0] == '\uFEFF' ? 1 : 0;
            if (chars.AsSpan(start, length - start).IsWhiteSpace())
            {
                continue;
            }
            if (fastRow is not null && fastRow(chars.AsSpan(start, length - start), out T? quick))
            {
                yield return (line, quick!);
                continue;
            }
            string text = new(chars, start, length - start);
            if (format == ImportFormat.NdJson)
            {
                T? record;
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    record = fromJson(doc.RootElement, line);
                }
                catch (JsonException e)
                {
                    problems.Add(line, "", $"The line is not JSON: {e.Message.Split(" Path:")[0]}");
                    continue;
                }
                if (record is not null)
                {
                    yield return (line, record);
                }
                continue;
            }
            List<string>? fields = SplitCsv(text);
            if (columns is null)
            {
                columns = Header(kind, fields, line, headerProblem);
                fastRow = fast?.Invoke(columns);
                continue;
            }
            if (fields is null)
            {
                problems.Add(line, "", "Malformed CSV: a quote is not closed on this line or stands inside an unquoted field (line breaks inside fields are not supported).");
                continue;
            }
            if (fields.Count != columns.Length)
            {
                problems.Add(line, "", $"The line has {fields.Count} fields; the header has {columns.Length}.");
                continue;
            }
            row.Clear();
            for (int i = 0; i < columns.Length; i++)
            {
                row[columns[i]] = fields[i];
            }
            if (fromCsv(row, line) is { } r)
            {
                yield return (line, r);
            }
        }
        if (format == ImportFormat.Csv && columns is null)
        {
            throw Refuse(1, "", "The CSV body is empty: it needs a header row naming the columns, then one record per line.");
        }
    }

    private static string[] Header(RecordKind kind, List<string>? fields, long line, Func<HashSet<string>, string?> headerProblem)
    {
        if (fields is null)
        {
            throw Refuse(line, "", "The header row is malformed CSV.");
        }
        var names = new string[fields.Count];
        var set = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < fields.Count; i++)
        {
            string known = string.Join(", ", kind == RecordKind.Items ? RecordParser.ItemFields : RecordParser.FeedbackFields);
            names[i] = RecordParser.CanonicalColumn(kind, fields[i])
                ?? throw Refuse(line, Apis.Echo.Of(fields[i]), $"Unknown column '{Apis.Echo.Of(fields[i])}'; {kind.ToString().ToLowerInvariant()} columns are {known} (movieId, rating and genres are accepted as in MovieLens).");
            if (!set.Add(names[i]))
            {
                throw Refuse(line, Apis.Echo.Of(fields[i]), $"The column {names[i]} is named twice.");
            }
        }
        return headerProblem(set) is { } problem ? throw Refuse(line, "", problem) : names;
    }

    private static RecordsRefusedException Refuse(long line, string field, string message)
    {
        var problems = new ProblemCollector();
        problems.Add(line, field, message);
        return problems.Refusal("import");
    }

    /// <summary>RFC 4180 fields of one line ("" escapes a quote inside quotes); null when the quoting is broken.</summary>
    internal static List<string>? SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        return null;
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',')
                {
                    return null;
                }
            }
            else
            {
                int end = line.IndexOf(',', i);
                string raw = end < 0 ? line[i..] : line[i..end];
                if (raw.Contains('"', StringComparison.Ordinal))
                {
                    return null;
                }
                field.Append(raw);
                i = end < 0 ? line.Length : end;
            }
            fields.Add(field.ToString());
            if (i >= line.Length)
            {
                return fields;
            }
            i++; // the comma
        }
    }

    /// <summary>Lines of a stream as bytes without their end (\n or \r\n), read in 64 KiB blocks.</summary>
    private sealed class LineReader(Stream stream, long limit)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;
        private long _total;
        private bool _eof;

        public async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken)
        {
            int searched = 0;
            while (true)
            {
                int at = Array.IndexOf(_buffer, (byte)'\n', _start + searched, _end - _start - searched);
                if (at >= 0)
                {
                    var line = new ReadOnlyMemory<byte>(_buffer, _start, at - _start);
                    _start = at + 1;
                    return Trim(line);
                }
                searched = _end - _start;
                if (_eof)
                {
                    if (_end == _start)
                    {
                        return null;
                    }
                    var last = new ReadOnlyMemory<byte>(_buffer, _start, _end - _start);
                    _start = _end;
                    return Trim(last);
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length)
                {
                    if (_buffer.Length >= MaxLineBytes)
                    {
                        throw Refuse(0, "", $"A line is longer than {MaxLineBytes} bytes; the import stops there.");
                    }
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                _total += read;
                if (_total > limit)
                {
                    throw new ImportTooLargeException(limit);
                }
                _end += read;
                _eof = read == 0;
            }
        }

        private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> line) =>
            line.Length > 0 && line.Span[^1] == (byte)'\r' ? line[..^1] : line;
    }
}
