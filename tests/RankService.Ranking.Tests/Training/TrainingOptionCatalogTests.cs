using System.Text.Json;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Training;

public class TrainingOptionCatalogTests
{
    private static TrainingOptionDescriptor Option(string jsonName) => TrainingOptionCatalog.Find(jsonName)!;

    private static TrainingOptions Overlay(string json, Dictionary<string, string> errors, TrainingOptions? baseline = null)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return TrainingOptionCatalog.Overlay(baseline ?? new TrainingOptions(),
            document.RootElement.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.Clone())).ToList(), errors);
    }

    [Fact]
    public void The_catalog_describes_every_field_a_manifest_writes_under_its_json_name()
    {
        using JsonDocument written = JsonDocument.Parse(JsonSerializer.Serialize(new TrainingOptions(), CheckpointStore.Json));

        Assert.Equal(written.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
            TrainingOptionCatalog.Options.Select(o => o.JsonName).Order(StringComparer.Ordinal));
        Assert.Empty(new TrainingOptions().Validate());
    }

    [Fact]
    public void A_loss_option_is_owned_by_its_loss_and_its_default_is_the_property_initialiser()
    {
        TrainingOptionDescriptor mu = Option("lambdaMu");

        Assert.Equal(LambdaLoss.RegistryName, mu.UsedBy);
        Assert.Equal(new TrainingOptions().LambdaMu, mu.DefaultValue);
        Assert.Equal((0.0, 1000.0), (mu.Min, mu.Max));
        Assert.Equal("--lambda-mu", mu.CliName);
        Assert.Equal(["--lr"], Option("learningRate").CliAliases);
        Assert.DoesNotContain(HybridLoss.RegistryName, Option("hybridFirst").Choices!);
    }

    [Fact]
    public void Each_loss_reads_its_own_options_through_the_registry()
    {
        var options = new TrainingOptions { LambdaMu = 3, LambdaK = 7, LambdaWeighting = LambdaWeighting.LambdaRank, SoftmaxSamples = 20, SoftmaxReduction = SoftmaxReduction.Sum };

        var lambda = Assert.IsType<LambdaLoss>(LossRegistry.Create(LossKind.LambdaLoss, options));
        var softmax = Assert.IsType<SoftmaxLoss>(LossRegistry.Create(LossKind.Softmax, options));

        Assert.Equal((LambdaWeighting.LambdaRank, 3.0, (int?)7), (lambda.Weighting, lambda.Mu, lambda.K));
        Assert.Equal((20, SoftmaxReduction.Sum), (softmax.Samples, softmax.Reduction));
        Assert.Null(Assert.IsType<LambdaLoss>(LossRegistry.Create(LossKind.LambdaLoss, options with { LambdaK = 0 })).K);
    }

    [Theory]
    [InlineData("learningRate", "20", "learningRate must be between 1e-07 and 10; got 20.")]
    [InlineData("epochs", "0", "epochs must be between 1 and 10000; got 0.")]
    [InlineData("hybridFirst", "hybrid", "Unknown hybridFirst 'hybrid'. Use one of: listmle, pairwise-logistic, listnet, softmax, approx-ndcg, lambda-loss, pairwise-hinge, triplet.")]
    [InlineData("hiddenSizes", "64,0", "hiddenSizes takes at most 8 values, each between 1 and 8192; got [64,0].")]
    [InlineData("hiddenSizes", "1,1,1,1,1,1,1,1,1", "hiddenSizes takes at most 8 values, each between 1 and 8192; got [1,1,1,1,1,1,1,1,1].")]
    public void Validation_names_the_json_field_its_allowed_range_or_values_and_what_it_got(string field, string text, string message)
    {
        Assert.True(TrainingOptionCatalog.TryParse(Option(field), text, out object? value, out _));
        TrainingOptions options = TrainingOptionCatalog.With(new TrainingOptions(), [new(Option(field), value)]);

        IReadOnlyDictionary<string, string> errors = options.Validate();

        Assert.Equal([field], errors.Keys);
        Assert.Equal(message, errors[field]);
    }

    [Fact]
    public void Text_is_parsed_by_one_rule_choices_in_any_case_numbers_invariant_lists_comma_separated()
    {
        Assert.True(TrainingOptionCatalog.TryParse(Option("lambdaWeighting"), "NDCG-Loss2++", out object? weighting, out _));
        Assert.Equal(LambdaWeighting.NdcgLoss2PlusPlus, weighting);
        Assert.True(TrainingOptionCatalog.TryParse(Option("learningRate"), "1e-3", out object? rate, out _));
        Assert.Equal(1e-3, rate);
        Assert.True(TrainingOptionCatalog.TryParse(Option("hiddenSizes"), "128, 64", out object? sizes, out _));
        Assert.Equal([128, 64], (int[])sizes!);
        Assert.True(TrainingOptionCatalog.TryParse(Option("itemBias"), "false", out object? bias, out _));
        Assert.Equal(false, bias);

        Assert.False(TrainingOptionCatalog.TryParse(Option("epochs"), "2.5", out _, out string error));
        Assert.Equal("epochs takes a whole number; '2.5' is not one.", error);
        Assert.False(TrainingOptionCatalog.TryParse(Option("hiddenSizes"), "64,x", out _, out error));
        Assert.Contains("'x' is not one", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_choice_no_member_spells_is_refused_when_read_naming_every_allowed_value()
    {
        Assert.False(TrainingOptionCatalog.TryParse(Option("loss"), "lambdamart", out _, out string error));
        Assert.Equal("Unknown loss 'lambdamart'. Use one of: listmle, pairwise-logistic, hybrid, listnet, softmax, approx-ndcg, lambda-loss, pairwise-hinge, triplet.", error);
        var errors = new Dictionary<string, string>();
        Overlay("""{"tripletMining":"semihard","head":3}""", errors);
        Assert.Equal("Unknown tripletMining 'semihard'. Use one of: random, hard, semi-hard.", errors["tripletMining"]);
        Assert.Equal("head takes one of dot, concat-mlp; got a JSON number.", errors["head"]);
    }

    [Fact]
    public void Every_choice_is_written_as_todays_string_and_read_back_in_any_case()
    {
        Assert.Equal(["temporal", "recbole", "cold-users", "cold-users-warm"], Option("protocol").Choices);
        Assert.Equal(["dot", "concat-mlp"], Option("head").Choices);
        Assert.Equal(["auto", "cpu", "cuda"], Option("device").Choices);
        Assert.Equal(["ndcg-loss2++", "lambdarank"], Option("lambdaWeighting").Choices);
        Assert.Equal(["mean", "sum"], Option("softmaxReduction").Choices);
        Assert.Equal(["dot", "distance"], Option("tripletForm").Choices);
        Assert.Equal(["random", "hard", "semi-hard"], Option("tripletMining").Choices);
        Assert.Equal(["auto", "dense", "lazy"], Option("embeddingUpdates").Choices);
        foreach (TrainingOptionDescriptor option in TrainingOptionCatalog.Options.Where(o => o.Kind == TrainingOptionKind.Choice))
        {
            foreach (string wire in WireNames.Of(option.EnumType!))
            {
                Assert.True(TrainingOptionCatalog.TryParse(option, wire.ToUpperInvariant(), out object? value, out string error), error);
                TrainingOptions options = TrainingOptionCatalog.With(new TrainingOptions(), [new(option, value)]);
                string json = JsonSerializer.Serialize(options, CheckpointStore.Json);
                // Byte for byte what a string field wrote (indented; "+" escaped as the default encoder does).
                string written = JsonSerializer.Serialize(wire, CheckpointStore.Json);
                Assert.Contains($"\"{option.JsonName}\": {written}", json, StringComparison.Ordinal);
                Assert.Equal(wire, TrainingOptionDescriptor.Format(value));
                string shouted = json.Replace($"\"{option.JsonName}\": {written}", $"\"{option.JsonName}\": {JsonSerializer.Serialize(wire.ToUpperInvariant(), CheckpointStore.Json)}", StringComparison.Ordinal);
                Assert.Equal(value, option.GetValue(JsonSerializer.Deserialize<TrainingOptions>(shouted, CheckpointStore.Json)!));
            }
        }
    }

    [Fact]
    public void A_json_overlay_sets_the_given_fields_treats_null_as_missing_and_names_unknown_or_mistyped_fields()
    {
        var errors = new Dictionary<string, string>();
        TrainingOptions baseline = new() { Epochs = 7, LambdaMu = 4 };

        TrainingOptions options = Overlay("""{"LOSS":"Lambda-Loss","lambdaMu":null,"hiddenSizes":[32,16],"itemBias":false,"learningRate":0.5}""", errors, baseline);

        Assert.Empty(errors);
        Assert.Equal(baseline with { Loss = LossKind.LambdaLoss, ItemBias = false, LearningRate = 0.5, HiddenSizes = options.HiddenSizes }, options);
        Assert.Equal([32, 16], options.HiddenSizes);

        Overlay("""{"epoch":5,"epochs":"five","itemBias":1,"hiddenSizes":[1,null],"threads":2}""", errors);
        Assert.Equal(["epoch", "epochs", "hiddenSizes", "itemBias", "threads"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("Unknown field 'epoch'. Known fields: protocol, splitSeed, loss, epochs", errors["epoch"], StringComparison.Ordinal);
        Assert.Equal("epochs takes a whole number; got a JSON string.", errors["epochs"]);
        Assert.Equal("itemBias takes true or false; got a JSON number.", errors["itemBias"]);
        Assert.StartsWith("Unknown field 'threads'", errors["threads"], StringComparison.Ordinal); // a host setting, not a request field
    }

    [Fact]
    public void Every_option_round_trips_through_its_command_line_text()
    {
        var options = new TrainingOptions { LearningRate = 0.0123, HiddenSizes = [64, 32], ItemBias = false, LambdaWeighting = LambdaWeighting.LambdaRank, Threads = 3 };
        var values = new List<KeyValuePair<TrainingOptionDescriptor, object?>>();
        foreach (TrainingOptionDescriptor option in TrainingOptionCatalog.Options)
        {
            Assert.True(TrainingOptionCatalog.TryParse(option, TrainingOptionDescriptor.Format(option.GetValue(options)), out object? value, out string error), error);
            values.Add(new(option, value));
        }

        TrainingOptions parsed = TrainingOptionCatalog.With(new TrainingOptions(), values);

        Assert.Equal(JsonSerializer.Serialize(options, CheckpointStore.Json), JsonSerializer.Serialize(parsed, CheckpointStore.Json));
    }
}
