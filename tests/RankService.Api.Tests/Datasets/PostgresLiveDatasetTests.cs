using Microsoft.Extensions.DependencyInjection;
using RankService.Api.Datasets;
using RankService.Api.Tests.Distributed;

namespace RankService.Api.Tests.Datasets;

/// <summary>
/// The live data set scenarios on the PostgreSQL store (Jobs:Storage PostgreSql): each test has its own host, Hangfire
/// schema and data set schema in the database of <c>RANKSERVICE_TEST_POSTGRES</c>, dropped afterwards.
/// </summary>
public sealed class PostgresLiveDatasetTests
{
    [PostgresFact]
    public Task Csv_and_ndjson_imports_and_batches_add_up_and_export_round_trips() => OnPostgres(LiveDatasetScenarios.Csv_and_ndjson_imports_and_batches_add_up_and_export_round_trips);

    [PostgresFact]
    public Task A_snapshot_sums_weights_per_pair_keeps_first_insertion_order_and_turns_negative_totals_into_never_recommend() =>
        OnPostgres(LiveDatasetScenarios.A_snapshot_sums_weights_per_pair_keeps_first_insertion_order_and_turns_negative_totals_into_never_recommend);

    [PostgresFact]
    public Task A_batch_with_bad_records_is_refused_whole_naming_each_by_index_and_field() => OnPostgres(LiveDatasetScenarios.A_batch_with_bad_records_is_refused_whole_naming_each_by_index_and_field);

    [PostgresFact]
    public Task Feedback_for_an_unknown_item_is_refused_when_the_data_set_does_not_create_items() => OnPostgres(LiveDatasetScenarios.Feedback_for_an_unknown_item_is_refused_when_the_data_set_does_not_create_items);

    [PostgresFact]
    public Task Ids_from_earlier_imports_keep_their_keys_and_a_refused_import_leaves_nothing_for_later_ones() =>
        OnPostgres(LiveDatasetScenarios.Ids_from_earlier_imports_keep_their_keys_and_a_refused_import_leaves_nothing_for_later_ones);

    [PostgresFact]
    public Task A_connection_dropped_mid_import_leaves_the_data_set_unchanged() => OnPostgres(LiveDatasetScenarios.A_connection_dropped_mid_import_leaves_the_data_set_unchanged);

    [PostgresFact]
    public Task Concurrent_imports_into_one_data_set_both_commit_whole_and_the_counts_add_up() => OnPostgres(LiveDatasetScenarios.Concurrent_imports_into_one_data_set_both_commit_whole_and_the_counts_add_up);

    [PostgresFact]
    public Task Erasing_a_user_deletes_their_feedback_and_a_second_erase_answers_404() => OnPostgres(LiveDatasetScenarios.Erasing_a_user_deletes_their_feedback_and_a_second_erase_answers_404);

    [PostgresFact]
    public Task The_postgres_store_is_the_one_in_use() => OnPostgres((_, services) =>
    {
        Assert.IsType<PostgresLiveDatasetStore>(services.GetRequiredService<ILiveDatasetStore>());
        return Task.CompletedTask;
    });

    private static async Task OnPostgres(Func<HttpClient, IServiceProvider, Task> scenario)
    {
        string connection = PostgresFactAttribute.ConnectionString;
        string suffix = Guid.NewGuid().ToString("N")[..12];
        string hangfire = "hangfire_test_" + suffix, live = "live_test_" + suffix;
        try
        {
            await using var host = new ApiHost(overrides: new Dictionary<string, string?>
            {
                ["Jobs:Storage"] = "PostgreSql",
                ["ConnectionStrings:Hangfire"] = connection,
                ["Jobs:SchemaName"] = hangfire,
                ["Data:LiveSchema"] = live,
            });
            using HttpClient client = host.CreateClient();
            await scenario(client, host.Services);
        }
        finally
        {
            await using var db = new Npgsql.NpgsqlConnection(connection);
            await db.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{hangfire}\" CASCADE; DROP SCHEMA IF EXISTS \"{live}\" CASCADE", db);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
