using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace RankService.Api.Tests.Distributed;

/// <summary>
/// Promotion and schedules with PostgreSQL job storage: the compare-and-promote step holds a lock every node sharing
/// the storage honours, and a schedule lives in the storage, not in the process.
/// </summary>
public sealed class PromotionAcrossNodesTests
{
    private static Dictionary<string, string?> OnPostgres(string schema) => new()
    {
        ["Jobs:Storage"] = "PostgreSql",
        ["ConnectionStrings:Hangfire"] = PostgresFactAttribute.ConnectionString,
        ["Jobs:SchemaName"] = schema,
    };

    /// <summary>Another node's view of the same job storage: its own connections to the same schema.</summary>
    private static PostgreSqlStorage OtherNode(string schema)
    {
        var options = new PostgreSqlStorageOptions { SchemaName = schema, PrepareSchemaIfNecessary = true };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(PostgresFactAttribute.ConnectionString, options), options);
    }

    private static async Task DropAsync(string schema)
    {
        await using var connection = new Npgsql.NpgsqlConnection(PostgresFactAttribute.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static string NewSchema() => "hangfire_test_" + Guid.NewGuid().ToString("N")[..12];

    [PostgresFact]
    public async Task A_promotion_waits_while_another_node_holds_the_data_sets_promotion_lock_and_then_decides()
    {
        string schema = NewSchema();
        try
        {
            await using var host = new ApiHost(overrides: OnPostgres(schema));
            using HttpClient client = host.CreateClient();
            using IStorageConnection other = OtherNode(schema).GetConnection();

            JobView job;
            using (other.AcquireDistributedLock(PromotionGuard.LockResource("synthetic"), TimeSpan.FromSeconds(30)))
            {
                job = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 2 });
                // Trained to its last epoch, the job waits for the lock before it may say succeeded.
                JobView trained = await ApiHost.WaitForAsync(client, job.Id, j => j.Progress.Epoch == 2);
                await Task.Delay(TimeSpan.FromSeconds(2));
                JobView waiting = await ApiHost.GetJobAsync(client, job.Id);
                Assert.Equal(JobState.Running, waiting.State);
                Assert.Null(waiting.Promotion);
                Assert.Equal(503, (int)(await client.GetAsync("/users/3/ranking")).StatusCode);
            }

            JobView done = await ApiHost.WaitForStateAsync(client, job.Id, JobState.Succeeded);
            Assert.True(done.Promotion!.Promoted, done.Promotion.Reason);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/users/3/ranking")).StatusCode);
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    [PostgresFact]
    public async Task Two_nodes_promoting_at_once_decide_one_after_the_other_each_against_what_the_other_left_serving()
    {
        string schema = NewSchema();
        string artifacts = ApiHost.TempFolder();
        try
        {
            // Two nodes on one job storage and one artifacts folder, one worker each, both started before any job.
            await using var one = new ApiHost(artifacts, OnPostgres(schema));
            await using var two = new ApiHost(artifacts, OnPostgres(schema));
            using HttpClient client = one.CreateClient();
            using HttpClient otherClient = two.CreateClient();
            using IStorageConnection outside = OtherNode(schema).GetConnection();

            // The lock held until both have trained, so both nodes reach the compare-and-promote step together.
            JobView first, second;
            using (outside.AcquireDistributedLock(PromotionGuard.LockResource("synthetic"), TimeSpan.FromSeconds(30)))
            {
                first = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 2 });
                await ApiHost.WaitForAsync(client, first.Id, j => j.State == JobState.Running);
                second = await ApiHost.PostJobAsync(otherClient, new { dataset = "synthetic", epochs = 2, learningRate = 1e-7 });
                await ApiHost.WaitForAsync(client, first.Id, j => j.Progress.Epoch == 2);
                await ApiHost.WaitForAsync(client, second.Id, j => j.Progress.Epoch == 2);
            }

            JobView[] done = [await ApiHost.WaitForStateAsync(client, first.Id, JobState.Succeeded), await ApiHost.WaitForStateAsync(client, second.Id, JobState.Succeeded)];
            // One found nothing serving; the other was compared with it, never both "no model served".
            JobView alone = Assert.Single(done, j => j.Promotion!.ServingJobId is null);
            JobView compared = Assert.Single(done, j => j.Promotion!.ServingJobId is not null);
            Assert.Equal(alone.Id, compared.Promotion!.ServingJobId);
            Assert.NotNull(compared.Promotion.Candidate);
            Assert.NotNull(compared.Promotion.Serving);
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    [PostgresFact]
    public async Task A_schedule_survives_a_restart_of_the_host_and_fires_on_the_new_one()
    {
        string schema = NewSchema();
        try
        {
            await using (var before = new ApiHost(overrides: OnPostgres(schema)))
            {
                using HttpClient client = before.CreateClient();
                HttpResponseMessage put = await client.PutAsJsonAsync("/datasets/synthetic/schedule", new { cron = "0 3 * * *", training = new { epochs = 1 }, promote = "always" });
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }

            await using var after = new ApiHost(overrides: OnPostgres(schema));
            using HttpClient restarted = after.CreateClient();
            TrainingSchedule kept = (await restarted.GetFromJsonAsync<TrainingSchedule>("/datasets/synthetic/schedule", ApiHost.Json))!;
            Assert.Equal(("0 3 * * *", PromotePolicy.Always), (kept.Cron, kept.Promote));
            Assert.Equal(1, kept.Training["epochs"].GetInt32());

            after.Services.GetRequiredService<IRecurringJobManager>().Trigger(ScheduledTraining.RecurringJobId("synthetic"));
            JobView? fired = null;
            for (int attempt = 0; attempt < 3000 && fired is null; attempt++)
            {
                JobPage page = (await restarted.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
                fired = page.Items.FirstOrDefault(j => j.State.IsFinished());
                await Task.Delay(100);
            }
            Assert.NotNull(fired);
            Assert.Equal(JobState.Succeeded, fired.State);
            Assert.Equal(1, fired.Options.Epochs);
            Assert.True(fired.Promotion!.Promoted);
        }
        finally
        {
            await DropAsync(schema);
        }
    }
}
