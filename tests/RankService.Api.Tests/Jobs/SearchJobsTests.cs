using RankService.Ranking.Training;

namespace RankService.Api.Tests.Jobs;

/// <summary>Search jobs through HTTP: a parent and one child job per trial, the best picked on validation NDCG@10.</summary>
public sealed class SearchJobsTests : HostPerTest
{
    private async Task<JobView> PostSearchAsync(object body) => await ApiHost.PostJobAsync(Client, body);

    [Fact]
    public async Task A_search_of_4_trials_trains_4_distinct_configurations_and_picks_the_best_on_validation()
    {
        JobView parent = await PostSearchAsync(new
        {
            dataset = "synthetic",
            embeddingDim = 8,
            search = new { trials = 4, space = new { learningRate = new[] { 1e-7, 0.003, 0.01 }, epochs = new[] { 1, 3 } }, seed = 5 },
        });
        Assert.Equal(4, parent.Trials!.Count);
        Assert.Equal(4, parent.Search!.Trials);

        JobView done = await ApiHost.WaitForStateAsync(Client, parent.Id, JobState.Succeeded);
        var trials = new List<JobView>();
        foreach (string id in parent.Trials)
        {
            trials.Add(await ApiHost.GetJobAsync(Client, id));
        }
        Assert.All(trials, t =>
        {
            Assert.Equal(JobState.Succeeded, t.State);
            Assert.Equal(parent.Id, t.ParentId);
            Assert.Equal(8, t.Options.EmbeddingDim);
            Assert.Equal(t.TrialValues!["learningRate"].GetDouble(), t.Options.LearningRate);
            Assert.Equal(t.TrialValues["epochs"].GetInt32(), t.Options.Epochs);
        });
        Assert.Equal(4, trials.Select(t => (t.Options.LearningRate, t.Options.Epochs)).Distinct().Count());

        JobView best = trials.OrderByDescending(t => t.BestValidation!["NDCG@10"]).First();
        Assert.Equal(best.Id, done.BestTrial);
        Assert.Equal(best.BestValidation!["NDCG@10"], done.BestValidation!["NDCG@10"]);
        Assert.Equal(best.Test!["NDCG@10"], done.Test!["NDCG@10"]);

        JobMetrics metrics = (await Client.GetFromJsonAsync<JobMetrics>($"/jobs/{parent.Id}/metrics", ApiHost.Json))!;
        IReadOnlyList<LeaderboardEntry> board = metrics.Leaderboard!;
        Assert.Equal([1, 2, 3, 4], board.Select(e => e.Rank ?? 0));
        Assert.Equal(trials.Select(t => t.BestValidation!["NDCG@10"]).OrderDescending(), board.Select(e => e.ValidationNdcg10!.Value));
        Assert.Equal(best.Id, board[0].JobId);
        Assert.True(board[0].Best);
        Assert.Single(board, e => e.Best);
        Assert.Equal(best.Test["NDCG@10"], board[0].TestNdcg10);
        // A plain job has no leaderboard.
        Assert.Null((await Client.GetFromJsonAsync<JobMetrics>($"/jobs/{best.Id}/metrics", ApiHost.Json))!.Leaderboard);
    }

    [Fact]
    public async Task Cancelling_the_search_cancels_its_running_and_queued_trials()
    {
        JobView parent = await PostSearchAsync(new
        {
            dataset = "synthetic",
            epochs = 5000,
            patience = 0,
            search = new { trials = 3, space = new { learningRate = new[] { 0.001, 0.002, 0.003 } } },
        });
        // One worker: the first trial runs, the others wait in the queue.
        JobView running = await ApiHost.WaitForAsync(Client, parent.Trials![0], j => j.State == JobState.Running && j.Progress.Epoch >= 1);
        Assert.Equal(JobState.Running, (await ApiHost.GetJobAsync(Client, parent.Id)).State);

        HttpResponseMessage cancel = await Client.DeleteAsync($"/jobs/{parent.Id}");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        foreach (string id in parent.Trials)
        {
            JobView trial = await WaitUntilFinishedAsync(id);
            Assert.Equal(JobState.Cancelled, trial.State);
        }
        Assert.True((await ApiHost.GetJobAsync(Client, running.Id)).Progress.Epoch < 5000);
        JobView cancelled = await ApiHost.GetJobAsync(Client, parent.Id);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Null(cancelled.BestTrial);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.DeleteAsync($"/jobs/{parent.Id}")).StatusCode);
    }

    private async Task<JobView> WaitUntilFinishedAsync(string id)
    {
        for (int attempt = 0; attempt < 3000; attempt++)
        {
            JobView job = await ApiHost.GetJobAsync(Client, id);
            if (job.State.IsFinished())
            {
                return job;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {id} did not finish.");
    }

    public static TheoryData<string, string, string> BadSearches() => new()
    {
        { """{"search": {"space": {"learningRate": [0.01]}}}""", "search.trials", "search.trials is required" },
        { """{"search": {"trials": 0, "space": {"learningRate": [0.01]}}}""", "search.trials", "between 1 and 100; got 0" },
        { """{"search": {"trials": 101, "space": {"learningRate": [0.01]}}}""", "search.trials", "between 1 and 100; got 101" },
        { """{"search": {"trials": 3, "space": {"learningRate": [0.01, 0.02]}}}""", "search.trials", "The search space holds 2 configurations" },
        { """{"search": {"trials": 1}}""", "search.space", "search.space is required" },
        { """{"search": {"trials": 1, "space": {}}}""", "search.space", "search.space is required" },
        { """{"search": {"trials": 1, "space": {"learningRat": [0.01]}}}""", "search.space.learningRat", "'learningRat' is not a training option" },
        { """{"search": {"trials": 1, "space": {"threads": [1, 2]}}}""", "search.space.threads", "'threads' is not a training option" },
        { """{"search": {"trials": 1, "space": {"learningRate": 0.01}}}""", "search.space.learningRate", "takes a JSON array of 1 to 50 values" },
        { """{"search": {"trials": 1, "space": {"learningRate": []}}}""", "search.space.learningRate", "takes a JSON array of 1 to 50 values" },
        { """{"search": {"trials": 1, "space": {"learningRate": [0.01, 50]}}}""", "search.space.learningRate[1]", "learningRate must be between 1e-07 and 10; got 50." },
        { """{"search": {"trials": 1, "space": {"learningRate": ["fast"]}}}""", "search.space.learningRate[0]", "learningRate takes a number; got a JSON string." },
        { """{"search": {"trials": 1, "space": {"loss": ["listmle", "nosuchloss"]}}}""", "search.space.loss[1]", "Unknown loss 'nosuchloss'" },
        { """{"search": {"trials": 1, "space": {"epochs": [2, 2]}}}""", "search.space.epochs[1]", "epochs 2 is listed twice" },
        { """{"search": {"trials": 1, "space": {"epochs": [null]}}}""", "search.space.epochs[0]", "null is not one" },
        { """{"epochs": 2, "search": {"trials": 1, "space": {"epochs": [2, 3]}}}""", "search.space.epochs", "also given as a field" },
    };

    [Theory]
    [MemberData(nameof(BadSearches))]
    public async Task A_bad_search_is_a_400_naming_the_field_and_queues_nothing(string body, string field, string message)
    {
        HttpResponseMessage response = await Client.PostAsync("/jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!;
        Assert.True(problem.Errors.ContainsKey(field), string.Join("; ", problem.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        Assert.Contains(message, string.Join(" ", problem.Errors[field]), StringComparison.Ordinal);
        Assert.Equal(0, (await Client.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!.Total);
    }

    [Fact]
    public async Task An_unknown_field_in_the_search_is_a_400_naming_it()
    {
        HttpResponseMessage response = await Client.PostAsync("/jobs", new StringContent(
            """{"search": {"trails": 2, "space": {"epochs": [1, 2]}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("trails", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
    }
}

/// <summary>The draw of a search's trials, without training anything.</summary>
public sealed class SearchPlannerTests
{
    private static SearchRequest Search(int trials, int? seed, string space) =>
        new() { Trials = trials, Seed = seed, Space = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(space) };

    private static List<string> Draw(int trials, int? seed, string space)
    {
        var errors = new Dictionary<string, string[]>();
        IReadOnlyList<SearchTrial> plan = SearchPlanner.Plan(Search(trials, seed, space), new TrainingOptions(), [], errors);
        Assert.Empty(errors);
        return plan.Select(t => SearchPlanner.Describe(t.Values)).ToList();
    }

    private const string Space = """{"learningRate": [0.001, 0.003, 0.01, 0.03], "weightDecay": [0, 0.0001, 0.001], "embeddingDim": [16, 32, 64]}""";

    [Fact]
    public void The_same_seed_draws_the_same_trials_and_another_seed_others()
    {
        Assert.Equal(Draw(6, 1, Space), Draw(6, 1, Space));
        Assert.NotEqual(Draw(6, 1, Space), Draw(6, 2, Space));
    }

    [Fact]
    public void Trials_never_repeat_and_as_many_trials_as_the_grid_holds_cover_it_all()
    {
        List<string> all = Draw(36, 3, Space);
        Assert.Equal(36, all.Distinct().Count());
        List<string> some = Draw(20, 3, Space);
        Assert.Equal(20, some.Distinct().Count());
        Assert.All(some, t => Assert.Contains(t, all));
    }

    [Fact]
    public void Each_trial_takes_its_values_over_the_baseline_and_keeps_the_rest()
    {
        var baseline = new TrainingOptions { Epochs = 7, Seed = 11 };
        var errors = new Dictionary<string, string[]>();
        IReadOnlyList<SearchTrial> plan = SearchPlanner.Plan(Search(4, 9, """{"learningRate": [0.001, 0.01], "loss": ["listmle", "softmax"]}"""), baseline, [], errors);

        Assert.Empty(errors);
        Assert.All(plan, t =>
        {
            Assert.Equal(t.Values["learningRate"].GetDouble(), t.Options.LearningRate);
            Assert.Equal(t.Values["loss"].GetString(), t.Options.Loss.Wire());
            Assert.Equal((7, 11), (t.Options.Epochs, t.Options.Seed));
        });
    }
}
