using System.Text.Json.Serialization;
using TorchSharp;

namespace RankService.Ranking.Training;

/// <summary>Where a run trains: <c>auto</c> (CUDA when available), <c>cpu</c> or <c>cuda</c>.</summary>
[JsonConverter(typeof(WireNameJsonConverter<TrainingDevice>))]
public enum TrainingDevice
{
    [JsonStringEnumMemberName("auto")] Auto,
    [JsonStringEnumMemberName("cpu")] Cpu,
    [JsonStringEnumMemberName("cuda")] Cuda,
}

/// <summary>Resolves a <see cref="TrainingDevice"/> to a torch device.</summary>
public static class DeviceSelector
{
    public static torch.Device Resolve(TrainingDevice device) => device switch
    {
        TrainingDevice.Cpu => torch.CPU,
        TrainingDevice.Cuda when torch.cuda.is_available() => torch.CUDA,
        TrainingDevice.Cuda => throw new InvalidOperationException(
            "Device 'cuda' was asked for but CUDA is not available: build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, or use device 'auto' or 'cpu'."),
        TrainingDevice.Auto => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentException($"Unknown device '{WireNames.Name(device)}'. Use auto, cpu or cuda.", nameof(device)),
    };
}
