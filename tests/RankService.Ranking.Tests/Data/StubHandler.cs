using System.IO.Compression;
using System.Net;

namespace RankService.Ranking.Tests.Data;

/// <summary>Answers every request with <paramref name="respond"/> and remembers what was asked; no network.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<Uri> Requests { get; } = [];

    /// <summary>A machine without network: every request fails as a DNS failure does.</summary>
    public static StubHandler Offline() =>
        new(_ => throw new HttpRequestException("Name or service not known (files.grouplens.org:443)"));

    /// <summary>GroupLens answering every request with the zip of <paramref name="folder"/>.</summary>
    public static StubHandler Serving(string folder)
    {
        byte[] zip = ZipOf(folder);
        return new(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(zip) });
    }

    public static byte[] ZipOf(string folder)
    {
        string path = Path.Combine(Path.GetTempPath(), $"rankservice-test-{Guid.NewGuid():N}.zip");
        try
        {
            ZipFile.CreateFromDirectory(folder, path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request.RequestUri!);
        return Task.FromResult(respond(request));
    }
}
