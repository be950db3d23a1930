using RankService.Api.Tests.Distributed;
using static RankService.Api.Tests.Datasets.DatasetClient;

namespace RankService.Api.Tests.Datasets;

/// <summary>With PostgreSQL, an import on the api node is what a worker node's job trains on.</summary>
public sealed class PostgresLiveTrainingTests
{
    [PostgresFact]
    public async Task An_import_on_the_api_node_is_visible_to_a_job_on_the_worker_node()
    {
        await using var cluster = new Cluster();
        await using ServiceNode api = ServiceNode.Start("Api", cluster);
        await using ServiceNode worker = ServiceNode.Start("Worker", cluster);
        await Task.WhenAll(api.WaitLiveAsync(), worker.WaitLiveAsync());
        string name = "pg-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await CreateAsync(api.Client, name);
            string csv = "userId,itemId,rating,timestamp\n" + string.Concat(Enumerable.Range(0, 600).Select(i => $"u{i % 30},i{i / 10},{1 + i % 5},{1_700_000_000 + i}\n"));
            DatasetWriteResult imported = await OkAsync(ImportAsync(api.Client, name, "feedback", csv));
            JobView job = await ApiHost.WaitForStateAsync(api.Client, (await ApiHost.PostJobAsync(api.Client, new { dataset = name, epochs = 1 })).Id, JobState.Succeeded);
            Assert.Contains($"Job {job.Id} started", worker.Output, StringComparison.Ordinal);
            JsonElement data = (await api.Client.GetFromJsonAsync<JsonElement>($"/models/{job.Id}")).GetProperty("manifest").GetProperty("dataset");
            Assert.Equal(imported.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), data.GetProperty("version").GetString());
            Assert.Equal(600, data.GetProperty("ratings").GetInt32());
        }
        finally
        {
            await api.Client.DeleteAsync($"/datasets/{name}");
        }
    }
}
