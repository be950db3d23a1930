using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RankService.Benchmarks;

// Tools behind bench/*.sh first; anything else goes to BenchmarkDotNet (e.g. `--filter '*'`, `--list flat`).
// Kernels run in process: an out-of-process run would build and copy the 0.5 GB of libtorch natives again.
return args.FirstOrDefault() switch
{
    "synth" => Tools.Synth(args[1..]),
    "load" => Tools.Load(args[1..]),
    "epoch" => Tools.Epoch(args[1..]),
    "eval" => Tools.Eval(args[1..]),
    "gc-stress" => Tools.GcStress(args[1..]),
    "fold-in" => Tools.FoldIn(args[1..]),
    _ => Run(args),
};

static int Run(string[] args)
{
    IConfig config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    BenchmarkSwitcher.FromAssembly(typeof(Tools).Assembly).Run(args, config);
    return 0;
}
