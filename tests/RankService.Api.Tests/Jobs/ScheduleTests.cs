using Hangfire;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace RankService.Api.Tests.Jobs;

/// <summary>
/// Schedules through HTTP, fired by triggering their Hangfire recurring job by id (as its cron would), so each run is a
/// real job on the real queue, promoted or kept by the guard.
/// </summary>
public sealed class ScheduleTests : HostPerTest
{
    private async Task<HttpResponseMessage> PutAsync(string body, string dataset = "synthetic", HttpClient? client = null) =>
        await (client ?? Client).PutAsync($"/datasets/{dataset}/schedule", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Fires the data set's schedule now and waits for the job it queued to finish.</summary>
    private async Task<JobView> FireAsync(string dataset = "synthetic")
    {
        int before = (await Client.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!.Total;
        Host.Services.GetRequiredService<IRecurringJobManager>().Trigger(ScheduledTraining.RecurringJobId(dataset));
        for (int attempt = 0; attempt < 3000; attempt++)
        {
            JobPage page = (await Client.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
            if (page.Total > before && page.Items[0].State.IsFinished())
            {
                Assert.Equal(before + 1, page.Total);
                return page.Items[0];
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The scheduled job did not finish.");
    }

    [Fact]
    public async Task A_schedule_fires_a_training_job_whose_model_is_promoted_when_better_and_kept_when_worse()
    {
        HttpResponseMessage put = await PutAsync("""{"cron": "0 3 * * *", "training": {"epochs": 4, "embeddingDim": 16}, "promote": "if-better"}""");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        TrainingSchedule saved = (await put.Content.ReadFromJsonAsync<TrainingSchedule>(ApiHost.Json))!;
        Assert.Equal(("synthetic", "0 3 * * *", PromotePolicy.IfBetter), (saved.Dataset, saved.Cron, saved.Promote));
        Assert.Equal(4, saved.Training["epochs"].GetInt32());
        Assert.NotNull(saved.NextRun);
        Assert.Equal(3, saved.NextRun!.Value.Hour);

        JobView first = await FireAsync();
        Assert.Equal(JobState.Succeeded, first.State);
        Assert.Equal((4, 16), (first.Options.Epochs, first.Options.EmbeddingDim));
        Assert.True(first.Promotion!.Promoted);

        // The schedule replaced by a worse configuration: its run is kept, and the better model keeps serving.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("""{"cron": "*/5 * * * *", "training": {"epochs": 1, "learningRate": 1e-7}}""")).StatusCode);
        TrainingSchedule replaced = (await Client.GetFromJsonAsync<TrainingSchedule>("/datasets/synthetic/schedule", ApiHost.Json))!;
        Assert.Equal("*/5 * * * *", replaced.Cron);
        Assert.False(replaced.Training.ContainsKey("embeddingDim"));

        JobView second = await FireAsync();
        Assert.Equal(JobState.Succeeded, second.State);
        Assert.Equal(1e-7, second.Options.LearningRate);
        Assert.False(second.Promotion!.Promoted);
        Assert.Equal(first.Id, second.Promotion.ServingJobId);
        List<ModelView> models = (await Client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        Assert.Equal(first.Id, models.Single(m => m.Serving).JobId);
    }

    [Fact]
    public async Task A_deleted_schedule_is_gone_and_deleting_it_again_is_a_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/datasets/synthetic/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("""{"cron": "0 3 * * 1"}""")).StatusCode);
        TrainingSchedule saved = (await Client.GetFromJsonAsync<TrainingSchedule>("/datasets/synthetic/schedule", ApiHost.Json))!;
        Assert.Empty(saved.Training);
        Assert.Equal(PromotePolicy.IfBetter, saved.Promote);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/datasets/synthetic/schedule")).StatusCode);

        HttpResponseMessage get = await Client.GetAsync("/datasets/synthetic/schedule");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Contains("has no schedule", (await get.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/datasets/synthetic/schedule")).StatusCode);
    }

    public static TheoryData<string, string, string> BadSchedules() => new()
    {
        { """{}""", "cron", "cron is required" },
        { """{"cron": "  "}""", "cron", "cron is required" },
        { """{"cron": "61 * * * *"}""", "cron", "is not a cron expression Hangfire can run" },
        { """{"cron": "every day"}""", "cron", "is not a cron expression Hangfire can run" },
        { """{"cron": "0 3 * * * * *"}""", "cron", "Use 5 fields" },
        { """{"cron": "0 3 * * *", "training": {"epoch": 3}}""", "training.epoch", "'epoch' is not a training option" },
        { """{"cron": "0 3 * * *", "training": {"threads": 3}}""", "training.threads", "'threads' is not a training option" },
        { """{"cron": "0 3 * * *", "training": {"epochs": 0}}""", "training.epochs", "epochs must be between 1 and 10000; got 0." },
        { """{"cron": "0 3 * * *", "training": {"loss": "nosuch"}}""", "training.loss", "Unknown loss 'nosuch'" },
        { """{"cron": "0 3 * * *", "training": [1]}""", "training", "training takes a JSON object" },
        { """{"cron": "0 3 * * *", "promote": "often"}""", "promote", "promote must be one of always, if-better, never; got 'often'." },
    };

    [Theory]
    [MemberData(nameof(BadSchedules))]
    public async Task A_bad_schedule_is_a_400_naming_the_field_and_saves_nothing(string body, string field, string message)
    {
        HttpResponseMessage response = await PutAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.True(problem.Errors.ContainsKey(field), string.Join("; ", problem.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        Assert.Contains(message, string.Join(" ", problem.Errors[field]), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/datasets/synthetic/schedule")).StatusCode);
    }

    [Fact]
    public async Task A_schedule_for_a_data_set_that_is_not_configured_is_a_404_and_writes_need_a_key()
    {
        HttpResponseMessage unknown = await PutAsync("""{"cron": "0 3 * * *"}""", dataset: "no-such-set");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no-such-set", (await unknown.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/datasets/no-such-set/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/datasets/no-such-set/schedule")).StatusCode);

        using HttpClient anonymous = Host.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PutAsync("""{"cron": "0 3 * * *"}""", client: anonymous)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/datasets/synthetic/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/datasets/synthetic/schedule")).StatusCode);
    }
}
