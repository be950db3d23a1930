using TorchSharp;

namespace RankService.Ranking.Training;

/// <summary>Resolves <c>auto|cpu|cuda</c> to a torch device.</summary>
public static class DeviceSelector
{
    public static torch.Device Resolve(string device) => device switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new InvalidOperationException(
            "Device 'cuda' was asked for but CUDA is not available: build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, or use device 'auto' or 'cpu'."),
        "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentException($"Unknown device '{device}'. Use auto, cpu or cuda.", nameof(device)),
    };
}
