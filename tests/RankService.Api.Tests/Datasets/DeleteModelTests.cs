namespace RankService.Api.Tests.Datasets;

/// <summary>DELETE /models/{id}: removes a non-serving model's checkpoints (what remains of an erased user on disk).</summary>
public sealed class DeleteModelTests : HostPerTest
{
    [Fact]
    public async Task A_non_serving_models_checkpoints_are_deleted_and_a_serving_one_is_refused()
    {
        JobView first = await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { epochs = 1 })).Id, JobState.Succeeded);
        JobView second = await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { epochs = 1, seed = 3 })).Id, JobState.Succeeded);
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync($"/models/{second.Id}/activate", null)).StatusCode);

        HttpResponseMessage serving = await Client.DeleteAsync($"/models/{second.Id}");
        Assert.Equal(HttpStatusCode.Conflict, serving.StatusCode);
        Assert.Contains("activate another", await serving.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        string checkpoints = Path.Combine(Host.ArtifactsRoot, "jobs", first.Id, "checkpoints");
        Assert.True(Directory.Exists(checkpoints));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/models/{first.Id}")).StatusCode);
        Assert.False(Directory.Exists(checkpoints));
        List<ModelView> models = (await Client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        Assert.Equal([second.Id], models.Select(m => m.JobId));
        Assert.Equal(HttpStatusCode.Conflict, (await Client.GetAsync($"/models/{first.Id}")).StatusCode);
        Assert.Equal(JobState.Succeeded, (await ApiHost.GetJobAsync(Client, first.Id)).State); // the job and its metrics stay

        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/models/0123456789abcdef0123456789abcdef")).StatusCode);
        using HttpClient anonymous = Host.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/models/{second.Id}")).StatusCode);
    }
}
