using Microsoft.Extensions.Logging.Abstractions;
using RankService.Api.Options;
using RankService.Api.Serving;

namespace RankService.Api.Tests.Serving;

public sealed class ServingStateFileTests
{
    private static ServingStateFile Node(string root) =>
        new(Microsoft.Extensions.Options.Options.Create(new ArtifactsOptions { Root = root }), new ProcessServingStateLock(), NullLogger<ServingStateFile>.Instance);

    [Fact]
    public async Task Concurrent_activations_from_two_registries_on_one_root_never_lose_an_update()
    {
        string root = ApiHost.TempFolder();
        // Two instances stand for two nodes sharing the artifacts root; each thread activates its own data set.
        ServingStateFile[] nodes = [Node(root), Node(root)];
        const int Threads = 8;
        const int Activations = 40;

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < Activations; i++)
            {
                nodes[t % 2].Update(s => s.Serving($"set{t}", $"job{t}-{i}") with { LastActivated = $"set{t}" });
            }
        })));

        ServingState state = Node(root).Read();
        Assert.Equal(Enumerable.Range(0, Threads).ToDictionary(t => $"set{t}", t => $"job{t}-{Activations - 1}"), state.Datasets);
        Assert.StartsWith("set", state.LastActivated, StringComparison.Ordinal);
        Assert.Equal(["serving.json"], Directory.GetFiles(root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_reader_racing_activations_always_reads_a_whole_serving_json()
    {
        string root = ApiHost.TempFolder();
        ServingStateFile node = Node(root);
        node.Update(s => s.Serving("synthetic", "job0"));

        var writer = Task.Run(() =>
        {
            for (int i = 1; i <= 200; i++)
            {
                node.Update(s => s.Serving($"set{i % 5}", new string('j', i)));
            }
        });
        int reads = 0;
        while (!writer.IsCompleted || reads < 200)
        {
            ServingState? seen = JsonSerializer.Deserialize<ServingState>(await File.ReadAllBytesAsync(node.Path), JobStore.Json);
            Assert.Equal("job0", seen!.Datasets["synthetic"]);
            reads++;
        }
        await writer;
        Assert.Equal(6, node.Read().Datasets.Count);
    }

    [Fact]
    public void A_change_keeps_the_data_sets_another_node_wrote_since_this_one_read()
    {
        string root = ApiHost.TempFolder();
        ServingStateFile first = Node(root);
        ServingStateFile second = Node(root);

        first.Update(s => s.Serving("ml-100k", "a") with { LastActivated = "ml-100k" });
        second.Update(s => s.Serving("synthetic", "b") with { LastActivated = "synthetic" });
        first.Update(s => s.Serving("ml-100k", "c") with { LastActivated = "ml-100k" });

        ServingState state = second.Read();
        Assert.Equal(new Dictionary<string, string> { ["ml-100k"] = "c", ["synthetic"] = "b" }, state.Datasets);
        Assert.Equal("ml-100k", state.LastActivated);
    }
}
