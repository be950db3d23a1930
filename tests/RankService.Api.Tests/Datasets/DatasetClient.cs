using System.Net.Http.Headers;
using System.Text;

namespace RankService.Api.Tests.Datasets;

/// <summary>The data set calls the tests make, each returning the raw answer so a test can assert its status.</summary>
internal static class DatasetClient
{
    public static Task<HttpResponseMessage> PutAsync(HttpClient client, string name, object? settings = null) =>
        client.PutAsync($"/datasets/{name}", settings is null ? null : JsonContent.Create(settings, options: ApiHost.Json));

    public static async Task CreateAsync(HttpClient client, string name, object? settings = null)
    {
        HttpResponseMessage response = await PutAsync(client, name, settings);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string name, string kind, object records) =>
        client.PostAsync($"/datasets/{name}/{kind}", JsonContent.Create(records, options: ApiHost.Json));

    public static Task<HttpResponseMessage> ImportAsync(HttpClient client, string name, string kind, string body, string mediaType = "text/csv") =>
        client.PostAsync($"/datasets/{name}/import?kind={kind}", new StringContent(body, Encoding.UTF8, mediaType));

    public static async Task<DatasetWriteResult> OkAsync(Task<HttpResponseMessage> call)
    {
        HttpResponseMessage response = await call;
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<DatasetWriteResult>(text, ApiHost.Json)!;
    }

    public static async Task<DatasetView> GetAsync(HttpClient client, string name) =>
        (await client.GetFromJsonAsync<DatasetView>($"/datasets/{name}", ApiHost.Json))!;

    /// <summary>The 400's problems as (position, field, message); position is "line" for imports, "index" for batches.</summary>
    public static async Task<(long Refused, List<(long At, string Field, string Message)> Problems)> RefusedAsync(HttpResponseMessage response, string position)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(text).RootElement;
        var problems = problem.GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty(position).GetInt64(), p.GetProperty("field").GetString()!, p.GetProperty("message").GetString()!))
            .ToList();
        return (problem.GetProperty("refused").GetInt64(), problems);
    }

    public static async Task<List<JsonElement>> ExportAsync(HttpClient client, string name, string kind)
    {
        HttpResponseMessage response = await client.GetAsync($"/datasets/{name}/export?kind={kind}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    /// <summary>A body streamed in pieces that fails after <paramref name="failAfter"/> pieces, as a dropped connection does.</summary>
    public sealed class BrokenContent : HttpContent
    {
        private readonly IEnumerable<string> _pieces;
        private readonly int _failAfter;

        public BrokenContent(IEnumerable<string> pieces, int failAfter, string mediaType = "text/csv")
        {
            _pieces = pieces;
            _failAfter = failAfter;
            Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            int sent = 0;
            foreach (string piece in _pieces)
            {
                if (sent++ == _failAfter)
                {
                    throw new IOException("connection dropped by the test");
                }
                await stream.WriteAsync(Encoding.UTF8.GetBytes(piece));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
