namespace RankService.Api.Extensions;

public static class JobsPageExtensions
{
    /// <summary>
    /// The jobs page at <c>/</c>: <c>wwwroot/index.html</c> with its script and style sheet, plain files with no
    /// front-end build. The csproj copies wwwroot next to the host (the content root), so the page is there under
    /// <c>dotnet run</c>, in the tests and in a published image alike.
    /// </summary>
    public static WebApplication UseJobsPage(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }
}
