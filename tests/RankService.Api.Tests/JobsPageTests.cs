using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RankService.Api.Tests;

/// <summary>Playwright over the Debian chromium, started once for the jobs page tests; nothing is downloaded.</summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>The browser, launched on first use, so a run that skips every browser test never starts one.</summary>
    public async Task<IBrowser> BrowserAsync()
    {
        if (_browser is not null)
        {
            return _browser;
        }
        Assert.True(ChromiumFactAttribute.IsInstalled,
            $"Chromium is not installed at {ChromiumFactAttribute.ExecutablePath}; .ci/run installs the Debian package `chromium` (apt-get install -y chromium).");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        return _browser;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>
/// The jobs page at <c>/</c> in headless Chromium against the service on Kestrel (a real socket: the browser cannot
/// reach the in-memory TestServer), each test with its own host and synthetic data.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes the host and client through IAsyncLifetime.DisposeAsync.")]
public sealed class JobsPageTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    // Safety limits for waits, not timings: a shared CI machine may be slow, a hung page must still end the test.
    private const float JobLimitMs = 300_000;
    private const float StepLimitMs = 60_000;

    // No API key configured: the browser talks to Kestrel over loopback, which the service then trusts (README, Security).
    private readonly ApiHost _host = new(withApiKey: false);
    private readonly List<string> _consoleErrors = [];
    private Uri _baseAddress = null!;
    private HttpClient _http = null!;
    private IBrowserContext? _context;

    public Task InitializeAsync()
    {
        SetDefaultExpectTimeout(StepLimitMs);
        _baseAddress = _host.StartOnKestrel();
        _http = new HttpClient { BaseAddress = _baseAddress };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        // The page stops polling before the service goes away.
        if (_context is not null)
        {
            await _context.CloseAsync();
        }
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<IPage> OpenPageAsync()
    {
        IBrowser browser = await chromium.BrowserAsync();
        _context = await browser.NewContextAsync();
        IPage page = await _context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => _consoleErrors.Add($"uncaught: {error}");
        await page.GotoAsync(_baseAddress.ToString());
        await Expect(page.Locator("h1")).ToHaveTextAsync("RankService");
        return page;
    }

    [ChromiumFact]
    public async Task The_page_starts_a_job_that_succeeds_with_progress_and_curves_then_ranks_a_user_with_titles()
    {
        IPage page = await OpenPageAsync();
        await Expect(page.Locator("#link-swagger")).ToHaveAttributeAsync("href", "/swagger");
        await Expect(page.Locator("#link-hangfire")).ToHaveAttributeAsync("href", "/hangfire");
        await Expect(page.Locator("#jobs-empty")).ToBeVisibleAsync();
        await Expect(page.Locator("#models-empty")).ToBeVisibleAsync();

        // Start a job from the form.
        await page.Locator("#job-form [name=dataset]").FillAsync("synthetic");
        await page.Locator("#job-form [name=epochs]").FillAsync("3");
        await page.Locator("#job-submit").ClickAsync();
        await Expect(page.Locator("#job-form-status")).ToHaveTextAsync(new Regex("^Job [0-9a-f]+ queued\\.$"));
        string id = Regex.Match((await page.Locator("#job-form-status").TextContentAsync())!, "Job ([0-9a-f]+)").Groups[1].Value;
        JobView created = await ApiHost.GetJobAsync(_http, id);
        Assert.Equal("synthetic", created.Dataset);
        Assert.Equal(3, created.Options.Epochs);

        // It shows up in the list and reaches succeeded with a full progress bar.
        ILocator row = page.Locator($"#jobs tr.job[data-job-id='{id}']");
        await Expect(row.Locator(".state")).ToHaveTextAsync("succeeded", new() { Timeout = JobLimitMs });
        await Expect(row.Locator(".progress")).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(row.Locator(".progress .bar")).ToHaveAttributeAsync("style", new Regex(@"width:\s*100%"));
        await Expect(row.Locator(".progress-text")).ToContainTextAsync("epoch 3/3");
        await Expect(row).ToHaveClassAsync(new Regex(@"\bselected\b"));

        // Its curves: one point per epoch, drawn where the metrics say.
        ILocator curves = page.Locator("#curves");
        await Expect(curves).ToHaveAttributeAsync("data-job-id", id);
        await Expect(curves).ToHaveAttributeAsync("data-state", "succeeded");
        ILocator loss = page.Locator("#loss-chart path.series[data-series='train loss']");
        await Expect(loss).ToHaveAttributeAsync("data-points", "3");
        ILocator ndcg = page.Locator("#validation-chart path.series[data-series='NDCG@10']");
        await Expect(ndcg).ToHaveAttributeAsync("data-points", "3");
        await Expect(page.Locator("#validation-chart path.series")).ToHaveCountAsync(3);
        await Expect(page.Locator("#validation-chart line.baseline")).ToHaveCountAsync(3);
        await Expect(page.Locator("#final-metrics")).ToBeVisibleAsync();

        JobMetrics metrics = (await _http.GetFromJsonAsync<JobMetrics>($"/jobs/{id}/metrics", ApiHost.Json))!;
        AssertDrawnInOrder(metrics.Epochs.Select(e => e.TrainLoss).ToArray(), (await loss.GetAttributeAsync("d"))!);
        AssertDrawnInOrder(metrics.Epochs.Select(e => e.Validation["NDCG@10"]).ToArray(), (await ndcg.GetAttributeAsync("d"))!);

        // The serving model.
        ILocator model = page.Locator($"#models tr.model[data-job-id='{id}']");
        await Expect(model).ToHaveClassAsync(new Regex(@"\bserving\b"));
        await Expect(model.Locator(".serving-badge")).ToHaveTextAsync("serving");
        await Expect(model.Locator("td").Nth(1)).ToHaveTextAsync("synthetic");

        // A user's ranking with titles, the same as the API's.
        await page.Locator("#ranking-user").FillAsync("5");
        await page.Locator("#ranking-submit").ClickAsync();
        ILocator items = page.Locator("#ranking-list li");
        await Expect(items).ToHaveCountAsync(10);
        await Expect(page.Locator("#ranking-caption")).ToContainTextAsync(id);
        RankingResponse ranking = (await _http.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=10", ApiHost.Json))!;
        IReadOnlyList<string> titles = await page.Locator("#ranking-list li .title").AllTextContentsAsync();
        Assert.Equal(ranking.Items.Select(i => i.Title), titles);
        Assert.All(titles, t => Assert.False(string.IsNullOrWhiteSpace(t)));
        IReadOnlyList<string> itemIds = await items.EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.itemId)");
        Assert.Equal(ranking.Items.Select(i => i.ItemId), itemIds);

        // The data sets, a similar-items lookup and a session typed as an id and a title, each the same as the API's.
        await Expect(page.Locator("#datasets-list")).ToContainTextAsync($"synthetic (job {id})");
        await page.Locator("#similar-item").FillAsync("7");
        await page.Locator("#similar-submit").ClickAsync();
        await Expect(page.Locator("#similar-list li")).ToHaveCountAsync(10);
        SimilarItemsResponse similar = (await _http.GetFromJsonAsync<SimilarItemsResponse>("/items/7/similar", ApiHost.Json))!;
        Assert.Equal(similar.Items.Select(i => i.ItemId), await page.Locator("#similar-list li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.itemId)"));
        string title = ranking.Items[0].Title;
        await page.Locator("#session-items").FillAsync($"3, {title}, no-such-item");
        await page.Locator("#session-submit").ClickAsync();
        await Expect(page.Locator("#session-list li")).ToHaveCountAsync(10);
        await Expect(page.Locator("#session-caption")).ToContainTextAsync("Not in the catalogue: no-such-item");
        HttpResponseMessage posted = await _http.PostAsJsonAsync("/sessions/ranking", new { items = new[] { new { id = "3" }, new { id = ranking.Items[0].ItemId }, new { id = "no-such-item" } }, k = 10 });
        SessionRankingResponse session = (await posted.Content.ReadFromJsonAsync<SessionRankingResponse>(ApiHost.Json))!;
        Assert.Equal(session.Items.Select(i => i.ItemId), await page.Locator("#session-list li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.itemId)"));

        Assert.Empty(_consoleErrors);
    }

    [ChromiumFact]
    public async Task Errors_from_the_api_appear_next_to_their_fields_and_no_job_starts_until_they_are_fixed()
    {
        IPage page = await OpenPageAsync();

        // Before any model, the ranking box says why there is no ranking.
        await page.Locator("#ranking-user").FillAsync("5");
        await page.Locator("#ranking-submit").ClickAsync();
        await Expect(page.Locator("#ranking-error")).ToContainTextAsync("No model to rank with yet");
        await Expect(page.Locator("#ranking-result")).ToBeHiddenAsync();

        await page.Locator("#job-form [name=dataset]").FillAsync("no-such-set");
        await page.Locator("#job-form [name=epochs]").FillAsync("0");
        await page.Locator("#job-submit").ClickAsync();

        // The very messages of the API's ProblemDetails, each under its own field.
        HttpResponseMessage response = await _http.PostAsJsonAsync("/jobs", new { dataset = "no-such-set", epochs = 0 });
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        ILocator form = page.Locator("#job-form");
        await Expect(form.Locator(".field-error[data-error-for='epochs']")).ToHaveTextAsync(errors.GetProperty("epochs")[0].GetString()!);
        await Expect(form.Locator(".field-error[data-error-for='dataset']")).ToHaveTextAsync(errors.GetProperty("dataset")[0].GetString()!);
        await Expect(form.Locator("[name=epochs]")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(form.Locator(".field-error[data-error-for='loss']")).ToBeEmptyAsync();
        await Expect(page.Locator("#job-form-error")).ToBeVisibleAsync();

        // Fixing the fields clears their errors on the next submit (which then starts a job).
        await form.Locator("[name=dataset]").FillAsync("synthetic");
        await form.Locator("[name=epochs]").FillAsync("1");
        await page.Locator("#job-submit").ClickAsync();
        await Expect(page.Locator("#job-form-status")).ToContainTextAsync("queued");
        await Expect(form.Locator(".field-error[data-error-for='epochs']")).ToBeEmptyAsync();
        await Expect(page.Locator("#job-form-error")).ToBeHiddenAsync();
        JobPage jobs = (await _http.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
        Assert.Equal(1, jobs.Total);

        // The browser reports the 503 and 400 answers themselves as failed resources; nothing else may show up.
        Assert.All(_consoleErrors, e => Assert.Matches(@"status of (400|503)\b", e));
    }

    [ChromiumFact]
    public async Task A_running_job_shows_live_progress_and_curves_is_cancelled_and_served_by_hand_with_the_tabs_api_key()
    {
        IPage page = await OpenPageAsync();
        await page.Locator("#api-key").FillAsync("a-test-key");
        await page.Locator("#api-key").DispatchEventAsync("change");
        Assert.Equal("a-test-key", await page.EvaluateAsync<string>("() => sessionStorage.getItem('rankservice.apiKey')"));
        await page.ReloadAsync();
        await Expect(page.Locator("#api-key")).ToHaveValueAsync("a-test-key");

        // A job far longer than the test (no early stopping): it runs until the page cancels it.
        await page.Locator("#job-form [name=dataset]").FillAsync("synthetic");
        await page.Locator("#job-form [name=epochs]").FillAsync("1000");
        await page.Locator("#job-form [name=patience]").FillAsync("0");
        IRequest post = await page.RunAndWaitForRequestAsync(
            () => page.Locator("#job-submit").ClickAsync(),
            r => r.Method == "POST" && r.Url.EndsWith("/jobs", StringComparison.Ordinal));
        Assert.Equal("a-test-key", await post.HeaderValueAsync("x-api-key"));
        await Expect(page.Locator("#job-form-status")).ToContainTextAsync("queued");
        string id = Regex.Match((await page.Locator("#job-form-status").TextContentAsync())!, "Job ([0-9a-f]+)").Groups[1].Value;

        // While it runs, the curves grow epoch by epoch and the bar stands between 0 and 100.
        ILocator row = page.Locator($"#jobs tr.job[data-job-id='{id}']");
        ILocator curves = page.Locator("#curves");
        await Expect(curves).ToHaveAttributeAsync("data-job-id", id);
        await Expect(curves).ToHaveAttributeAsync("data-epochs", new Regex(@"^([2-9]|\d\d+)$"), new() { Timeout = JobLimitMs });
        await Expect(row.Locator(".state")).ToHaveTextAsync("running");
        await Expect(row.Locator(".progress")).ToHaveAttributeAsync("aria-valuenow", new Regex(@"^(0\.[1-9]|[1-9]\d?(\.\d)?)$"));
        // Both read in one script turn: the page redraws as epochs arrive, so two separate reads could straddle a redraw.
        int[] shownAndPoints = await page.EvaluateAsync<int[]>(
            "() => [Number(document.querySelector('#curves').dataset.epochs), Number(document.querySelector('#loss-chart path.series').dataset.points)]");
        Assert.InRange(shownAndPoints[0], 2, 999);
        Assert.Equal(shownAndPoints[0], shownAndPoints[1]);

        IRequest delete = await page.RunAndWaitForRequestAsync(
            () => row.Locator("button.cancel").ClickAsync(),
            r => r.Method == "DELETE");
        Assert.Equal("a-test-key", await delete.HeaderValueAsync("x-api-key"));
        Assert.EndsWith($"/jobs/{id}", delete.Url, StringComparison.Ordinal);
        await Expect(row.Locator(".state")).ToHaveTextAsync("cancelled", new() { Timeout = JobLimitMs });
        await Expect(row.Locator("button.cancel")).ToHaveCountAsync(0);
        await Expect(curves).ToHaveAttributeAsync("data-state", "cancelled");
        Assert.Equal(JobState.Cancelled, (await ApiHost.GetJobAsync(_http, id)).State);

        // Cancelled after some epochs it keeps its best checkpoint: a model that serves only when chosen on the page.
        ILocator model = page.Locator($"#models tr.model[data-job-id='{id}']");
        IRequest activate = await page.RunAndWaitForRequestAsync(
            () => model.Locator("button.activate").ClickAsync(),
            r => r.Method == "POST" && r.Url.EndsWith($"/models/{id}/activate", StringComparison.Ordinal));
        Assert.Equal("a-test-key", await activate.HeaderValueAsync("x-api-key"));
        await Expect(model.Locator(".serving-badge")).ToHaveTextAsync("serving");
        await page.Locator("#ranking-user").FillAsync("5");
        await page.Locator("#ranking-submit").ClickAsync();
        await Expect(page.Locator("#ranking-list li")).ToHaveCountAsync(10);
        await Expect(page.Locator("#ranking-caption")).ToContainTextAsync(id);

        // Clearing the key forgets it.
        await page.Locator("#api-key-clear").ClickAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('rankservice.apiKey')"));

        Assert.Empty(_consoleErrors);
    }

    /// <summary>
    /// The path's points (SVG y grows downwards) rank the epochs exactly as the values do, so the curve is drawn from
    /// these values and not from something else.
    /// </summary>
    private static void AssertDrawnInOrder(double[] values, string path)
    {
        double[] ys = Regex.Matches(path, @"[ML]([-\d.]+),([-\d.]+)")
            .Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
            .ToArray();
        Assert.Equal(values.Length, ys.Length);
        // Values closer than a thousandth of their range may share a pixel.
        double close = (values.Max() - values.Min()) * 1e-3;
        for (int i = 0; i < values.Length; i++)
        {
            for (int j = 0; j < values.Length; j++)
            {
                if (Math.Abs(values[i] - values[j]) > close)
                {
                    Assert.True(values[i] > values[j] == ys[i] < ys[j],
                        $"Epoch {i + 1} ({values[i]}) and epoch {j + 1} ({values[j]}) are drawn at y {ys[i]} and {ys[j]}.");
                }
            }
        }
    }
}
