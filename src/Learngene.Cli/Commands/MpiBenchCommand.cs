using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Learngene.Bench;
using Learngene.Distributed;
using Learngene.IO;
using Learngene.Models;

namespace Learngene.Cli;

/// <summary><c>bench mpi</c>: data-parallel scaling on this machine. It starts one MPI job per rank count
/// (<c>mpirun -np R … bench mpi --job</c>), each measuring training images/s with the same global batch and
/// all-reduce over a range of sizes, then prints the tables and a paper estimate for 8 and 64 GPUs.</summary>
static class MpiBenchCommand
{
    sealed record JobResult(List<MpiBench.Training> Training, List<MpiBench.AllReduce> AllReduce);

    static readonly long[] Sizes = [4L << 10, 64L << 10, 1L << 20, 4L << 20, 16L << 20, 64L << 20];

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Folder for mpi.json (default: runs/bench-mpi)" };
        var ranks = new Option<string>("--ranks") { Description = "Comma-separated rank counts, one MPI job each", DefaultValueFactory = _ => "1,2" };
        var model = new Option<string>("--models") { Description = "Comma-separated classifier presets trained (gradients of different sizes)", DefaultValueFactory = _ => "vit-cpu,deit-ti-32" };
        var batch = new Option<int>("--batch") { Description = "Global batch (shared by the ranks)", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 20 };
        var job = new Option<string?>("--job") { Description = "Internal: measure inside the current MPI job and write this JSON file", Hidden = true };
        var cmd = new Command("mpi", "Data-parallel scaling on MPI: training images/s for each rank count (same global batch, all cores shared out), the all-reduce time per step against the gradient's size, all-reduce latency and bandwidth, and a paper estimate for 8 and 64 GPUs.");
        foreach (var o in new Option[] { output, ranks, model, batch, steps, job }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetValue(steps) < 1 || r.GetValue(batch) < 1) throw new LearngeneException("--steps and --batch must be at least 1");
            var presets = r.GetValue(model)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ModelPresets.Registry.Find).ToList();
            if (presets.FirstOrDefault(p => p.Config is not (VitConfig or ResNetConfig)) is { } notClassifier)
                throw new LearngeneException($"{notClassifier.Name} is not a classifier preset", setting: "models");
            if (r.GetValue(job) is string jobFile) return Job(jobFile, presets, r.GetValue(batch), r.GetValue(steps));

            var counts = Learngene.Experiments.DepthList.Parse(r.GetValue(ranks)!);
            if (counts.Any(c => c < 1)) throw new LearngeneException("--ranks must be positive");
            string dir = r.GetValue(output) ?? Path.Combine("runs", "bench-mpi");
            Directory.CreateDirectory(dir);
            var results = new List<JobResult>();
            foreach (int n in counts)
            {
                Console.WriteLine($"{n} rank{(n > 1 ? "s" : "")}: {r.GetValue(model)}, global batch {r.GetValue(batch)}, {r.GetValue(steps)} steps…");
                results.Add(RunJob(n, Path.GetFullPath(Path.Combine(dir, $"job-{n}.json")), r.GetValue(model)!, r.GetValue(batch), r.GetValue(steps)));
            }
            Print(results, OnnxBench.CpuName());
            AtomicFile.WriteAllText(Path.Combine(dir, "mpi.json"), JsonSerializer.Serialize(new { cpu = OnnxBench.CpuName(), cores = Environment.ProcessorCount, date = DateTime.UtcNow, results }, ModelConfig.Json));
            Console.WriteLine($"written: {Path.Combine(dir, "mpi.json")}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Inside the MPI job: every rank measures; rank 0 writes.</summary>
    static int Job(string file, List<ModelPresets.Preset> presets, int batch, int steps)
    {
        // The machine's cores shared out among the ranks on it (1 rank: all of them).
        TorchSharp.torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / Math.Max(1, World.LocalRanks())));
        var world = World.Current;
        var training = presets.Select(p => MpiBench.Train(world, p.Name, p.Config.Validate(), batch, steps)).ToList();
        var allReduce = world.IsDistributed ? MpiBench.AllReduceTimes(world, Sizes) : [];
        if (world.IsRoot) AtomicFile.WriteAllText(file, JsonSerializer.Serialize(new JobResult(training, allReduce), ModelConfig.Json));
        return 0;
    }

    static JobResult RunJob(int ranks, string file, string model, int batch, int steps)
    {
        // The same program, started by mpirun: this CLI's own assembly through the same dotnet.
        var psi = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true };
        // --bind-to none: Open MPI pins each rank to one core by default, which would leave one rank one core of many.
        foreach (var a in new[] { "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(), Environment.ProcessPath!, typeof(MpiBenchCommand).Assembly.Location,
                                  "bench", "mpi", "--job", file, "--models", model, "--batch", batch.ToString(), "--steps", steps.ToString() })
            psi.ArgumentList.Add(a);
        // Open MPI refuses root unless told (containers and CI run as root).
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { throw new LearngeneException("mpirun was not found: install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev)"); }
        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0 || !File.Exists(file))
                throw new LearngeneException($"the {ranks}-rank job failed (exit {p.ExitCode}): {err.Result.Split('\n').FirstOrDefault(l => l.StartsWith("error:")) ?? err.Result.Trim().Split('\n').LastOrDefault()}");
        }
        return JsonSerializer.Deserialize<JobResult>(File.ReadAllText(file), ModelConfig.Json)!;
    }

    static void Print(List<JobResult> results, string cpu)
    {
        Console.WriteLine();
        Console.WriteLine($"CPU: {cpu}, {Environment.ProcessorCount} cores shared out among the ranks");
        Console.WriteLine("| ranks | threads/rank | model | global batch | gradient MB | train img/s | vs 1 rank | step ms | waiting for the slowest rank ms/step | gradient all-reduce ms/step (flatten, reduce, copy back) | its share of the step |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var all = results.SelectMany(x => x.Training).OrderBy(t => t.GradientBytes).ThenBy(t => t.Ranks).ToList();
        foreach (var t in all)
        {
            double? one = all.FirstOrDefault(x => x.Ranks == 1 && x.Model == t.Model)?.ImagesPerSecond;
            Console.WriteLine($"| {t.Ranks} | {t.ThreadsPerRank} | {t.Model} | {t.GlobalBatch} | {t.GradientBytes / 1e6:F2} | {t.ImagesPerSecond:F0} | {(one is { } o ? $"{t.ImagesPerSecond / o:F2}×" : "–")} | " +
                              $"{t.StepSeconds * 1e3:F1} | {t.WaitSecondsPerStep * 1e3:F2} | {t.AllReduceSecondsPerStep * 1e3:F2} | {t.AllReduceSecondsPerStep / t.StepSeconds:P1} |");
        }
        foreach (var x in results.Where(x => x.AllReduce.Count > 0))
        {
            var (latency, peak) = MpiBench.Summary(x.AllReduce);
            Console.WriteLine();
            Console.WriteLine($"All-reduce, {x.Training[0].Ranks} ranks (sum of float32 in place): {latency * 1e6:F1} µs for {x.AllReduce.Min(a => a.Bytes):N0} bytes, peak {peak / 1e9:F2} GB/s");
            Console.WriteLine("| bytes | ms | GB/s |");
            Console.WriteLine("|---|---|---|");
            foreach (var a in x.AllReduce) Console.WriteLine($"| {a.Bytes:N0} | {a.Seconds * 1e3:F3} | {a.GigabytesPerSecond:F2} |");
        }
        var hw = ScalingEstimate.Hardware.A100;
        Console.WriteLine();
        Console.WriteLine($"Paper estimate (not measured): {hw.Name}; {hw.EffectiveFlops / 1e12:F0} TFLOP/s effective, all-reduce bandwidth {hw.IntraNodeBytesPerSecond / 1e9:F0} GB/s in a node, {hw.InterNodeBytesPerSecond / 1e9:F0} GB/s between nodes, {hw.LatencySeconds * 1e6:F0} µs per hop");
        Console.WriteLine("| model | parameters | GMACs/img | GPUs | batch/GPU | compute ms | all-reduce ms | efficiency | img/s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, batch) in new[] { ("deit-b", 128), ("dit-l-2", 32) })
        {
            // DiT-L/2 as the DiT paper trains it on ImageNet 256: 32×32×4 latents, 1000 classes.
            var config = ModelPresets.Registry.Find(name).Config is DitConfig dit ? dit with { ImageSize = 32, Channels = 4, Classes = 1000 } : ModelPresets.Registry.Find(name).Config;
            config = config.Validate();
            var (parameters, macs) = Size(config);
            foreach (int gpus in new[] { 1, 8, 64 })
            {
                var e = ScalingEstimate.For(name, parameters, macs, gpus, batch, hw);
                Console.WriteLine($"| {name} | {parameters / 1e6:F1} M | {macs / 1e9:F1} | {gpus} | {batch} | {e.ComputeSeconds * 1e3:F1} | {e.AllReduceSeconds * 1e3:F1} | {e.Efficiency:P0} | {e.ImagesPerSecond:F0} |");
            }
        }
    }

    /// <summary>Parameters and MACs per image of a model, built (on the meta device's cost: a few seconds).</summary>
    static (long Parameters, long Macs) Size(ModelConfig config)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var model = ModelFamilies.Registry.Find(config.Family).Build(config);
        var info = (IModel)model;
        return (model.parameters().Sum(p => p.numel()), info.MacsPerImage());
    }
}
