using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RankService.Api.Options;
using RankService.Ranking.Training;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace RankService.Api.Tests;

/// <summary>
/// Docker does not run here, so these tests keep the Dockerfile, docker-compose.yml, .env.example and deploy/*.yaml
/// from drifting from the code: every setting they pass names a configuration key the service binds (found by
/// reflection over the options classes, plus a short list of keys the host itself reads), every value converts to
/// the bound property's type (roles and storage to enum names), ports agree with the Dockerfile's, and every health
/// path is an endpoint of the running host.
/// </summary>
public sealed partial class DeploymentDriftTests
{
    private static readonly string Root = FindRepositoryRoot();

    /// <summary>Keys read by the host or a library rather than bound to an options class of ours.</summary>
    private static readonly string[] HostKeys =
    [
        "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", // Kestrel and the host
        "Serilog:*", // Serilog.Settings.Configuration reads the whole section
        "Logging:*",
        "AllowedHosts",
        "ConnectionStrings:Hangfire", // read with GetConnectionString (any text), not bound
        "DOTNET_ROOT", "DOTNET_RUNNING_IN_CONTAINER", "APP_UID", // the .NET runtime and the aspnet image's own variables
    ];

    /// <summary>
    /// The values the README documents for the settings that choose a mode. Both are bound to enums; the test below
    /// checks that each documented list is exactly that enum's names, so neither the docs nor the deploy files can offer
    /// a value the service refuses at start.
    /// </summary>
    private static readonly Dictionary<string, string[]> DocumentedChoices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Service:Role"] = ["All", "Api", "Worker"],
        ["Jobs:Storage"] = ["InMemory", "PostgreSql"],
    };

    /// <summary>Variables compose itself substitutes into docker-compose.yml (not service settings).</summary>
    private static readonly string[] ComposeVariables = ["POSTGRES_PASSWORD", "TORCH_BACKEND", "RANKSERVICE_TAG"];

    private static readonly Lazy<Dictionary<string, Type>> Known = new(KnownKeys);

    /// <summary>The ConfigMap whose data are the service's settings (as environment variables).</summary>
    private const string SettingsConfigMap = "rankservice-settings";

    // ---------- the settings ----------

    [Fact]
    public void Known_keys_come_from_the_options_classes()
    {
        Dictionary<string, Type> known = Known.Value;
        Assert.Equal(typeof(string), known["Artifacts:Root"]);
        Assert.Equal(typeof(string), known["Data:Root"]);
        Assert.Equal(typeof(TrainingDevice), known["Training:Device"]);
        Assert.Equal(typeof(int), known["Jobs:WorkerCount"]);
        Assert.Equal(typeof(int), known["Data:SyntheticSet:Users"]);
        Assert.Equal(typeof(string), known["Data:Datasets:#"]);
        Assert.Equal(typeof(string), known["Security:ApiKeyHashes:#"]);
        Assert.Equal(typeof(bool), known["Security:RequireKeyForRankings"]);
        Assert.False(known.ContainsKey("Artifacts:FullRoot"), "read-only properties are not settings");
    }

    [Fact]
    public void Every_setting_in_compose_and_the_manifests_is_a_key_the_service_reads_with_a_valid_value()
    {
        var settings = DockerfileSettings().Concat(ComposeSettings()).Concat(KubernetesSettings()).Concat(EnvExampleSettings()).ToList();
        Assert.Contains(settings, s => s.Where == "Dockerfile" && s.Name == "Serilog__WriteTo__1__Args__path");
        Assert.Contains(settings, s => s.Name == "Service__Role");
        Assert.Contains(settings, s => s.Name == "Artifacts__Root");
        var problems = new List<string>();
        foreach ((string where, string name, string? value) in settings)
        {
            if (Check(name, value) is { } problem)
            {
                problems.Add($"{where}: {name}={value}: {problem}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void A_misspelt_or_unknown_setting_or_a_bad_value_is_caught()
    {
        Assert.NotNull(Check("Artifacts__Rot", "/artifacts"));
        Assert.NotNull(Check("Jobs__WorkerCount", "many"));
        Assert.NotNull(Check("Service__Role", "Trainer"));
        Assert.NotNull(Check("Training__Devices", "auto"));
        Assert.NotNull(Check("Training__Device", "tpu"));
        Assert.NotNull(Check("Training__Loss", "lambdamart"));
        Assert.NotNull(Check("Training__Epochs", "0"));
        Assert.Null(Check("Training__Device", "CPU"));
        Assert.Null(Check("Training__LambdaWeighting", "ndcg-loss2++"));
        Assert.Null(Check("Training__Head", "concat-mlp"));
        Assert.Null(Check("Training__HiddenSizes__1", "64"));
        Assert.NotNull(Check("SOME_VARIABLE", "1"));
        Assert.Null(Check("Jobs__WorkerCount", "2"));
        Assert.Null(Check("Data__Datasets__3", "ml-25m"));
    }

    [Fact]
    public void Documented_choices_are_exactly_the_names_of_the_enums_their_settings_bind()
    {
        foreach ((string key, string[] documented) in DocumentedChoices)
        {
            Assert.True(Known.Value.TryGetValue(key, out Type? type), $"{key} is not bound by an options class");
            Assert.True(type.IsEnum, $"{key} binds {type.Name}, not an enum");
            Assert.Equal(documented.Order(StringComparer.Ordinal), Enum.GetNames(type).Order(StringComparer.Ordinal));
            string env = key.Replace(":", "__", StringComparison.Ordinal);
            Assert.All(documented, v => Assert.Null(Check(env, v)));
            Assert.NotNull(Check(env, "not-a-" + documented[0]));
        }
    }

    [Fact]
    public void Api_and_worker_have_their_roles_the_worker_has_a_gpu_and_the_api_key_comes_from_the_environment_file()
    {
        Dictionary<string, object> compose = ComposeServices();
        Assert.Equal("Api", Environment(compose["api"])["Service__Role"]);
        Assert.Equal("Worker", Environment(compose["worker"])["Service__Role"]);
        Assert.Equal("auto", Environment(compose["worker"])["Training__Device"]);
        foreach (string service in new[] { "api", "worker" })
        {
            Assert.Equal("PostgreSql", Environment(compose[service])["Jobs__Storage"]);
            Assert.Contains("Host=postgres", Environment(compose[service])["ConnectionStrings__Hangfire"], StringComparison.Ordinal);
            Assert.Equal(".env", Scalar(Map(compose[service])["env_file"]));
        }
        var device = Map(List(Path(compose["worker"], "deploy", "resources", "reservations", "devices")).Single());
        Assert.Equal("nvidia", Scalar(device["driver"]));
        Assert.Contains("gpu", List(device["capabilities"]).Select(Scalar));
        Assert.Contains("postgres", compose.Keys);
        Assert.StartsWith("tensorflow/tensorflow", Scalar(Map(compose["tensorboard"])["image"]), StringComparison.Ordinal);

        Assert.Contains(EnvExampleSettings(), s => s.Name == "Security__ApiKeyHashes__0");
        Assert.Contains(File.ReadAllLines(System.IO.Path.Combine(Root, ".gitignore")), l => l.Trim() == ".env");

        List<Dictionary<string, object>> k8s = KubernetesDocuments();
        Dictionary<string, object> worker = Container(Deployment(k8s, "rankservice-worker"));
        Assert.Equal("1", Scalar(Path(worker, "resources", "limits", "nvidia.com/gpu")));
        Assert.Equal("Worker", EnvList(worker)["Service__Role"]);
        Assert.Equal("Api", EnvList(Container(Deployment(k8s, "rankservice-api")))["Service__Role"]);
        Dictionary<string, object> secret = k8s.Single(d => Scalar(d["kind"]) == "Secret");
        Assert.Contains("Security__ApiKeyHashes__0", Map(secret["stringData"]).Keys);
        Assert.Contains("ConnectionStrings__Hangfire", Map(secret["stringData"]).Keys);
        Assert.All(k8s.Where(d => Scalar(d["kind"]) == "PersistentVolumeClaim"),
            pvc => Assert.Equal(["ReadWriteMany"], List(Path(pvc, "spec", "accessModes")).Select(Scalar)));
        foreach (string name in new[] { "rankservice-api", "rankservice-worker" })
        {
            foreach (object from in List(Container(Deployment(k8s, name))["envFrom"]))
            {
                (string kind, string reference) = Map(from).ContainsKey("configMapRef")
                    ? ("ConfigMap", Scalar(Map(Map(from)["configMapRef"])["name"]))
                    : ("Secret", Scalar(Map(Map(from)["secretRef"])["name"]));
                Assert.Contains(k8s, d => Scalar(d["kind"]) == kind && Scalar(Path(d, "metadata", "name")) == reference);
            }
        }
    }

    [Fact]
    public void Ports_and_the_artifacts_volume_agree_with_the_dockerfile()
    {
        string dockerfile = File.ReadAllText(System.IO.Path.Combine(Root, "Dockerfile"));
        string port = Assert.Single(ExposePattern().Matches(dockerfile)).Groups[1].Value;
        Assert.Contains($"ASPNETCORE_HTTP_PORTS={port}", dockerfile, StringComparison.Ordinal);
        Match volume = VolumePattern().Match(dockerfile);
        Assert.True(volume.Success, "the Dockerfile declares no VOLUME");
        string artifacts = ArtifactsPattern().Match(dockerfile).Groups[1].Value;
        Assert.Contains($"\"{artifacts}\"", volume.Value, StringComparison.Ordinal);

        Dictionary<string, object> compose = ComposeServices();
        Assert.Contains($"{port}:{port}", List(Map(compose["api"])["ports"]).Select(Scalar));
        foreach (string service in new[] { "api", "worker" })
        {
            Assert.Equal(port, Environment(compose[service])["ASPNETCORE_HTTP_PORTS"]);
            Assert.Equal(artifacts, Environment(compose[service])["Artifacts__Root"]);
            Assert.Contains(List(Map(compose[service])["volumes"]).Select(Scalar), v => v.EndsWith(":" + artifacts, StringComparison.Ordinal));
        }
        Assert.Contains(List(Map(compose["tensorboard"])["volumes"]).Select(Scalar), v => v.Contains(":" + artifacts, StringComparison.Ordinal));

        List<Dictionary<string, object>> k8s = KubernetesDocuments();
        Dictionary<string, object> config = k8s.Single(d => Scalar(d["kind"]) == "ConfigMap" && Scalar(Path(d, "metadata", "name")) == SettingsConfigMap);
        Assert.Equal(port, Scalar(Map(config["data"])["ASPNETCORE_HTTP_PORTS"]));
        Assert.Equal(artifacts, Scalar(Map(config["data"])["Artifacts__Root"]));
        foreach (string name in new[] { "rankservice-api", "rankservice-worker" })
        {
            Dictionary<string, object> container = Container(Deployment(k8s, name));
            Assert.Contains(port, List(container["ports"]).Select(p => Scalar(Map(p)["containerPort"])));
            Assert.Contains(List(container["volumeMounts"]), m => Scalar(Map(m)["mountPath"]) == artifacts);
        }
        Dictionary<string, object> apiService = k8s.Single(d => Scalar(d["kind"]) == "Service" && Scalar(Path(d, "metadata", "name")) == "rankservice-api");
        Assert.Equal(port, Scalar(Map(List(Path(apiService, "spec", "ports")).Single())["targetPort"]));
    }

    [Fact]
    public void Every_health_check_path_is_an_endpoint_of_the_running_host()
    {
        using var host = new ApiHost();
        using HttpClient client = host.CreateClient();
        HashSet<string> routes = host.Services.GetServices<EndpointDataSource>()
            .SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("/health/live", routes);

        var paths = new List<(string Where, string Path)>();
        string dockerfile = File.ReadAllText(System.IO.Path.Combine(Root, "Dockerfile"));
        paths.AddRange(UrlPathPattern().Matches(dockerfile[dockerfile.IndexOf("\nHEALTHCHECK", StringComparison.Ordinal)..]).Take(1).Select(m => ("Dockerfile HEALTHCHECK", m.Groups[1].Value)));
        foreach ((string name, object service) in ComposeServices())
        {
            if (Map(service).TryGetValue("healthcheck", out object? check) && Map(check).TryGetValue("test", out object? test))
            {
                string command = string.Join(" ", List(test).Select(Scalar));
                paths.AddRange(UrlPathPattern().Matches(command).Select(m => ($"compose {name}", m.Groups[1].Value)));
            }
        }
        foreach (Dictionary<string, object> deployment in KubernetesDocuments().Where(d => Scalar(d["kind"]) == "Deployment" && Scalar(Path(d, "metadata", "name")) != "rankservice-tensorboard"))
        {
            Dictionary<string, object> container = Container(deployment);
            foreach (string probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
            {
                if (container.TryGetValue(probe, out object? p))
                {
                    paths.Add(($"{Scalar(Path(deployment, "metadata", "name"))} {probe}", Scalar(Path(p, "httpGet", "path"))));
                    Assert.Equal("http", Scalar(Path(p, "httpGet", "port")));
                }
            }
        }
        Assert.Contains(paths, p => p.Where == "Dockerfile HEALTHCHECK" && p.Path == "/health/live");
        Assert.Contains(paths, p => p.Where == "rankservice-api readinessProbe" && p.Path == "/health/ready");
        Assert.Contains(paths, p => p.Where == "rankservice-worker livenessProbe" && p.Path == "/health/live");
        Assert.All(paths, p => Assert.True(routes.Contains(p.Path), $"{p.Where} probes {p.Path}, which the host does not map"));
    }

    // ---------- checking one setting ----------

    /// <summary>Null when <paramref name="name"/> (an environment variable) names a setting and the value fits; else why not.</summary>
    private static string? Check(string name, string? value)
    {
        if (!name.Contains("__", StringComparison.Ordinal))
        {
            return HostKeys.Contains(name, StringComparer.Ordinal) || ComposeVariables.Contains(name, StringComparer.Ordinal)
                ? null
                : "neither a Section__Key setting nor a known host or compose variable";
        }
        string key = name.Replace("__", ":", StringComparison.Ordinal);
        if (HostKeys.Any(h => string.Equals(h, key, StringComparison.OrdinalIgnoreCase)
            || (h.EndsWith(":*", StringComparison.Ordinal) && key.StartsWith(h[..^1], StringComparison.OrdinalIgnoreCase))))
        {
            return null;
        }
        string pattern = IndexPattern().Replace(key, ":#");
        if (Known.Value.TryGetValue(pattern, out Type? type))
        {
            return key.StartsWith(TrainingDefaultsOptions.Section + ":", StringComparison.OrdinalIgnoreCase) ? CheckTraining(key, value) : CheckValue(type, value);
        }
        return "no options class binds this key (misspelt, or a setting the service does not read)";
    }

    /// <summary>A Training setting read as the host reads it: the option catalog's text rule, then its validation.</summary>
    private static string? CheckTraining(string key, string? value)
    {
        if (value is null || value.Contains("${", StringComparison.Ordinal))
        {
            return null;
        }
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        TrainingOptions read = TrainingDefaultsOptions.Read(config.GetSection(TrainingDefaultsOptions.Section), errors);
        string? problem = errors.Values.Concat(read.Validate().Values).FirstOrDefault();
        return problem;
    }

    private static string? CheckValue(Type type, string? value)
    {
        if (value is null || value.Contains("${", StringComparison.Ordinal))
        {
            return null;
        }
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsEnum)
        {
            return Enum.TryParse(target, value, ignoreCase: true, out _) && !int.TryParse(value, out _)
                ? null
                : $"must be one of {string.Join(", ", Enum.GetNames(target))}";
        }
        try
        {
            TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException || e.InnerException is FormatException)
        {
            return $"is not a valid {target.Name}";
        }
    }

    /// <summary>
    /// <c>Section:Property[:Sub...]</c> of every settable property of every options class with a <c>Section</c>
    /// constant (a collection element is <c>:#</c>), mapped to the property's type. A static class with a Section
    /// names a section bound to a library type; <see cref="TrainingDefaultsOptions"/> binds <see cref="TrainingOptions"/>.
    /// </summary>
    private static Dictionary<string, Type> KnownKeys()
    {
        var keys = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (Type type in typeof(ArtifactsOptions).Assembly.GetTypes())
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field)
            {
                continue;
            }
            string section = (string)field.GetRawConstantValue()!;
            Type bound = type.IsAbstract && type.IsSealed
                ? type == typeof(TrainingDefaultsOptions) ? typeof(TrainingOptions) : throw new InvalidOperationException($"Which type does static {type.Name} bind? Add it here.")
                : type;
            AddProperties(keys, section, bound, depth: 0);
        }
        return keys;
    }

    private static void AddProperties(Dictionary<string, Type> keys, string prefix, Type type, int depth)
    {
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            bool settable = property.SetMethod is { IsPublic: true };
            Type t = property.PropertyType;
            Type? element = t == typeof(string) ? null
                : t.IsArray ? t.GetElementType()
                : t.IsGenericType && typeof(IEnumerable).IsAssignableFrom(t) ? t.GetGenericArguments()[^1] : null;
            string key = $"{prefix}:{property.Name}";
            if (element is not null && settable)
            {
                AddValue(keys, key + ":#", element, depth);
            }
            else if (settable || (IsComplex(t) && depth < 4))
            {
                AddValue(keys, key, t, depth);
            }
        }
    }

    private static void AddValue(Dictionary<string, Type> keys, string key, Type type, int depth)
    {
        if (IsComplex(type) && depth < 4)
        {
            AddProperties(keys, key, type, depth + 1);
        }
        else
        {
            keys[key] = type;
        }
    }

    private static bool IsComplex(Type t) =>
        t.IsClass && t != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(t) && t.Namespace?.StartsWith("RankService", StringComparison.Ordinal) == true;

    // ---------- reading the files ----------

    private static List<(string Where, string Name, string? Value)> ComposeSettings()
    {
        var settings = new List<(string, string, string?)>();
        foreach ((string name, object service) in ComposeServices())
        {
            if (!UsesOurImage(service))
            {
                continue;
            }
            settings.AddRange(Environment(service).Select(p => ($"docker-compose.yml {name}", p.Key, (string?)p.Value)));
        }
        return settings;
    }

    /// <summary>Every NAME=value of the Dockerfile's ENV instructions (continuation lines included).</summary>
    private static List<(string Where, string Name, string? Value)> DockerfileSettings()
    {
        var settings = new List<(string, string, string?)>();
        bool inEnv = false;
        foreach (string line in File.ReadAllLines(System.IO.Path.Combine(Root, "Dockerfile")))
        {
            inEnv = inEnv || line.StartsWith("ENV ", StringComparison.Ordinal);
            if (inEnv)
            {
                settings.AddRange(EnvPairPattern().Matches(line).Select(m => ("Dockerfile", m.Groups[1].Value, (string?)m.Groups[2].Value)));
                inEnv = line.TrimEnd().EndsWith('\\');
            }
        }
        return settings;
    }

    private static List<(string Where, string Name, string? Value)> EnvExampleSettings() =>
        File.ReadAllLines(System.IO.Path.Combine(Root, ".env.example"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => (".env.example", l[..l.IndexOf('=', StringComparison.Ordinal)], (string?)l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .ToList();

    private static List<(string Where, string Name, string? Value)> KubernetesSettings()
    {
        var settings = new List<(string, string, string?)>();
        foreach (Dictionary<string, object> doc in KubernetesDocuments())
        {
            string kind = Scalar(doc["kind"]);
            string name = Scalar(Path(doc, "metadata", "name"));
            if (kind == "ConfigMap" && name == SettingsConfigMap) // other ConfigMaps hold files (the Prometheus config)
            {
                settings.AddRange(Map(doc["data"]).Select(p => ($"ConfigMap {name}", p.Key, (string?)Scalar(p.Value))));
            }
            else if (kind == "Secret")
            {
                settings.AddRange(Map(doc["stringData"]).Select(p => ($"Secret {name}", p.Key, (string?)Scalar(p.Value))));
            }
            else if (kind == "Deployment" && Scalar(Container(doc)["image"]).StartsWith("rankservice", StringComparison.Ordinal))
            {
                settings.AddRange(EnvList(Container(doc)).Select(p => ($"Deployment {name}", p.Key, (string?)p.Value)));
            }
        }
        return settings;
    }

    private static bool UsesOurImage(object service) =>
        Map(service).TryGetValue("image", out object? image) && Scalar(image).StartsWith("rankservice", StringComparison.Ordinal);

    private static Dictionary<string, object> ComposeServices()
    {
        using var reader = new StringReader(File.ReadAllText(System.IO.Path.Combine(Root, "docker-compose.yml")));
        object compose = new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(reader)))!;
        return Map(Map(compose)["services"]);
    }

    private static List<Dictionary<string, object>> KubernetesDocuments()
    {
        var docs = new List<Dictionary<string, object>>();
        IDeserializer yaml = new DeserializerBuilder().Build();
        foreach (string file in Directory.GetFiles(System.IO.Path.Combine(Root, "deploy"), "*.yaml").Order(StringComparer.Ordinal))
        {
            using var reader = new StringReader(File.ReadAllText(file));
            var parser = new Parser(reader);
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                if (yaml.Deserialize<object>(parser) is { } doc && Map(doc).ContainsKey("kind") && Scalar(Map(doc)["kind"]) != "Kustomization")
                {
                    docs.Add(Map(doc));
                }
            }
        }
        Assert.NotEmpty(docs);
        return docs;
    }

    private static Dictionary<string, object> Deployment(List<Dictionary<string, object>> docs, string name) =>
        docs.Single(d => Scalar(d["kind"]) == "Deployment" && Scalar(Path(d, "metadata", "name")) == name);

    private static Dictionary<string, object> Container(Dictionary<string, object> deployment) =>
        Map(List(Path(deployment, "spec", "template", "spec", "containers")).Single());

    private static Dictionary<string, string> Environment(object service) =>
        Map(service).TryGetValue("environment", out object? env)
            ? Map(env).ToDictionary(p => p.Key, p => Scalar(p.Value), StringComparer.Ordinal)
            : [];

    private static Dictionary<string, string> EnvList(Dictionary<string, object> container) =>
        container.TryGetValue("env", out object? env)
            ? List(env).Select(Map).ToDictionary(e => Scalar(e["name"]), e => e.TryGetValue("value", out object? v) ? Scalar(v) : "", StringComparer.Ordinal)
            : [];

    private static object Path(object node, params string[] keys) => keys.Aggregate(node, (n, k) => Map(n)[k]);

    private static Dictionary<string, object> Map(object? node) => node switch
    {
        Dictionary<string, object> done => done,
        IDictionary<object, object> d => d.ToDictionary(p => Scalar(p.Key), p => p.Value, StringComparer.Ordinal),
        _ => throw new InvalidDataException($"expected a YAML mapping, got {node?.GetType().Name ?? "null"}"),
    };

    private static List<object> List(object? node) => node is IList<object> l ? [.. l] : throw new InvalidDataException($"expected a YAML sequence, got {node?.GetType().Name ?? "null"}");

    private static string Scalar(object? node) => node as string ?? throw new InvalidDataException($"expected a YAML scalar, got {node?.GetType().Name ?? "null"}");

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "RankService.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("RankService.sln not found above the test output folder.");
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=([^\s\\]+)")]
    private static partial Regex EnvPairPattern();

    [GeneratedRegex(@"^EXPOSE\s+(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ExposePattern();

    [GeneratedRegex(@"^VOLUME\s+\[.*\]\s*$", RegexOptions.Multiline)]
    private static partial Regex VolumePattern();

    [GeneratedRegex(@"Artifacts__Root=(\S+)")]
    private static partial Regex ArtifactsPattern();

    [GeneratedRegex(@"https?://[^/\s:]+(?::\d+)?(/[^\s""']*)")]
    private static partial Regex UrlPathPattern();

    [GeneratedRegex(@":\d+(?=:|$)")]
    private static partial Regex IndexPattern();
}
