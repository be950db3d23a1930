using Microsoft.AspNetCore.Mvc;
using RankService.Ranking.Checkpoints;

namespace RankService.Api.Tests;

/// <summary>A truncated checkpoint on disk is refused with a clear message and never replaces a model that serves.</summary>
public sealed class CorruptCheckpointTests
{
    [Fact]
    public async Task A_truncated_checkpoint_is_refused_and_the_serving_model_keeps_serving()
    {
        string root = ApiHost.TempFolder();
        string serving;
        string other;
        await using (var host = new ApiHost(root))
        {
            using HttpClient client = host.CreateClient();
            JobView a = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 1, seed = 3 })).Id, JobState.Succeeded);
            JobView b = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 3, seed = 4 })).Id, JobState.Succeeded);
            // b replaces a only when strictly better; its swap follows its record turning succeeded, so wait for it.
            serving = b.BestValidation!["NDCG@10"] > a.BestValidation!["NDCG@10"] ? b.Id : a.Id;
            other = serving == a.Id ? b.Id : a.Id;
            for (int i = 0; i < 600 && (await client.GetFromJsonAsync<RankingResponse>("/users/2/ranking", ApiHost.Json))!.ModelJobId != serving; i++)
            {
                await Task.Delay(100);
            }

            Truncate(root, other);
            HttpResponseMessage response = await client.PostAsync($"/models/{other}/activate", null);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            ProblemDetails problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>(ApiHost.Json))!;
            Assert.Contains("corrupt or truncated", problem.Detail, StringComparison.Ordinal);
            Assert.Equal(serving, (await client.GetFromJsonAsync<RankingResponse>("/users/2/ranking", ApiHost.Json))!.ModelJobId);
        }

        // After a restart the serving model (named in serving.json, so tried first) is truncated: it is refused with a
        // log line and the intact one serves.
        Truncate(root, serving);
        Repair(root, other);
        await using var after = new ApiHost(root);
        using HttpClient restarted = after.CreateClient();
        for (int i = 0; i < 600 && (await restarted.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(other, (await restarted.GetFromJsonAsync<RankingResponse>("/users/2/ranking", ApiHost.Json))!.ModelJobId);
        string log = string.Concat(Directory.GetFiles(Path.Combine(root, "logs")).Select(ReadShared));
        Assert.Contains(log.Split('\n'), line => line.Contains("Cannot serve job", StringComparison.Ordinal)
            && line.Contains(serving, StringComparison.Ordinal) && line.Contains("corrupt or truncated", StringComparison.Ordinal));
    }

    private static string WeightsPath(string root, string jobId)
    {
        string checkpoints = Path.Combine(root, "jobs", jobId, "checkpoints");
        CheckpointManifest manifest = JsonSerializer.Deserialize<CheckpointManifest>(
            File.ReadAllBytes(CheckpointStore.ManifestPath(checkpoints, "best")), CheckpointStore.Json)!;
        return Path.Combine(checkpoints, manifest.WeightsFile);
    }

    private static void Truncate(string root, string jobId)
    {
        string path = WeightsPath(root, jobId);
        File.Copy(path, path + ".intact", overwrite: true);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);
    }

    private static void Repair(string root, string jobId)
    {
        string path = WeightsPath(root, jobId);
        File.Move(path + ".intact", path, overwrite: true);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
